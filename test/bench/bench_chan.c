/*
 * test/bench/bench_chan.c -- channel, select and timer benchmarks (Go twins
 * in test/bench/go/chan_test.go: same names, same work). Every benchmark
 * runs at whatever GOMAXPROCS the program was started with.
 *
 *   BenchmarkChanPingPong[-P]  one op = one round trip: main sends on an
 *                              unbuffered channel, a partner receives it
 *                              and sends it back on a second one.
 *   BenchmarkChanBuffered[-P]  one op = one item through a cap-128 channel
 *                              from a producer goroutine to main.
 *   BenchmarkChanSelect[-P]    one op = one value through a 2-case select
 *                              on each side: the sender selects between
 *                              sending on a or on b, the receiver between
 *                              receiving from a or from b (unbuffered).
 *   BenchmarkChanSleepers[-P]  one op = 10,000 goroutines each sleeping
 *                              1 ms ten times (ns/op = wall time of one
 *                              round). Metrics: late-ns/sleep (mean time
 *                              slept beyond 1 ms) and max-late-ns.
 *   BenchmarkChanChain[-P]     one op = test/chan/goroutines.go: a chain of
 *                              10,000 goroutines passing one value along
 *                              (ns/op = wall time of one chain).
 *
 * May call: the public gort API and bench.h.
 */
#include <stdatomic.h>

#include "bench.h"

/* ---------------------------------------------------------------- */
/* PingPong                                                         */
/* ---------------------------------------------------------------- */

typedef struct { chan_t *ping, *pong; int64_t n; } pp_t;

/* Partner: echoes n values from ping to pong. */
static void pong_fn(void *arg)
{
    pp_t *p = arg;
    int64_t v;
    for (int64_t i = 0; i < p->n; i++) {
        chan_recv(p->ping, &v);
        chan_send(p->pong, &v);
    }
}

static void bench_pingpong(bench_b_t *b)
{
    pp_t *p = gc_alloc(sizeof *p);
    p->ping = chan_make(sizeof(int64_t), 0);
    p->pong = chan_make(sizeof(int64_t), 0);
    p->n = b->n;
    go(pong_fn, p);
    int64_t v = 0;
    for (int64_t i = 0; i < b->n; i++) {
        chan_send(p->ping, &i);
        chan_recv(p->pong, &v);
    }
}

/* ---------------------------------------------------------------- */
/* Buffered                                                         */
/* ---------------------------------------------------------------- */

#define BUFFERED_CAP 128

typedef struct { chan_t *c; int64_t n; } prod_t;

static void producer_fn(void *arg)
{
    prod_t *p = arg;
    for (int64_t i = 0; i < p->n; i++)
        chan_send(p->c, &i);
}

static void bench_buffered(bench_b_t *b)
{
    prod_t *p = gc_alloc(sizeof *p);
    p->c = chan_make(sizeof(int64_t), BUFFERED_CAP);
    p->n = b->n;
    go(producer_fn, p);
    int64_t v, sum = 0;
    for (int64_t i = 0; i < b->n; i++) {
        chan_recv(p->c, &v);
        sum += v;
    }
    if (sum != b->n * (b->n - 1) / 2)
        bench_fatal("buffered: bad sum");
}

/* ---------------------------------------------------------------- */
/* Select                                                           */
/* ---------------------------------------------------------------- */

typedef struct { chan_t *a, *b; int64_t n; } sel_t;

static void select_sender(void *arg)
{
    sel_t *s = arg;
    for (int64_t i = 0; i < s->n; i++) {
        select_case_t cs[2] = {{s->a, SELECT_SEND, &i, false},
                               {s->b, SELECT_SEND, &i, false}};
        chan_select(cs, 2, true);
    }
}

