/*
 * test/go/test_chan_progs.c -- ports of Go 1.19's test/chan programs:
 * sieve1, fifo, goroutines, zerosize, sendstmt, select, select2, select4,
 * select6, select7, select8 and doubleselect, keeping their checks (a Go
 * panic("fail") becomes a GT_CHECK failure).
 * Not ported: perm.go (compile-time channel direction errors) and
 * select5.go (generates Go source for the compiler).
 */
#include "helpers.h"
#include "chan_helpers.h"

typedef int64_t gint;   /* Go's int */

static chan_t *mk(size_t cap) { return chan_make(sizeof(gint), cap); }
static void snd(chan_t *c, gint v) { chan_send(c, &v); }
static gint rcv(chan_t *c) { gint v = 0; chan_recv(c, &v); return v; }

/* ------------------------------------------------------------------ */
/* sieve1.go                                                           */
/* ------------------------------------------------------------------ */

static void generate(void *arg)
{
    chan_t *ch = arg;
    for (gint i = 2;; i++)
        snd(ch, i);
}

typedef struct { chan_t *in, *out; gint prime; } filter_t;

static void filter(void *arg)
{
    filter_t f = *(filter_t *)arg;
    gint i;
    while (chan_recv2(f.in, &i))
        if (i % f.prime != 0)
            snd(f.out, i);
}

static void sieve(void *arg)
{
    chan_t *primes = arg;
    chan_t *ch = mk(0);
    go(generate, ch);
    for (;;) {
        gint prime = rcv(ch);
        snd(primes, prime);
        chan_t *ch1 = mk(0);
        filter_t *f = GT_NEW(filter_t, ch, ch1, prime);
        go(filter, f);
        ch = ch1;
    }
}

static int main_sieve1(int argc, char **argv)
{
    static const gint a[] = {2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41,
                             43, 47, 53, 59, 61, 67, 71, 73, 79, 83, 89, 97};
    chan_t *primes = mk(0);
    go(sieve, primes);
    for (size_t i = 0; i < sizeof a / sizeof a[0]; i++) {
        gint x = rcv(primes);
        GT_CHECK(x == a[i], "%ld != %ld", (long)x, (long)a[i]);
    }
    return 0;
}

Test(go_chan, sieve1) { gt_run(main_sieve1); }

/* ------------------------------------------------------------------ */
/* fifo.go                                                             */
/* ------------------------------------------------------------------ */

#define FIFO_N 10

typedef struct { chan_t *ch; gint val; chan_t *in, *out; } chain_t;

static void chain(void *arg)
{
    chain_t *c = arg;
    rcv(c->in);
    gint v = rcv(c->ch);
    GT_CHECK(v == c->val, "panic(%ld)", (long)c->val);
    snd(c->out, 1);
}

static int main_fifo(int argc, char **argv)
{
    /* AsynchFifo */
    chan_t *ch = mk(FIFO_N);
    for (gint i = 0; i < FIFO_N; i++)
        snd(ch, i);
    for (gint i = 0; i < FIFO_N; i++)
        GT_CHECK(rcv(ch) == i, "bad receive");
    /* SynchFifo */
    ch = mk(0);
    chan_t *in = mk(0), *start = in;
    for (gint i = 0; i < FIFO_N; i++) {
        chan_t *out = mk(0);
        chain_t *c = GT_NEW(chain_t, ch, i, in, out);
        go(chain, c);
        in = out;
    }
    snd(start, 0);
    for (gint i = 0; i < FIFO_N; i++)
        snd(ch, i);
    rcv(in);
    return 0;
}

Test(go_chan, fifo) { gt_run(main_fifo); }

/* ------------------------------------------------------------------ */
/* goroutines.go: a chain of 10,000 goroutines                         */
/* ------------------------------------------------------------------ */

typedef struct { chan_t *left, *right; } lr_t;

static void lr_f(void *arg)
{
    lr_t *p = arg;
    snd(p->left, rcv(p->right));
}

static void send_one(void *arg) { snd(arg, 1); }

