/*
 * test/bench/bench_gcpause.c -- the collector's pauses and its barrier
 * (Go twin: test/bench/go/gcpause_test.go, same names, same work).
 *
 *   BenchmarkSTWGoroutines1 / 10k / 100k / 1M
 *                          runtime_gc with that many goroutines parked on
 *                          a channel, each holding a GC object on its
 *                          stack; one op = one cycle; metric: the longest
 *                          stop of the world (1M: GORT_BENCH_LONG=1 only)
 *   BenchmarkTree2         Go's test/bench/garbage/tree2: a 32 MiB 4-ary
 *                          tree, then one op = one runtime_gc; longest
 *                          pause
 *   BenchmarkLargeHeap256M 256 MiB live (4M 64-byte nodes in a 4-ary
 *                          tree); one op = 64 MiB of 64-byte garbage,
 *                          while a goroutine sleeps 1 ms in a loop;
 *                          metrics: longest and 99th-percentile pause, the
 *                          sleeper's worst lateness, cycles per op
 *   BenchmarkLargeHeap1G   the same with 1 GiB live (GORT_BENCH_LONG=1)
 *   BenchmarkLargeArray64M the same with one 64 MiB pointer array live
 *                          (8M slots, each to a 16-byte object: 192 MiB),
 *                          which the mark scans in 128 KiB pieces
 *   BenchmarkStoreOff      gc_store of a pointer into a heap object, no
 *                          mark running; one op = one store
 *   BenchmarkStoreMarking  the same while another goroutine runs cycles
 *                          back to back over a 64 MiB live tree, so that
 *                          a mark runs most of the time
 */
#include <stdatomic.h>

#include "bench.h"

/* ---------------------------------------------------------------- */
/* shared: a 4-ary tree of 32-byte nodes, pause statistics           */
/* ---------------------------------------------------------------- */

typedef struct node4 { struct node4 *child[4]; } node4_t;

/* Builds a tree of about size bytes (tree2's buildTree). */
static node4_t *build_tree(double objsize, double size, double *alloc)
{
    node4_t *x = gc_alloc(sizeof *x);
    double sub = (size - objsize) / 4, got = objsize;
    for (int i = 0; i < 4 && got < size; i++) {
        double n;
        GC_STORE(x->child[i], build_tree(objsize, sub, &n));
        got += n;
    }
    *alloc = got;
    return x;
}

static runtime_mem_stats_t ms0, ms1;

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Reports the longest (and with p99, the 99th-percentile) pause of the
 * cycles since ms0, and cycles per op. */
static void report_pauses(bench_b_t *b, bool p99)
{
    runtime_read_mem_stats(&ms1);
    uint32_t n = ms1.num_gc - ms0.num_gc;
    if (n > 256)
        n = 256;
    uint64_t p[256];
    for (uint32_t i = 0; i < n; i++)
        p[i] = ms1.pause_ns[(ms1.num_gc + 255 - i) % 256];
    qsort(p, n, sizeof p[0], cmp_u64);
    bench_report_metric(b, n ? (double)p[n - 1] / 1e6 : 0, "ms-max-pause");
    if (p99)
        bench_report_metric(b, n ? (double)p[(n * 99) / 100 < n ? (n * 99) / 100 : n - 1] / 1e6 : 0,
                            "ms-p99-pause");
    bench_report_metric(b, (double)(ms1.num_gc - ms0.num_gc) / (double)b->n, "GCs/op");
}

/* ---------------------------------------------------------------- */
/* stop-the-world pause against the number of goroutines             */
/* ---------------------------------------------------------------- */

static chan_t *park_ch;
static int parked;
static _Atomic int parked_now;

/* A goroutine that keeps one object on its stack until the end. */
static void parker(void *arg)
{
    (void)arg;
    void *mine = gc_alloc(64);
    int v;
    atomic_fetch_add(&parked_now, 1);
    chan_recv(park_ch, &v);
    runtime_keep_alive(mine);
}

/* Parks goroutines until n are parked (once per process). */
static void park_n(int n)
{
    if (!park_ch)
        GC_STORE(park_ch, chan_make(sizeof(int), 0));
    for (; parked < n; parked++)
        go(parker, NULL);
    while (atomic_load(&parked_now) < n)
        time_sleep(1000000);
    time_sleep(10000000);   /* the last ones reach their channel */
}

/* One op = one runtime_gc, timed after a first cycle; reports pauses. */
static void forced_cycles(bench_b_t *b)
{
    runtime_gc();
    runtime_read_mem_stats(&ms0);
    bench_start_timer(b);
    for (int64_t i = 0; i < b->n; i++)
        runtime_gc();
    bench_stop_timer(b);
    report_pauses(b, false);
}

#define STW_BENCH(NAME, N)                                              \
    static void NAME(bench_b_t *b)                                      \
    {                                                                   \
        bench_stop_timer(b);                                            \
        park_n(N);                                                      \
        forced_cycles(b);                                               \
    }
STW_BENCH(bench_stw1, 1)
STW_BENCH(bench_stw10k, 10000)
STW_BENCH(bench_stw100k, 100000)
STW_BENCH(bench_stw1m, 1000000)

/* ---------------------------------------------------------------- */
/* tree2 and the large heap                                          */
/* ---------------------------------------------------------------- */

static node4_t *live_tree;

/* Builds the live tree once per process. */
static void build_live(double bytes)
{
    if (live_tree)
        return;
    double got;
    GC_STORE(live_tree, build_tree(sizeof(node4_t), bytes, &got));
}

static void bench_tree2(bench_b_t *b)
{
    bench_stop_timer(b);
    build_live(32.0 * (1 << 20));
    forced_cycles(b);
}

