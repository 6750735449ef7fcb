/*
 * test/test_chan.c -- channel semantics: unbuffered and buffered transfer
 * (order, len/cap), close (drain, ok=false and zeroed values, waking every
 * waiter), nil channels, zero-size and large elements, the exact panic
 * texts, Go's wait reasons of parked goroutines, the select statement
 * (default, closed cases, duplicates, many cases, fairness, also of the
 * two- and three-case forms), non-blocking use from a thread that is not
 * a goroutine, and pointers kept alive
 * inside a channel's buffer across a GC.
 */
#include <math.h>
#include <pthread.h>
#include <sched.h>

#include "helpers.h"
#include "../chan/internal.h"

/* ------------------------------------------------------------------ */
/* helpers                                                             */
/* ------------------------------------------------------------------ */

/* Waits (yielding) until gp is parked with reason; false after 15 s. */
static bool wait_parked(_Atomic(g_t *) *gpp, const char *reason)
{
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0;; i++) {
        clock_gettime(CLOCK_MONOTONIC, &t1);
        if (t1.tv_sec - t0.tv_sec >= 15)
            break;
        g_t *gp = atomic_load(gpp);
        if (gp && atomic_load(&gp->status) == G_WAITING && gp->waitreason &&
            strcmp(gp->waitreason, reason) == 0)
            return true;
        if (i > 1000)
            usleep(10);
        runtime_gosched();
    }
    g_t *gp = atomic_load(gpp);
    fprintf(stderr, "not parked with \"%s\": status %u reason \"%s\"\n", reason,
            gp ? atomic_load(&gp->status) : 99u,
            gp && gp->waitreason ? gp->waitreason : "(null)");
    return false;
}

/* ------------------------------------------------------------------ */
/* unbuffered and buffered transfer                                    */
/* ------------------------------------------------------------------ */

#define NVALS 10000

typedef struct { chan_t *c, *done; } pair_t;

static void producer(void *arg)
{
    pair_t *p = arg;
    for (int64_t i = 0; i < NVALS; i++)
        chan_send(p->c, &i);
    chan_close(p->c);
}

static void consumer_check(chan_t *c)
{
    int64_t v, want = 0;
    while (chan_recv2(c, &v)) {
        GT_CHECK(v == want, "got %ld want %ld", (long)v, (long)want);
        want++;
    }
    GT_CHECK(want == NVALS, "received %ld values", (long)want);
    GT_CHECK(v == 0, "closed receive left %ld", (long)v);
}

static int main_unbuffered(int argc, char **argv)
{
    pair_t p = {chan_make(sizeof(int64_t), 0), NULL};
    GT_CHECK(chan_cap(p.c) == 0 && chan_len(p.c) == 0);
    go(producer, &p);
    consumer_check(p.c);
    return 0;
}

Test(chan, unbuffered_order) { gt_run(main_unbuffered); }

static int main_buffered(int argc, char **argv)
{
    chan_t *c = chan_make(sizeof(int64_t), 16);
    GT_CHECK(chan_cap(c) == 16);
    for (int64_t i = 0; i < 16; i++) {
        chan_send(c, &i);
        GT_CHECK(chan_len(c) == (size_t)i + 1);
    }
    int64_t x = 99;
    select_case_t sc = {c, SELECT_SEND, &x, false};
    GT_CHECK(chan_select(&sc, 1, false) == -1, "send to full channel proceeded");
    for (int64_t i = 0; i < 16; i++) {
        int64_t v = -1;
        chan_recv(c, &v);
        GT_CHECK(v == i);
    }
    GT_CHECK(chan_len(c) == 0);
    pair_t p = {c, NULL};
    go(producer, &p);
    consumer_check(c);
    return 0;
}

Test(chan, buffered_order_len_cap) { gt_run(main_buffered); }

static int main_buffered_p2(int argc, char **argv)
{
    runtime_gomaxprocs(2);
    for (size_t cap = 0; cap <= 3; cap++) {
        pair_t p = {chan_make(sizeof(int64_t), cap), NULL};
        go(producer, &p);
        consumer_check(p.c);
    }
    return 0;
}

Test(chan, transfer_gomaxprocs2) { gt_run(main_buffered_p2); }

/* ------------------------------------------------------------------ */
/* close                                                               */
/* ------------------------------------------------------------------ */