static int main_goroutines(int argc, char **argv)
{
    int n = 10000;
    chan_t *leftmost = mk(0), *right = leftmost, *left = leftmost;
    for (int i = 0; i < n; i++) {
        right = mk(0);
        lr_t *p = GT_NEW(lr_t, left, right);
        go(lr_f, p);
        left = right;
    }
    go(send_one, right);
    GT_CHECK(rcv(leftmost) == 1);
    return 0;
}

Test(go_chan, goroutines, .timeout = 30)
{
    GT_SKIP_UNDER("thread", "TSan counts each live goroutine as a thread, at most "
                  "8128 at once, and this test keeps more");
    gt_run(main_goroutines);
}

/* ------------------------------------------------------------------ */
/* zerosize.go                                                         */
/* ------------------------------------------------------------------ */

static int main_zerosize(int argc, char **argv)
{
    GT_CHECK(chan_make(0, 0) != NULL);   /* chan [0]byte */
    GT_CHECK(chan_make(0, 1) != NULL);
    GT_CHECK(chan_make(0, 0) != NULL);   /* chan struct{} */
    GT_CHECK(chan_make(0, 1) != NULL);
    return 0;
}

Test(go_chan, zerosize) { gt_run(main_zerosize); }

/* ------------------------------------------------------------------ */
/* sendstmt.go                                                         */
/* ------------------------------------------------------------------ */

static int main_sendstmt(int argc, char **argv)
{
    /* chanchan */
    chan_t *cc = chan_make(sizeof(chan_t *), 1);
    chan_t *c = mk(1);
    chan_send(cc, &c);
    chan_t *got = NULL;
    chan_recv(cc, &got);
    gint two = 2;
    select_case_t sc = {got, SELECT_SEND, &two, false};
    GT_CHECK(chan_select(&sc, 1, false) == 0, "nonblock");
    GT_CHECK(rcv(c) == 2, "bad receive");
    /* sendprec */
    chan_t *cb = chan_make(sizeof(bool), 1);
    bool t = false || true, r = false;
    chan_send(cb, &t);
    chan_recv(cb, &r);
    GT_CHECK(r, "sent false");
    return 0;
}

Test(go_chan, sendstmt) { gt_run(main_sendstmt); }

/* ------------------------------------------------------------------ */
/* select.go                                                           */
/* ------------------------------------------------------------------ */

static unsigned counter, shift;

static uint64_t get_value(void)
{
    counter++;
    return (uint64_t)1 << shift;
}

static int select_send(chan_t *a, chan_t *b)
{
    int i = 0;
    for (;;) {
        /* Go evaluates every send value before choosing. */
        uint64_t va = get_value(), vb = get_value();
        select_case_t cs[2] = {{a, SELECT_SEND, &va, false}, {b, SELECT_SEND, &vb, false}};
        int r = chan_select(cs, 2, false);
        if (r == 0) { i++; a = NULL; }
        else if (r == 1) { i++; b = NULL; }
        else break;
        shift++;
    }
    return i;
}

static int main_select(int argc, char **argv)
{
    chan_t *a = chan_make(sizeof(uint64_t), 1), *b = chan_make(sizeof(uint64_t), 1);
    int v = select_send(a, b);
    GT_CHECK(v == 2, "Send returned %d != 2", v);
    uint64_t av = 0, bv = 0;
    chan_recv(a, &av);
    chan_recv(b, &bv);
    GT_CHECK((av | bv) == 3, "bad values %lu %lu", (unsigned long)av, (unsigned long)bv);
    v = select_send(a, NULL);
    GT_CHECK(v == 1, "Send returned %d != 1", v);
    GT_CHECK(counter == 10, "counter is %u != 10", counter);
    return 0;
}

Test(go_chan, select) { gt_run(main_select); }

/* ------------------------------------------------------------------ */
/* select2.go: 100,000 selects do not grow the heap                    */
/* ------------------------------------------------------------------ */

typedef struct { chan_t *c; int n; } sender_t;

static void s2_sender(void *arg)
{
    sender_t *s = arg;
    for (int i = 0; i < s->n; i++)
        snd(s->c, 1);
}

static void s2_receiver(chan_t *c, chan_t *dummy, int n)
{
    for (int i = 0; i < n; i++) {
        select_case_t cs[2] = {{c, SELECT_RECV, NULL, false}, {dummy, SELECT_RECV, NULL, false}};
        int r = chan_select(cs, 2, true);
        GT_CHECK(r == 0, "dummy");
    }
}

