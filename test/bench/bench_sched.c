/*
 * test/bench/bench_sched.c -- scheduler benchmarks (Go twins in
 * test/bench/go/sched_test.go: same names, same work).
 *
 *   BenchmarkSpawn[-P]       one op = one goroutine started with go() that
 *                            calls sync_waitgroup_done; rounds of at most
 *                            1,000,000 goroutines, each joined with
 *                            sync_waitgroup_wait. At every GOMAXPROCS.
 *   BenchmarkSpawnChain[-P]  one op = one goroutine that starts the next
 *                            one and exits; chains of 10,000, the last
 *                            one sends on an unbuffered channel main
 *                            waits on. At every GOMAXPROCS.
 *   BenchmarkYield           one op = one runtime_gosched by one of two
 *                            goroutines. GOMAXPROCS=1 only.
 *   BenchmarkParked100k[-P]  one op = one goroutine that blocks in
 *   BenchmarkParked1M[-P]    chan_recv until the channel is closed, in
 *                            rounds of 100,000 / 1,000,000. Metric
 *                            B/goroutine: measured once per process,
 *                            untimed, before any stack is reused: the VmRSS
 *                            growth with the whole round parked, divided by
 *                            the round's size.
 *   BenchmarkStackNew[-P]    one op = one goroutine parked on a stack no
 *                            goroutine used before, in rounds of 1,000:
 *                            each round asks one page more of stack
 *                            (debug_set_max_stack), so no dead stack fits
 *                            and every go() maps a slot and installs its
 *                            guard. Run it with GORT_STACK_GUARD=mprotect
 *                            for the fallback's cost, =none for the cost
 *                            without a guard page. The Go twin parks the
 *                            same rounds (Go reuses its dead goroutines'
 *                            stacks: the ratio is the price of a fresh,
 *                            guarded stack over Go's recycled one).
 *
 * May call: the public gort API and bench.h.
 */
#include <stdatomic.h>

#include "bench.h"

#define SPAWN_ROUND 1000000   /* goroutines per Spawn round at most */

/* ---------------------------------------------------------------- */
/* Spawn                                                            */
/* ---------------------------------------------------------------- */

static sync_waitgroup_t spawn_wg;

/* The spawned goroutine: WaitGroup.Done and exit. */
static void spawn_fn(void *arg)
{
    sync_waitgroup_done(&spawn_wg);
}

/* b->n goroutines in joined rounds of at most SPAWN_ROUND. */
static void bench_spawn(bench_b_t *b)
{
    for (int64_t done = 0; done < b->n;) {
        int64_t k = b->n - done;
        if (k > SPAWN_ROUND)
            k = SPAWN_ROUND;
        sync_waitgroup_add(&spawn_wg, (int)k);
        for (int64_t i = 0; i < k; i++)
            go(spawn_fn, NULL);
        sync_waitgroup_wait(&spawn_wg);
        done += k;
    }
}

/* ---------------------------------------------------------------- */
/* SpawnChain                                                       */
/* ---------------------------------------------------------------- */

#define SPAWN_CHAIN 10000     /* goroutines per chain */

static chan_t *chain_done;

/* A link: starts the next one (arg: how many are still to come) and
 * exits; the last one tells main. */
static void chain_fn(void *arg)
{
    intptr_t left = (intptr_t)arg;
    if (left == 0)
        chan_send(chain_done, NULL);
    else
        go(chain_fn, (void *)(left - 1));
}

/* b->n goroutines in chains of at most SPAWN_CHAIN. */
static void bench_spawn_chain(bench_b_t *b)
{
    if (chain_done == NULL)
        GC_STORE(chain_done, chan_make(0, 0));
    for (int64_t done = 0; done < b->n;) {
        int64_t k = b->n - done;
        if (k > SPAWN_CHAIN)
            k = SPAWN_CHAIN;
        go(chain_fn, (void *)(intptr_t)(k - 1));
        chan_recv(chain_done, NULL);
        done += k;
    }
}

/* ---------------------------------------------------------------- */
/* Yield                                                            */
/* ---------------------------------------------------------------- */

static sync_waitgroup_t yield_wg;