static _Atomic int64_t sleep_late_max;
static _Atomic bool sleeper_on;

/* Sleeps 1 ms in a loop, recording the worst lateness. */
static void sleeper(void *arg)
{
    (void)arg;
    while (atomic_load(&sleeper_on)) {
        int64_t t0 = bench_nanotime();
        time_sleep(1000000);
        int64_t late = bench_nanotime() - t0 - 1000000;
        if (late > atomic_load(&sleep_late_max))
            atomic_store(&sleep_late_max, late);
    }
}

typedef struct gnode { struct gnode *next; char pad[56]; } gnode_t;
static gnode_t *volatile garbage_sink;

/* One op: 64 MiB of 64-byte garbage objects. */
static void churn(int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        for (int k = 0; k < (64 << 20) / 64; k++) {
            gnode_t *g = gc_alloc(sizeof *g);
            GC_STORE(g->next, garbage_sink);
            garbage_sink = k % 64 ? g : NULL;
        }
}

/* The latency run over whatever is live: b->n ops of churn beside the
 * sleeper; reports pauses, p99, the sleeper's worst lateness. */
static void churn_beside_sleeper(bench_b_t *b)
{
    runtime_gc();
    atomic_store(&sleep_late_max, 0);
    atomic_store(&sleeper_on, true);
    go(sleeper, NULL);
    runtime_read_mem_stats(&ms0);
    bench_start_timer(b);
    churn(b->n);
    bench_stop_timer(b);
    atomic_store(&sleeper_on, false);
    report_pauses(b, true);
    bench_report_metric(b, (double)atomic_load(&sleep_late_max) / 1e6, "ms-sleep-late");
    time_sleep(5000000);   /* the sleeper ends before the next run */
}

/* The large-heap latency run with live bytes of live tree. */
static void large_heap(bench_b_t *b, double live)
{
    bench_stop_timer(b);
    build_live(live);
    churn_beside_sleeper(b);
}

typedef struct { uint64_t a, b; } item16_t;
#define LARGE_ARRAY_SLOTS ((size_t)8 << 20)   /* 64 MiB of pointers */

static item16_t **large_array;

/* One 64 MiB pointer array, every slot pointing to a 16-byte object of
 * its own, marked in 128 KiB pieces; the latency run beside it. */
static void bench_large_array(bench_b_t *b)
{
    bench_stop_timer(b);
    if (!large_array) {
        GC_STORE(large_array, gc_alloc(LARGE_ARRAY_SLOTS * sizeof(item16_t *)));
        for (size_t i = 0; i < LARGE_ARRAY_SLOTS; i++)
            GC_STORE(large_array[i], gc_alloc_noscan(sizeof(item16_t)));
    }
    churn_beside_sleeper(b);
}

static void bench_large256(bench_b_t *b) { large_heap(b, 256.0 * (1 << 20)); }
static void bench_large1g(bench_b_t *b) { large_heap(b, 1024.0 * (1 << 20)); }

/* ---------------------------------------------------------------- */
/* the barrier's cost                                                */
/* ---------------------------------------------------------------- */

static node4_t *store_obj;
static node4_t *store_vals[2];

/* n pointer stores through the barrier into a heap object. */
static __attribute__((noinline)) void stores(int64_t n)
{
    node4_t *o = store_obj;
    for (int64_t i = 0; i < n; i++)
        gc_store(&o->child[i & 3], store_vals[i & 1]);
}

static void store_setup(void)
{
    if (store_obj)
        return;
    GC_STORE(store_obj, gc_alloc(sizeof(node4_t)));
    GC_STORE(store_vals[0], gc_alloc(sizeof(node4_t)));
    GC_STORE(store_vals[1], gc_alloc(sizeof(node4_t)));
}

static void bench_store_off(bench_b_t *b)
{
    store_setup();
    stores(b->n);
}

static _Atomic bool cycler_on;
static _Atomic int cyclers;

/* Runs cycles back to back over the live tree. */
static void cycler(void *arg)
{
    (void)arg;
    while (atomic_load(&cycler_on))
        runtime_gc();
    atomic_fetch_sub(&cyclers, 1);
}

static void bench_store_marking(bench_b_t *b)
{
    bench_stop_timer(b);
    store_setup();
    build_live(64.0 * (1 << 20));
    atomic_store(&cycler_on, true);
    atomic_fetch_add(&cyclers, 1);
    go(cycler, NULL);
    runtime_gosched();
    bench_start_timer(b);
    stores(b->n);
    bench_stop_timer(b);
    atomic_store(&cycler_on, false);
    while (atomic_load(&cyclers))
        runtime_gosched();
}

static int run(int argc, char **argv)
{
    (void)argc; (void)argv;
    const char *l = getenv("GORT_BENCH_LONG");
    bool long_runs = l && *l == '1';
    bench_run("BenchmarkStoreOff", bench_store_off);
    bench_run("BenchmarkStoreMarking", bench_store_marking);
    bench_run("BenchmarkTree2", bench_tree2);
    bench_run("BenchmarkLargeHeap256M", bench_large256);
    bench_run("BenchmarkLargeArray64M", bench_large_array);
    if (long_runs)
        bench_run("BenchmarkLargeHeap1G", bench_large1g);
    bench_run("BenchmarkSTWGoroutines1", bench_stw1);
    bench_run("BenchmarkSTWGoroutines10k", bench_stw10k);
    bench_run("BenchmarkSTWGoroutines100k", bench_stw100k);
    if (long_runs)
        bench_run("BenchmarkSTWGoroutines1M", bench_stw1m);
    return 0;
}

int main(int argc, char **argv) { return bench_main(run, argc, argv); }