static int main_select2(int argc, char **argv)
{
    chan_t *c = mk(0), *dummy = mk(0);
    sender_t s = {c, 100000};
    go(s2_sender, &s);
    s2_receiver(c, dummy, 100000);
    runtime_gc();
    runtime_mem_stats_t *ms = gc_alloc(sizeof *ms);
    runtime_read_mem_stats(ms);
    uint64_t alloc = ms->heap_alloc;
    go(s2_sender, &s);
    s2_receiver(c, dummy, 100000);
    runtime_gc();
    runtime_read_mem_stats(ms);
    GT_CHECK(!(ms->heap_alloc > alloc && ms->heap_alloc - alloc > 110000),
             "BUG: too much memory for 100,000 selects: %lu",
             (unsigned long)(ms->heap_alloc - alloc));
    return 0;
}

Test(go_chan, select2, .timeout = 30) { gt_run(main_select2); }

/* ------------------------------------------------------------------ */
/* select4.go: the receive target of a case that does not fire is not  */
/* touched                                                             */
/* ------------------------------------------------------------------ */

static int main_select4(int argc, char **argv)
{
    struct { gint a; } x = {0};
    gint never = 7;
    chan_t *c = mk(1), *c1 = mk(0);
    snd(c, 42);
    select_case_t cs[2] = {{c1, SELECT_RECV, &never, false}, {c, SELECT_RECV, &x.a, false}};
    int r = chan_select(cs, 2, true);
    GT_CHECK(r == 1 && x.a == 42, "BUG: %ld", (long)x.a);
    GT_CHECK(never == 7, "BUG: wrote the other case");
    return 0;
}

Test(go_chan, select4) { gt_run(main_select4); }

/* ------------------------------------------------------------------ */
/* select6.go: a select woken by one channel leaves no sudog behind on  */
/* the other (issue 2075)                                              */
/* ------------------------------------------------------------------ */

static chan_t *s6c1, *s6c2, *s6c3;

static void s6_a(void *arg) { rcv(s6c1); }
static void s6_b(void *arg)
{
    select_case_t cs[2] = {{s6c1, SELECT_RECV, NULL, false}, {s6c2, SELECT_RECV, NULL, false}};
    int r = chan_select(cs, 2, true);
    GT_CHECK(r == 1, "dummy");
    bool t = true;
    chan_send(s6c3, &t);
    rcv(s6c1);
}
static void s6_c(void *arg) { bool t = true; chan_send(s6c2, &t); }

static int main_select6(int argc, char **argv)
{
    GC_STORE(s6c1, chan_make(sizeof(gint), 0));
    GC_STORE(s6c2, chan_make(sizeof(bool), 0));
    GC_STORE(s6c3, chan_make(sizeof(bool), 0));
    go(s6_a, NULL);
    go(s6_b, NULL);
    go(s6_c, NULL);
    chan_recv(s6c3, NULL);
    snd(s6c1, 1);
    snd(s6c1, 1);
    return 0;
}

Test(go_chan, select6) { gt_run(main_select6); }

/* ------------------------------------------------------------------ */
/* select7.go: every combination of plain/select send and receive      */
/* ------------------------------------------------------------------ */

static void recv1(void *c) { rcv(c); }
static void recv2(void *c)
{
    select_case_t cs = {c, SELECT_RECV, NULL, false};
    chan_select(&cs, 1, true);
}
static void recv3(void *c)
{
    chan_t *c2 = mk(0);
    select_case_t cs[2] = {{c, SELECT_RECV, NULL, false}, {c2, SELECT_RECV, NULL, false}};
    GT_CHECK(chan_select(cs, 2, true) == 0);
}