/* Calls runtime_gosched *(int64_t *)arg times. */
static void yield_fn(void *arg)
{
    int64_t n = *(int64_t *)arg;
    for (int64_t i = 0; i < n; i++)
        runtime_gosched();
    sync_waitgroup_done(&yield_wg);
}

/* Two goroutines share b->n Gosched calls. */
static void bench_yield(bench_b_t *b)
{
    static int64_t n[2];
    n[0] = b->n / 2;
    n[1] = b->n - b->n / 2;
    sync_waitgroup_add(&yield_wg, 2);
    go(yield_fn, &n[0]);
    go(yield_fn, &n[1]);
    sync_waitgroup_wait(&yield_wg);
}

/* ---------------------------------------------------------------- */
/* Parked                                                           */
/* ---------------------------------------------------------------- */

static chan_t *park_release;          /* closed to release a round */
static sync_waitgroup_t park_wg;
static _Atomic int64_t park_arrived;

/* The parked goroutine: arrives, blocks in a receive, leaves. */
static void park_fn(void *arg)
{
    atomic_fetch_add_explicit(&park_arrived, 1, memory_order_relaxed);
    chan_recv(park_release, NULL);
    sync_waitgroup_done(&park_wg);
}

/* Starts k goroutines that block on a receive, waits until all have
 * arrived, returns the RSS growth over base if base >= 0, then releases
 * and joins them. */
static int64_t park_round(int64_t k, int64_t base)
{
    GC_STORE(park_release, chan_make(0, 0));
    atomic_store(&park_arrived, 0);
    sync_waitgroup_add(&park_wg, (int)k);
    for (int64_t i = 0; i < k; i++)
        go(park_fn, NULL);
    while (atomic_load(&park_arrived) != k)
        runtime_gosched();
    int64_t grown = base >= 0 ? bench_rss_bytes() - base : 0;
    chan_close(park_release);
    sync_waitgroup_wait(&park_wg);
    GC_STORE(park_release, NULL);
    return grown;
}

/* b->n goroutines in rounds of count; B/goroutine measured once. */
static void bench_parked(bench_b_t *b, int64_t count, double *bytes)
{
    if (*bytes < 0) {
        bench_stop_timer(b);
        int64_t base = bench_rss_bytes();
        *bytes = (double)park_round(count, base) / (double)count;
        bench_start_timer(b);
    }
    for (int64_t done = 0; done < b->n;) {
        int64_t k = b->n - done;
        if (k > count)
            k = count;
        park_round(k, -1);
        done += k;
    }
    bench_report_metric(b, *bytes, "B/goroutine");
}

static double parked100k_bytes = -1, parked1m_bytes = -1;

static void bench_parked100k(bench_b_t *b) { bench_parked(b, 100000, &parked100k_bytes); }
static void bench_parked1m(bench_b_t *b) { bench_parked(b, 1000000, &parked1m_bytes); }

#define STACKNEW_ROUND 1000

/* b->n goroutines parked in rounds, each round on fresh stacks. */
static void bench_stacknew(bench_b_t *b)
{
    static int64_t rounds;   /* across calls: sizes are never repeated */
    int old = debug_set_max_stack(64 * 1024);
    for (int64_t done = 0; done < b->n;) {
        int64_t k = b->n - done;
        if (k > STACKNEW_ROUND)
            k = STACKNEW_ROUND;
        debug_set_max_stack((int)(64 * 1024 + ++rounds * 4096));
        park_round(k, -1);
        done += k;
    }
    debug_set_max_stack(old);
}

/* The main goroutine: every benchmark valid at this GOMAXPROCS. */
static int run(int argc, char **argv)
{
    bench_run("BenchmarkSpawn", bench_spawn);
    bench_run("BenchmarkSpawnChain", bench_spawn_chain);
    if (bench_procs() == 1)
        bench_run("BenchmarkYield", bench_yield);
    bench_run("BenchmarkParked100k", bench_parked100k);
    bench_run("BenchmarkParked1M", bench_parked1m);
    bench_run("BenchmarkStackNew", bench_stacknew);
    return 0;
}

int main(int argc, char **argv)
{
    return bench_main(run, argc, argv);
}