static int main_close_drain(int argc, char **argv)
{
    chan_t *c = chan_make(sizeof(int32_t), 3);
    int32_t a = 7, b = 8;
    chan_send(c, &a);
    chan_send(c, &b);
    chan_close(c);
    int32_t v = 0;
    GT_CHECK(chan_recv2(c, &v) && v == 7);
    GT_CHECK(chan_recv2(c, &v) && v == 8);
    v = 55;
    GT_CHECK(!chan_recv2(c, &v) && v == 0);
    v = 55;
    chan_recv(c, &v);
    GT_CHECK(v == 0);
    chan_recv(c, NULL);
    /* non-blocking receive on closed channel proceeds with ok=false */
    v = 9;
    select_case_t sc = {c, SELECT_RECV, &v, true};
    GT_CHECK(chan_select(&sc, 1, false) == 0 && !sc.ok && v == 0);
    chan_t *u = chan_make(sizeof(int32_t), 0);
    chan_close(u);
    v = 3;
    GT_CHECK(!chan_recv2(u, &v) && v == 0);
    return 0;
}

Test(chan, close_drains_then_zero_false) { gt_run(main_close_drain); }

#define NWAITERS 50
static chan_t *wc, *wdone;

static void waiter_recv(void *arg)
{
    int64_t v = 123;
    bool ok = chan_recv2(wc, &v);
    int64_t r = (!ok && v == 0) ? 1 : 0;
    chan_send(wdone, &r);
}

static int main_close_wakes(int argc, char **argv)
{
    GC_STORE(wc, chan_make(sizeof(int64_t), 0));
    GC_STORE(wdone, chan_make(sizeof(int64_t), NWAITERS));
    for (int i = 0; i < NWAITERS; i++)
        go(waiter_recv, NULL);
    for (int i = 0; i < 100; i++)
        runtime_gosched();
    chan_close(wc);
    for (int i = 0; i < NWAITERS; i++) {
        int64_t r = 0;
        chan_recv(wdone, &r);
        GT_CHECK(r == 1);
    }
    return 0;
}

Test(chan, close_wakes_all_receivers) { gt_run(main_close_wakes); }

/* ------------------------------------------------------------------ */
/* panics (in a child process)                                         */
/* ------------------------------------------------------------------ */

static int main_send_closed(int argc, char **argv)
{
    chan_t *c = chan_make(sizeof(int), 1);
    chan_close(c);
    int x = 1;
    chan_send(c, &x);
    return 0;
}

static int main_close_closed(int argc, char **argv)
{
    chan_t *c = chan_make(sizeof(int), 0);
    chan_close(c);
    chan_close(c);
    return 0;
}

static int main_close_nil(int argc, char **argv)
{
    chan_close(NULL);
    return 0;
}

static int main_makechan_big(int argc, char **argv)
{
    chan_make(8, (size_t)1 << 62);
    return 0;
}

static int main_makechan_neg(int argc, char **argv)
{
    chan_make(1, (size_t)-1);
    return 0;
}

static chan_t *bsc;
static void blocked_sender(void *arg)
{
    int x = 5;
    chan_send(bsc, &x);
}

static int main_blocked_sender_close(int argc, char **argv)
{
    GC_STORE(bsc, chan_make(sizeof(int), 0));
    go(blocked_sender, NULL);
    for (int i = 0; i < 100; i++)
        runtime_gosched();
    chan_close(bsc);
    for (int i = 0; i < 100000; i++) {   /* up to 10 s: the panic ends it */
        runtime_gosched();
        usleep(100);
    }
    return 0;
}

static int main_select_send_closed(int argc, char **argv)
{
    chan_t *a = chan_make(sizeof(int), 0), *b = chan_make(sizeof(int), 0);
    chan_close(b);
    int x = 1;
    select_case_t cs[2] = {{a, SELECT_RECV, &x, false}, {b, SELECT_SEND, &x, false}};
    chan_select(cs, 2, true);
    return 0;
}

static void expect_panic(int (*fn)(int, char **), const char *text)
{
    char want[256];
    snprintf(want, sizeof want, "panic: %s", text);
    GT_EXPECT_EXIT(fn, NULL, 10000, 2, want);
}