static void bench_select(bench_b_t *b)
{
    sel_t *s = gc_alloc(sizeof *s);
    s->a = chan_make(sizeof(int64_t), 0);
    s->b = chan_make(sizeof(int64_t), 0);
    s->n = b->n;
    go(select_sender, s);
    int64_t v, sum = 0;
    for (int64_t i = 0; i < b->n; i++) {
        select_case_t cs[2] = {{s->a, SELECT_RECV, &v, false},
                               {s->b, SELECT_RECV, &v, false}};
        chan_select(cs, 2, true);
        sum += v;
    }
    if (sum != b->n * (b->n - 1) / 2)
        bench_fatal("select: bad sum");
}

/* ---------------------------------------------------------------- */
/* Sleepers                                                         */
/* ---------------------------------------------------------------- */

#define SLEEPERS      10000
#define SLEEPS        10
#define SLEEP_NS      (1 * TIME_MILLISECOND)

static _Atomic int64_t late_sum, late_max;

static void sleeper_fn(void *arg)
{
    chan_t *done = arg;
    int64_t mylate = 0, mymax = 0;
    for (int i = 0; i < SLEEPS; i++) {
        int64_t t0 = time_now();
        time_sleep(SLEEP_NS);
        int64_t late = time_now() - t0 - SLEEP_NS;
        if (late < 0)
            bench_fatal("sleep returned %lld ns early", (long long)-late);
        mylate += late;
        if (late > mymax)
            mymax = late;
    }
    atomic_fetch_add(&late_sum, mylate);
    int64_t m = atomic_load(&late_max);
    while (mymax > m && !atomic_compare_exchange_weak(&late_max, &m, mymax)) {}
    chan_send(done, NULL);
}

static void bench_sleepers(bench_b_t *b)
{
    atomic_store(&late_sum, 0);
    atomic_store(&late_max, 0);
    for (int64_t r = 0; r < b->n; r++) {
        chan_t *done = chan_make(0, SLEEPERS);
        for (int i = 0; i < SLEEPERS; i++)
            go(sleeper_fn, done);
        for (int i = 0; i < SLEEPERS; i++)
            chan_recv(done, NULL);
    }
    bench_report_metric(b, (double)atomic_load(&late_sum) / ((double)b->n * SLEEPERS * SLEEPS),
                        "late-ns/sleep");
    bench_report_metric(b, (double)atomic_load(&late_max), "max-late-ns");
}

/* ---------------------------------------------------------------- */
/* Chain (test/chan/goroutines.go)                                  */
/* ---------------------------------------------------------------- */

#define CHAIN_LEN 10000

typedef struct { chan_t *left, *right; } link_t;

static void link_fn(void *arg)
{
    link_t *l = arg;
    int64_t v;
    chan_recv(l->right, &v);
    chan_send(l->left, &v);
}

static void chain_start(void *arg)
{
    int64_t one = 1;
    chan_send(arg, &one);
}

static void bench_chain(bench_b_t *b)
{
    for (int64_t r = 0; r < b->n; r++) {
        chan_t *leftmost = chan_make(sizeof(int64_t), 0);
        chan_t *left = leftmost, *right = leftmost;
        for (int i = 0; i < CHAIN_LEN; i++) {
            right = chan_make(sizeof(int64_t), 0);
            link_t *l = gc_alloc(sizeof *l);
            l->left = left;
            l->right = right;
            go(link_fn, l);
            left = right;
        }
        go(chain_start, right);
        int64_t v = 0;
        chan_recv(leftmost, &v);
        if (v != 1)
            bench_fatal("chain: got %lld", (long long)v);
    }
}

static int run(int argc, char **argv)
{
    bench_run("BenchmarkChanPingPong", bench_pingpong);
    bench_run("BenchmarkChanBuffered", bench_buffered);
    bench_run("BenchmarkChanSelect", bench_select);
    bench_run("BenchmarkChanSleepers", bench_sleepers);
    bench_run("BenchmarkChanChain", bench_chain);
    return 0;
}

int main(int argc, char **argv) { return bench_main(run, argc, argv); }
