/*
 * test/go/test_chan_sieve2.c -- port of Go 1.19's test/chan/sieve2.go: a
 * wheel-free prime sieve built from buffered channels, a heap of
 * "peekable" channels, and an unbounded proxy goroutine that selects
 * between receiving and (conditionally, through a nil channel) sending.
 * container/heap and container/ring are replaced by a binary heap and a
 * growing ring of ints.
 */
#include "helpers.h"
#include "chan_helpers.h"

typedef int64_t gint;

static chan_t *mk(size_t cap) { return chan_make(sizeof(gint), cap); }
static void snd(chan_t *c, gint v) { chan_send(c, &v); }
static gint rcv(chan_t *c) { gint v = 0; chan_recv(c, &v); return v; }

static void odds_fn(void *arg)
{
    chan_t *out = arg;
    for (gint n = 5;; n += 2)
        snd(out, n);
}

static chan_t *odds(void)
{
    chan_t *out = mk(50);
    go(odds_fn, out);
    return out;
}

typedef struct { chan_t *out; gint p; } mult_t;

static void multiples_fn(void *arg)
{
    mult_t *m = arg;
    for (gint n = m->p * m->p;; n += 2 * m->p)
        snd(m->out, n);
}

static chan_t *multiples(gint p)
{
    mult_t *m = GT_NEW(mult_t, mk(10), p);
    go(multiples_fn, m);
    return m->out;
}

/* PeekCh and a min-heap of them (GC memory: the heap holds pointers). */
typedef struct { gint head; chan_t *ch; } peekch_t;
typedef struct { peekch_t **a; int n, cap; } pheap_t;

static void heap_push(pheap_t *h, peekch_t *x)
{
    if (h->n == h->cap) {
        int ncap = h->cap ? h->cap * 2 : 16;
        peekch_t **na = gc_alloc(sizeof *na * (size_t)ncap);
        gc_memmove(na, h->a, sizeof *na * (size_t)h->n);
        gc_store(&h->a, na);
        h->cap = ncap;
    }
    int i = h->n++;
    while (i > 0 && h->a[(i - 1) / 2]->head > x->head) {
        gc_store(&h->a[i], h->a[(i - 1) / 2]);
        i = (i - 1) / 2;
    }
    gc_store(&h->a[i], x);
}

static peekch_t *heap_pop(pheap_t *h)
{
    peekch_t *top = h->a[0], *x = h->a[--h->n];
    int i = 0;
    for (;;) {
        int c = 2 * i + 1;
        if (c >= h->n)
            break;
        if (c + 1 < h->n && h->a[c + 1]->head < h->a[c]->head)
            c++;
        if (h->a[c]->head >= x->head)
            break;
        gc_store(&h->a[i], h->a[c]);
        i = c;
    }
    gc_store(&h->a[i], x);
    gc_store(&h->a[h->n], NULL);
    return top;
}

/* sendproxy: forwards everything from proxy to out, buffering without
 * bound; the send case uses a nil channel while the ring is empty. */
typedef struct { chan_t *out, *proxy; } proxy_t;

static void proxy_fn(void *arg)
{
    proxy_t *p = arg;
    size_t cap = 16, first = 0, len = 0;
    gint *ring = malloc(cap * sizeof *ring);
    for (;;) {
        chan_t *c = len ? p->out : NULL;
        gint e = len ? ring[first] : 0, in = 0;
        select_case_t cs[2] = {{p->proxy, SELECT_RECV, &in, false}, {c, SELECT_SEND, &e, false}};
        int r = chan_select(cs, 2, true);
        if (r == 0) {
            if (len == cap) {
                gint *nr = malloc(2 * cap * sizeof *nr);
                for (size_t i = 0; i < len; i++)
                    nr[i] = ring[(first + i) % cap];
                free(ring);
                ring = nr;
                first = 0;
                cap *= 2;
            }
            ring[(first + len) % cap] = in;
            len++;
        } else {
            first = (first + 1) % cap;
            len--;
        }
    }
}

static chan_t *sendproxy(chan_t *out)
{
    proxy_t *p = GT_NEW(proxy_t, out, mk(10));
    go(proxy_fn, p);
    return p->proxy;
}

typedef struct { chan_t *out, *composites, *primes; } sieve_t;

static void composites_fn(void *arg)
{
    sieve_t *s = arg;
    pheap_t *h = gc_alloc(sizeof *h);
    gint min = 15;
    for (;;) {
        chan_t *m = multiples(rcv(s->primes));
        gint head = rcv(m);
        while (min < head) {
            snd(s->composites, min);
            peekch_t *minchan = heap_pop(h);
            min = minchan->head;
            minchan->head = rcv(minchan->ch);
            heap_push(h, minchan);
        }
        while (min == head) {
            peekch_t *minchan = heap_pop(h);
            min = minchan->head;
            minchan->head = rcv(minchan->ch);
            heap_push(h, minchan);
        }
        snd(s->composites, head);
        gint head2 = rcv(m);
        heap_push(h, GT_NEW(peekch_t, head2, m));
    }
}

static void primes_fn(void *arg)
{
    sieve_t *s = arg;
    chan_t *primes = sendproxy(s->primes);
    chan_t *candidates = odds();
    gint p = rcv(candidates);
    for (;;) {
        gint c = rcv(s->composites);
        while (p < c) {
            snd(primes, p);
            snd(s->out, p);
            p = rcv(candidates);
        }
        if (p == c)
            p = rcv(candidates);
    }
}

static chan_t *sieve(void)
{
    sieve_t *s = GT_NEW(sieve_t, mk(10), mk(50), mk(10));
    snd(s->out, 2);
    snd(s->out, 3);
    snd(s->primes, 3);
    go(composites_fn, s);
    go(primes_fn, s);
    return s->out;
}

static int main_sieve2(int argc, char **argv)
{
    static const gint a[] = {2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41,
                             43, 47, 53, 59, 61, 67, 71, 73, 79, 83, 89, 97};
    chan_t *primes = sieve();
    for (size_t i = 0; i < sizeof a / sizeof a[0]; i++) {
        gint x = rcv(primes);
        GT_CHECK(x == a[i], "%ld != %ld", (long)x, (long)a[i]);
    }
    return 0;
}

Test(go_chan, sieve2) { gt_run(main_sieve2); }

static int main_sieve2_p2(int argc, char **argv)
{
    runtime_gomaxprocs(2);
    return main_sieve2(argc, argv);
}

Test(go_chan, sieve2_gomaxprocs2) { gt_run(main_sieve2_p2); }