Test(chan_panic, send_on_closed) { expect_panic(main_send_closed, "send on closed channel"); }
Test(chan_panic, close_of_closed) { expect_panic(main_close_closed, "close of closed channel"); }
Test(chan_panic, close_of_nil) { expect_panic(main_close_nil, "close of nil channel"); }
Test(chan_panic, makechan_too_big) { expect_panic(main_makechan_big, "makechan: size out of range"); }
Test(chan_panic, makechan_negative) { expect_panic(main_makechan_neg, "makechan: size out of range"); }
Test(chan_panic, blocked_sender_panics_on_close)
{
    expect_panic(main_blocked_sender_close, "send on closed channel");
}
Test(chan_panic, select_send_on_closed)
{
    expect_panic(main_select_send_closed, "send on closed channel");
}

/* ------------------------------------------------------------------ */
/* wait reasons                                                        */
/* ------------------------------------------------------------------ */

/* Set by the goroutine about to park, read by the one waiting for it to
 * park: atomic, as two goroutines on two threads share it. */
static _Atomic(g_t *) parked_g;
static chan_t *rc_chan;

static void park_recv(void *a) { atomic_store(&parked_g, sched__getg()); chan_recv(rc_chan, NULL); }
static void park_send(void *a) { int x = 0; atomic_store(&parked_g, sched__getg()); chan_send(rc_chan, &x); }
static void park_recv_nil(void *a) { atomic_store(&parked_g, sched__getg()); chan_recv(NULL, NULL); }
static void park_send_nil(void *a) { int x = 0; atomic_store(&parked_g, sched__getg()); chan_send(NULL, &x); }
static void park_select(void *a)
{
    atomic_store(&parked_g, sched__getg());
    select_case_t cs[2] = {{rc_chan, SELECT_RECV, NULL, false}, {NULL, SELECT_SEND, NULL, false}};
    chan_select(cs, 2, true);
}
static void park_select_nil(void *a)
{
    atomic_store(&parked_g, sched__getg());
    select_case_t cs[2] = {{NULL, SELECT_RECV, NULL, false}, {NULL, SELECT_SEND, NULL, false}};
    chan_select(cs, 2, true);
}
static void park_select_none(void *a) { atomic_store(&parked_g, sched__getg()); chan_select(NULL, 0, true); }