static void send1(void (*recv)(void *))
{
    chan_t *c = mk(0);
    go(recv, c);
    runtime_gosched();
    snd(c, 1);
}
static void send2(void (*recv)(void *))
{
    chan_t *c = mk(0);
    go(recv, c);
    runtime_gosched();
    gint one = 1;
    select_case_t cs = {c, SELECT_SEND, &one, false};
    chan_select(&cs, 1, true);
}
static void send3(void (*recv)(void *))
{
    chan_t *c = mk(0);
    go(recv, c);
    runtime_gosched();
    chan_t *c2 = mk(0);
    gint one = 1;
    select_case_t cs[2] = {{c, SELECT_SEND, &one, false}, {c2, SELECT_SEND, &one, false}};
    GT_CHECK(chan_select(cs, 2, true) == 0);
}

static int main_select7(int argc, char **argv)
{
    void (*recvs[3])(void *) = {recv1, recv2, recv3};
    for (int r = 0; r < 3; r++) {
        send1(recvs[r]);
        send2(recvs[r]);
        send3(recvs[r]);
    }
    return 0;
}

Test(go_chan, select7) { gt_run(main_select7); }

/* ------------------------------------------------------------------ */
/* select8.go: break inside select cases                               */
/* ------------------------------------------------------------------ */

static chan_t *s8ch;
static void s8_sender(void *arg)
{
    for (;;)
        snd(s8ch, 5);
}

static int main_select8(int argc, char **argv)
{
    GC_STORE(s8ch, mk(0));
    go(s8_sender, NULL);
    gint v = 0;
    select_case_t c1 = {s8ch, SELECT_RECV, &v, false};
    GT_CHECK(chan_select(&c1, 1, true) == 0 && v == 5);
    GT_CHECK(chan_select(NULL, 0, false) == -1);
    /* case <-ch or default: either is allowed */
    int r = chan_select(&c1, 1, false);
    GT_CHECK(r == 0 || r == -1);
    gint ten = 10;
    select_case_t c3[2] = {{s8ch, SELECT_RECV, &v, false}, {s8ch, SELECT_SEND, &ten, false}};
    r = chan_select(c3, 2, false);
    GT_CHECK(r == 0 || r == -1, "unreachable: case ch <- 10");
    return 0;
}

Test(go_chan, select8) { gt_run(main_select8); }

/* ------------------------------------------------------------------ */
/* doubleselect.go: no value is delivered twice                        */
/* ------------------------------------------------------------------ */

#define DS_ITER 100000
static chan_t *ds_c[4], *ds_done, *ds_cmux;

static void ds_sender(void *arg)
{
    for (gint i = 0; i < DS_ITER; i++) {
        select_case_t cs[4];
        for (int k = 0; k < 4; k++)
            cs[k] = (select_case_t){ds_c[k], SELECT_SEND, &i, false};
        chan_select(cs, 4, true);
    }
    for (int k = 3; k >= 0; k--)       /* deferred closes run in reverse */
        chan_close(ds_c[k]);
}

static void ds_mux(void *arg)
{
    chan_t *in = arg;
    gint v;
    while (chan_recv2(in, &v))
        snd(ds_cmux, v);
    bool t = true;
    chan_send(ds_done, &t);
}

static void ds_closer(void *arg)
{
    for (int k = 0; k < 4; k++)
        chan_recv(ds_done, NULL);
    chan_close(ds_cmux);
}

static int main_doubleselect(int argc, char **argv)
{
    runtime_gomaxprocs(2);
    for (int k = 0; k < 4; k++)
        GC_STORE(ds_c[k], mk(0));
    GC_STORE(ds_done, chan_make(sizeof(bool), 0));
    GC_STORE(ds_cmux, mk(0));
    go(ds_sender, NULL);
    for (int k = 0; k < 4; k++)
        go(ds_mux, ds_c[k]);
    go(ds_closer, NULL);
    uint8_t *seen = calloc(DS_ITER, 1);
    gint v;
    int dups = 0, n = 0;
    while (chan_recv2(ds_cmux, &v)) {
        if (v < 0 || v >= DS_ITER || seen[v]) {
            if (dups++ < 5)
                fprintf(stderr, "got duplicate value: %ld\n", (long)v);
        } else {
            seen[v] = 1;
        }
        n++;
    }
    GT_CHECK(dups == 0, "fail");
    GT_CHECK(n == DS_ITER, "received %d", n);
    free(seen);
    return 0;
}

Test(go_chan, doubleselect, .timeout = 60) { gt_run(main_doubleselect); }