static int main_wait_reasons(int argc, char **argv)
{
    struct { void (*fn)(void *); const char *reason; } cases[] = {
        {park_recv, "chan receive"},
        {park_send, "chan send"},
        {park_recv_nil, "chan receive (nil chan)"},
        {park_send_nil, "chan send (nil chan)"},
        {park_select, "select"},
        {park_select_nil, "select"},
        {park_select_none, "select (no cases)"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        GC_STORE(rc_chan, chan_make(sizeof(int), 0));
        atomic_store(&parked_g, NULL);
        go(cases[i].fn, NULL);
        GT_CHECK(wait_parked(&parked_g, cases[i].reason), "case %zu", i);
    }
    return 0;
}

Test(chan, wait_reasons_as_go) { gt_run(main_wait_reasons); }

/* ------------------------------------------------------------------ */
/* nil channels, zero-size and large elements                          */
/* ------------------------------------------------------------------ */

static int main_nil(int argc, char **argv)
{
    GT_CHECK(chan_len(NULL) == 0 && chan_cap(NULL) == 0);
    int x = 0;
    select_case_t cs[2] = {{NULL, SELECT_SEND, &x, false}, {NULL, SELECT_RECV, &x, false}};
    GT_CHECK(chan_select(cs, 2, false) == -1);
    GT_CHECK(chan_select(cs, 1, false) == -1);
    GT_CHECK(chan_select(cs + 1, 1, false) == -1);
    GT_CHECK(chan_select(NULL, 0, false) == -1);
    /* a nil case next to a ready one never fires */
    chan_t *c = chan_make(sizeof(int), 1);
    chan_send(c, &x);
    select_case_t cs2[3] = {{NULL, SELECT_RECV, &x, false}, {c, SELECT_RECV, &x, false},
                            {NULL, SELECT_SEND, &x, false}};
    for (int i = 0; i < 20; i++) {
        GT_CHECK(chan_select(cs2, 3, true) == 1);
        chan_send(c, &x);
    }
    return 0;
}

Test(chan, nil_channels) { gt_run(main_nil); }

static chan_t *zc;
static void zsender(void *a)
{
    for (int i = 0; i < 1000; i++)
        chan_send(zc, NULL);
    chan_close(zc);
}

static int main_zero_size(int argc, char **argv)
{
    for (size_t cap = 0; cap <= 10; cap += 10) {
        GC_STORE(zc, chan_make(0, cap));
        go(zsender, NULL);
        int n = 0;
        while (chan_recv2(zc, NULL))
            n++;
        GT_CHECK(n == 1000, "cap %zu: %d", cap, n);
    }
    chan_t *z = chan_make(0, 5);
    for (int i = 0; i < 5; i++)
        chan_send(z, NULL);
    GT_CHECK(chan_len(z) == 5);
    return 0;
}

Test(chan, zero_size_elements) { gt_run(main_zero_size); }

typedef struct { uint8_t b[4000]; } big_t;
static chan_t *bigc;

static void big_sender(void *a)
{
    big_t v;
    for (int k = 0; k < 200; k++) {
        for (size_t i = 0; i < sizeof v.b; i++)
            v.b[i] = (uint8_t)(i * 7 + k);
        chan_send(bigc, &v);
    }
}

static int main_big(int argc, char **argv)
{
    for (size_t cap = 0; cap <= 3; cap += 3) {
        GC_STORE(bigc, chan_make(sizeof(big_t), cap));
        go(big_sender, NULL);
        big_t v;
        int bad = 0;
        for (int k = 0; k < 200; k++) {
            chan_recv(bigc, &v);
            for (size_t i = 0; i < sizeof v.b; i++)
                bad += v.b[i] != (uint8_t)(i * 7 + k);
        }
        GT_CHECK(bad == 0, "cap %zu: %d bad bytes", cap, bad);
    }
    return 0;
}

Test(chan, large_elements) { gt_run(main_big); }

/* ------------------------------------------------------------------ */
/* select                                                              */
/* ------------------------------------------------------------------ */

static int main_select_basic(int argc, char **argv)
{
    chan_t *a = chan_make(sizeof(int), 1), *b = chan_make(sizeof(int), 1);
    int va = 0, vb = 0, one = 1;
    select_case_t cs[2] = {{a, SELECT_RECV, &va, false}, {b, SELECT_RECV, &vb, false}};
    GT_CHECK(chan_select(cs, 2, false) == -1);
    chan_send(b, &one);
    GT_CHECK(chan_select(cs, 2, false) == 1 && vb == 1 && cs[1].ok);
    /* send case into a buffered channel */
    int two = 2;
    select_case_t ss[2] = {{a, SELECT_SEND, &two, false}, {b, SELECT_RECV, &vb, false}};
    GT_CHECK(chan_select(ss, 2, true) == 0);
    GT_CHECK(chan_select(ss, 2, false) == -1);
    GT_CHECK(chan_select(cs, 2, true) == 0 && va == 2);
    /* closed receive case */
    chan_close(b);
    vb = 42;
    GT_CHECK(chan_select(cs, 2, true) == 1 && !cs[1].ok && vb == 0);
    /* duplicate channel, both directions, buffered */
    chan_t *d = chan_make(sizeof(int), 1);
    int x = 5, y = 0;
    select_case_t dd[3] = {{d, SELECT_RECV, &y, false}, {d, SELECT_SEND, &x, false},
                           {d, SELECT_RECV, &y, false}};
    GT_CHECK(chan_select(dd, 3, true) == 1);
    int r = chan_select(dd, 3, true);
    GT_CHECK((r == 0 || r == 2) && y == 5);
    return 0;
}

Test(chan_select, basic) { gt_run(main_select_basic); }

/* A select that must park, woken by each kind of peer. */
static chan_t *sa, *sb;
static void sel_peer_send_b(void *arg)
{
    for (int i = 0; i < 50; i++)
        runtime_gosched();
    int v = 77;
    chan_send(sb, &v);
}
static void sel_peer_recv_a(void *arg)
{
    for (int i = 0; i < 50; i++)
        runtime_gosched();
    int v = 0;
    chan_recv(sa, &v);
    GT_CHECK(v == 31);
}
static void sel_peer_close_b(void *arg)
{
    for (int i = 0; i < 50; i++)
        runtime_gosched();
    chan_close(sb);
}

static int main_select_park(int argc, char **argv)
{
    for (int round = 0; round < 2; round++) {
        if (round)
            runtime_gomaxprocs(2);
        GC_STORE(sa, chan_make(sizeof(int), 0));
        GC_STORE(sb, chan_make(sizeof(int), 0));
        int out = 31, in = 0;
        select_case_t cs[2] = {{sa, SELECT_SEND, &out, false}, {sb, SELECT_RECV, &in, false}};
        go(sel_peer_send_b, NULL);
        GT_CHECK(chan_select(cs, 2, true) == 1 && in == 77 && cs[1].ok);
        go(sel_peer_recv_a, NULL);
        GT_CHECK(chan_select(cs, 2, true) == 0);
        go(sel_peer_close_b, NULL);
        in = 5;
        GT_CHECK(chan_select(cs, 2, true) == 1 && in == 0 && !cs[1].ok);
        /* after a select wakes, its other sudogs are gone: a plain
         * exchange on sa still works both ways */
        go(sel_peer_recv_a, NULL);
        chan_send(sa, &out);
    }
    return 0;
}

Test(chan_select, parks_and_wakes) { gt_run(main_select_park); }

#define MANY 200
static chan_t *many[MANY];
static void many_sender(void *arg)
{
    int i = (int)(intptr_t)arg;
    chan_send(many[i], &i);
}

static int main_select_many(int argc, char **argv)
{
    static select_case_t cs[MANY];
    static int vals[MANY];
    for (int i = 0; i < MANY; i++) {
        GC_STORE(many[i], chan_make(sizeof(int), 0));
        cs[i] = (select_case_t){many[i], SELECT_RECV, &vals[i], false};
    }
    GT_CHECK(chan_select(cs, MANY, false) == -1);
    static bool seen[MANY];
    for (int k = 0; k < MANY; k++)
        go(many_sender, (void *)(intptr_t)((k * 37) % MANY));
    for (int k = 0; k < MANY; k++) {
        int r = chan_select(cs, MANY, true);
        GT_CHECK(r >= 0 && r < MANY && vals[r] == r && !seen[r], "r=%d", r);
        if (r >= 0 && r < MANY)
            seen[r] = true;
    }
    GT_CHECK(chan_select(cs, MANY, false) == -1);
    return 0;
}

Test(chan_select, two_hundred_cases) { gt_run(main_select_many); }

/* TestSelectFairness: each ready case is chosen roughly equally. */
static int main_fairness(int argc, char **argv)
{
    enum { TRIALS = 10000 };
    chan_t *c1 = chan_make(1, TRIALS + 1), *c2 = chan_make(1, TRIALS + 1);
    for (int i = 0; i < TRIALS + 1; i++) {
        uint8_t a = 1, b = 2;
        chan_send(c1, &a);
        chan_send(c2, &b);
    }
    chan_t *c3 = chan_make(1, 0), *c4 = chan_make(1, 0);
    chan_t *out = chan_make(1, 0);
    int cnt1 = 0, cnt2 = 0;
    for (int i = 0; i < TRIALS; i++) {
        uint8_t b = 0, o = 0;
        select_case_t cs[5] = {{c3, SELECT_RECV, &b, false}, {c4, SELECT_RECV, &b, false},
                               {c1, SELECT_RECV, &b, false}, {out, SELECT_SEND, &o, false},
                               {c2, SELECT_RECV, &b, false}};
        int r = chan_select(cs, 5, true);
        GT_CHECK(r == 2 || r == 4);
        if (b == 1) cnt1++;
        else if (b == 2) cnt2++;
    }
    /* as Go: more than 10 sigma from the mean is unfair */
    double n = TRIALS, r = 0.5;
    double d = 10 * sqrt(n * r * (1 - r));
    GT_CHECK(cnt1 + cnt2 == TRIALS);
    GT_CHECK(fabs((double)cnt1 - n * r) <= d, "unfair: %d vs %d", cnt1, cnt2);
    return 0;
}

Test(chan_select, fairness) { gt_run(main_fairness); }

/* Selects of two and three cases (their own poll order): every ready
 * case is chosen about equally often, a nil case never. Configurations:
 * {c0, c1}; {c0, nil, c1}; {c0, c1, c2}. */
static int main_fairness_small(int argc, char **argv)
{
    enum { TRIALS = 9000 };
    for (int conf = 0; conf < 3; conf++) {
        int k = conf == 2 ? 3 : 2;
        chan_t *c[3];
        for (int j = 0; j < 3; j++) {
            c[j] = chan_make(1, TRIALS);
            for (int i = 0; i < TRIALS; i++) {
                uint8_t v = (uint8_t)j;
                chan_send(c[j], &v);
            }
        }
        int cnt[3] = {0, 0, 0};
        for (int i = 0; i < TRIALS; i++) {
            uint8_t b = 9;
            select_case_t two[2] = {{c[0], SELECT_RECV, &b, false}, {c[1], SELECT_RECV, &b, false}};
            select_case_t nil3[3] = {{c[0], SELECT_RECV, &b, false}, {NULL, SELECT_RECV, &b, false},
                                     {c[1], SELECT_RECV, &b, false}};
            select_case_t three[3] = {{c[0], SELECT_RECV, &b, false}, {c[1], SELECT_RECV, &b, false},
                                      {c[2], SELECT_RECV, &b, false}};
            int r = conf == 0 ? chan_select(two, 2, true)
                  : conf == 1 ? chan_select(nil3, 3, true) : chan_select(three, 3, true);
            GT_CHECK(r >= 0 && b < k && !(conf == 1 && r == 1), "case %d, value %d", r, b);
            cnt[b]++;
        }
        double n = TRIALS, p = 1.0 / k, d = 10 * sqrt(n * p * (1 - p));
        for (int j = 0; j < k; j++)
            GT_CHECK(fabs(cnt[j] - n * p) <= d, "conf %d: %d %d %d", conf, cnt[0], cnt[1], cnt[2]);
    }
    return 0;
}

Test(chan_select, fairness_small) { gt_run(main_fairness_small); }

/* ------------------------------------------------------------------ */
/* a thread that is not a goroutine                                    */
/* ------------------------------------------------------------------ */

static chan_t *fc;
static _Atomic int foreign_ok;

static void *foreign_thread(void *arg)
{
    int v = 11;
    select_case_t sc = {fc, SELECT_SEND, &v, false};
    int r1 = chan_select(&sc, 1, false);   /* buffer has room */
    int r2 = chan_select(&sc, 1, false);   /* full: default */
    atomic_store(&foreign_ok, r1 == 0 && r2 == -1 ? 1 : 2);
    return NULL;
}

static int main_foreign(int argc, char **argv)
{
    GC_STORE(fc, chan_make(sizeof(int), 1));
    gt_on_foreign_thread(foreign_thread, NULL);
    GT_CHECK(atomic_load(&foreign_ok) == 1);
    int v = 0;
    chan_recv(fc, &v);
    GT_CHECK(v == 11);
    return 0;
}

Test(chan, nonblocking_from_foreign_thread) { gt_run(main_foreign); }

static void *foreign_blocking(void *arg)
{
    chan_recv(fc, NULL);
    return NULL;
}

static int main_foreign_block(int argc, char **argv)
{
    GC_STORE(fc, chan_make(sizeof(int), 0));
    gt_on_foreign_thread(foreign_blocking, NULL);
    return 0;
}

Test(chan, blocking_from_foreign_thread_is_misuse)
{
    GT_EXPECT_EXIT(main_foreign_block, NULL, 10000, GT_NONZERO, "gort:");
}

/* ------------------------------------------------------------------ */
/* GC: values held only by a channel stay alive                        */
/* ------------------------------------------------------------------ */

static int main_gc_buffer(int argc, char **argv)
{
    enum { N = 64, SZ = 256 };
    chan_t *c = chan_make(sizeof(void *), N);
    for (int i = 0; i < N; i++) {
        uint32_t *p = gc_alloc(SZ);
        for (int k = 0; k < SZ / 4; k++)
            p[k] = (uint32_t)(i * 1000 + k);
        chan_send(c, &p);
    }
    for (int round = 0; round < 3; round++) {
        runtime_gc();
        for (int j = 0; j < 2000; j++)
            gc_alloc(SZ);              /* reuse freed memory, if any */
    }
    int bad = 0;
    for (int i = 0; i < N; i++) {
        uint32_t *p = NULL;
        chan_recv(c, &p);
        for (int k = 0; k < SZ / 4; k++)
            bad += p[k] != (uint32_t)(i * 1000 + k);
    }
    GT_CHECK(bad == 0, "%d corrupted words", bad);
    return 0;
}

Test(chan, gc_keeps_buffered_pointers) { gt_run(main_gc_buffer); }

/* Values carrying GC pointers go through unbuffered (direct copies into
 * the receiver's stack) and buffered channels while another goroutine
 * keeps collecting: every received object must still hold its pattern. */
#define GCS_N 100000
typedef struct { uint64_t id; uint64_t pat[15]; } obj_t;
static chan_t *gcs_c[2];
static _Atomic int gcs_stop;

static void gcs_producer(void *arg)
{
    chan_t *c = arg;
    for (uint64_t i = 0; i < GCS_N; i++) {
        obj_t *o = gc_alloc(sizeof *o);
        o->id = i;
        for (int k = 0; k < 15; k++)
            o->pat[k] = i * 31 + (uint64_t)k;
        gc_alloc(64);                   /* garbage between the live ones */
        chan_send(c, &o);
    }
    obj_t *end = NULL;
    chan_send(c, &end);
}

static void gcs_collector(void *arg)
{
    chan_t *done = arg;
    while (!atomic_load(&gcs_stop)) {
        runtime_gc();
        time_sleep(200 * TIME_MICROSECOND);
    }
    chan_send(done, NULL);
}

static int main_gc_stress(int argc, char **argv)
{
    runtime_gomaxprocs(2);
    runtime_mem_stats_t *ms = gc_alloc(sizeof *ms);
    runtime_read_mem_stats(ms);
    uint32_t gc0 = ms->num_gc;
    GC_STORE(gcs_c[0], chan_make(sizeof(obj_t *), 0));
    GC_STORE(gcs_c[1], chan_make(sizeof(obj_t *), 16));
    chan_t *done = chan_make(0, 1);
    go(gcs_collector, done);
    go(gcs_producer, gcs_c[0]);
    go(gcs_producer, gcs_c[1]);
    int bad = 0, open = 2;
    uint64_t next[2] = {0, 0};
    while (open > 0) {
        obj_t *o = NULL;
        select_case_t cs[2] = {{gcs_c[0], SELECT_RECV, &o, false},
                               {gcs_c[1], SELECT_RECV, &o, false}};
        int r = chan_select(cs, 2, true);
        if (o == NULL) {
            GC_STORE(gcs_c[r], NULL);  /* that producer is done */
            open--;
            continue;
        }
        bad += o->id != next[r]++;
        for (int k = 0; k < 15; k++)
            bad += o->pat[k] != o->id * 31 + (uint64_t)k;
    }
    atomic_store(&gcs_stop, 1);
    chan_recv(done, NULL);
    GT_CHECK(bad == 0, "%d corrupted or misordered objects", bad);
    GT_CHECK(next[0] == GCS_N && next[1] == GCS_N);
    runtime_read_mem_stats(ms);
    GT_CHECK(ms->num_gc - gc0 >= 3, "only %u GCs ran during the transfers", ms->num_gc - gc0);
    return 0;
}

Test(chan, gc_during_transfers, .timeout = 60) { gt_run(main_gc_stress); }

/* A thread that is not a goroutine feeds a buffered channel with
 * non-blocking sends (retrying when full) while a goroutine drains it:
 * the channel lock is contended between an M and a thread without one;
 * every value arrives once and in order. (Also exposes a scheduler
 * lost wake-up for Gs readied off any M: notes/sched-bugs.md, 23:00.) */
#define FEED_N 20000
static chan_t *feed_c;

static _Atomic int feed_started;

static void *feeder(void *arg)
{
    for (int64_t i = 0; i < FEED_N; i++) {
        select_case_t sc = {feed_c, SELECT_SEND, &i, false};
        while (chan_select(&sc, 1, false) != 0)
            sched_yield();
        atomic_store(&feed_started, 1);
    }
    return NULL;
}

static int main_foreign_feed(int argc, char **argv)
{
    runtime_gomaxprocs(2);
    GC_STORE(feed_c, chan_make(sizeof(int64_t), 64));
    pthread_t t;
    pthread_create(&t, NULL, feeder, NULL);
    /* Until the thread has used a channel, the runtime cannot know it will
     * (a goroutine blocked before that would be reported as a deadlock). */
    while (!atomic_load(&feed_started))
        runtime_gosched();
    int bad = 0;
    for (int64_t i = 0; i < FEED_N; i++) {
        int64_t v = -1;
        chan_recv(feed_c, &v);
        bad += v != i;
    }
    runtime_entersyscall();
    pthread_join(t, NULL);
    runtime_exitsyscall();
    GT_CHECK(bad == 0, "%d values out of order", bad);
    return 0;
}

Test(chan, foreign_thread_feeds_goroutine, .timeout = 30) { gt_run(main_foreign_feed); }
