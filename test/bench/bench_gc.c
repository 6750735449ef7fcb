/*
 * test/bench/bench_gc.c -- garbage-collected heap benchmarks (Go twin:
 * test/bench/go/gc_test.go, same names, same work).
 *
 *   BenchmarkAlloc16 / 64 / 1K   gc_alloc of an object that holds a
 *                                pointer, stored into a 1024-slot ring
 *                                (small live set); one op = one object
 *   BenchmarkBinaryTrees18       the Benchmarks Game binary-trees, depth
 *                                18, one goroutine per depth as Go's #2
 *                                program; one op = one whole run; metrics:
 *                                peak RSS, GC cycles and longest pause
 *   BenchmarkBinaryTrees21       the same at depth 21 (about 15 s a side):
 *                                only with GORT_BENCH_LONG=1 in the
 *                                environment (the Go twin skips likewise)
 *   BenchmarkGCBench             Boehm's GCBench (Ellis, Kovac, Boehm):
 *                                stretch tree 18, long-lived tree 16 and a
 *                                500000-double array, top-down and
 *                                bottom-up trees of depth 4..16
 */
#include "bench.h"

/* ---------------------------------------------------------------- */
/* allocation                                                        */
/* ---------------------------------------------------------------- */

static void *ring[1024];   /* a global: the live set */

#define ALLOC_BENCH(NAME, SIZE)                                         \
    static void NAME(bench_b_t *b)                                      \
    {                                                                   \
        for (int64_t i = 0; i < b->n; i++) {                            \
            void **p = gc_alloc(SIZE);                                  \
            p[0] = p;   /* fresh object: no barrier needed */           \
            gc_store(&ring[i & 1023], p);                               \
        }                                                               \
    }
ALLOC_BENCH(bench_alloc16, 16)
ALLOC_BENCH(bench_alloc64, 64)
ALLOC_BENCH(bench_alloc1k, 1024)

/* ---------------------------------------------------------------- */
/* binary-trees                                                      */
/* ---------------------------------------------------------------- */

typedef struct tnode { struct tnode *l, *r; } tnode_t;

static tnode_t *bottom_up(int depth)
{
    tnode_t *t = gc_alloc(sizeof *t);
    if (depth > 0) {
        gc_store(&t->l, bottom_up(depth - 1));
        gc_store(&t->r, bottom_up(depth - 1));
    }
    return t;
}

static int check(const tnode_t *t)
{
    return t->l ? 1 + check(t->l) + check(t->r) : 1;
}

typedef struct {
    int depth, iterations, check;
    sync_waitgroup_t *wg;
} bt_job_t;

static void bt_worker(void *arg)
{
    bt_job_t *j = arg;
    int c = 0;
    for (int i = 0; i < j->iterations; i++)
        c += check(bottom_up(j->depth));
    j->check = c;
    sync_waitgroup_done(j->wg);
}

/* One run of binary-trees at max depth n; returns a checksum. */
static long binary_trees(int n)
{
    const int min_depth = 4;
    int max_depth = n < min_depth + 2 ? min_depth + 2 : n;
    long sum = check(bottom_up(max_depth + 1));
    tnode_t *long_lived = bottom_up(max_depth);
    bt_job_t jobs[32];
    sync_waitgroup_t wg = {0};
    int nj = 0;
    for (int d = min_depth; d <= max_depth; d += 2, nj++) {
        jobs[nj] = (bt_job_t){d, 1 << (max_depth - d + min_depth), 0, &wg};
        sync_waitgroup_add(&wg, 1);
        go(bt_worker, &jobs[nj]);
    }
    sync_waitgroup_wait(&wg);
    for (int i = 0; i < nj; i++)
        sum += jobs[i].check;
    sum += check(long_lived);
    runtime_keep_alive(long_lived);
    return sum;
}

static runtime_mem_stats_t ms0, ms1;

/* Reports GC cycles and the longest pause of the cycles since ms0. */
static void report_gc(bench_b_t *b)
{
    runtime_read_mem_stats(&ms1);
    uint64_t maxp = 0;
    uint32_t n = ms1.num_gc - ms0.num_gc;
    for (uint32_t i = 0; i < n && i < 256; i++) {
        uint64_t p = ms1.pause_ns[(ms1.num_gc + 255 - i) % 256];
        if (p > maxp)
            maxp = p;
    }
    bench_report_metric(b, (double)n / (double)b->n, "GCs/op");
    bench_report_metric(b, (double)maxp / 1e6, "ms-max-pause");
    bench_report_metric(b, (double)bench_status_bytes("VmHWM:") / (1 << 20), "MB-peak-RSS");
}

static long bt_sink;

static void bench_bt18(bench_b_t *b)
{
    runtime_read_mem_stats(&ms0);
    for (int64_t i = 0; i < b->n; i++)
        bt_sink += binary_trees(18);
    bench_stop_timer(b);
    report_gc(b);
}

static void bench_bt21(bench_b_t *b)
{
    runtime_read_mem_stats(&ms0);
    for (int64_t i = 0; i < b->n; i++)
        bt_sink += binary_trees(21);
    bench_stop_timer(b);
    report_gc(b);
}

/* ---------------------------------------------------------------- */
/* GCBench                                                           */
/* ---------------------------------------------------------------- */

typedef struct gnode { struct gnode *left, *right; int i, j; } gnode_t;

enum { STRETCH_DEPTH = 18, LONG_LIVED_DEPTH = 16, ARRAY_SIZE = 500000,
       MIN_DEPTH = 4, MAX_DEPTH = 16 };

static int tree_size(int i) { return (1 << (i + 1)) - 1; }
static int num_iters(int i) { return 2 * tree_size(STRETCH_DEPTH) / tree_size(i); }

static void populate(int depth, gnode_t *n)
{
    if (depth-- <= 0)
        return;
    gc_store(&n->left, gc_alloc(sizeof(gnode_t)));
    gc_store(&n->right, gc_alloc(sizeof(gnode_t)));
    populate(depth, n->left);
    populate(depth, n->right);
}

static gnode_t *make_tree(int depth)
{
    gnode_t *n = gc_alloc(sizeof *n);
    if (depth > 0) {
        gc_store(&n->left, make_tree(depth - 1));
        gc_store(&n->right, make_tree(depth - 1));
    }
    return n;
}

/* Not inlined: an inlined copy would leave the discarded tree's root in
 * a spill slot of gcbench_once's frame, which the conservative stack scan
 * would see for the whole run (Go's twin drops it by setting a nil). */
static __attribute__((noinline)) void stretch(void) { make_tree(STRETCH_DEPTH); }

static void gcbench_once(void)
{
    stretch();
    gnode_t *long_lived = gc_alloc(sizeof *long_lived);
    populate(LONG_LIVED_DEPTH, long_lived);
    double *array = gc_alloc_noscan(ARRAY_SIZE * sizeof(double));
    for (int i = 0; i < ARRAY_SIZE / 2; i++)
        array[i] = 1.0 / i;
    for (int d = MIN_DEPTH; d <= MAX_DEPTH; d += 2) {
        int iters = num_iters(d);
        for (int i = 0; i < iters; i++) {
            gnode_t *t = gc_alloc(sizeof *t);
            populate(d, t);
        }
        for (int i = 0; i < iters; i++)
            make_tree(d);
    }
    if (!long_lived || array[1000] != 1.0 / 1000)
        bench_fatal("GCBench: long-lived data lost");
    runtime_keep_alive(long_lived);
    runtime_keep_alive(array);
}

static void bench_gcbench(bench_b_t *b)
{
    runtime_read_mem_stats(&ms0);
    for (int64_t i = 0; i < b->n; i++)
        gcbench_once();
    bench_stop_timer(b);
    report_gc(b);
}

static int run(int argc, char **argv)
{
    (void)argc; (void)argv;
    bench_run("BenchmarkAlloc16", bench_alloc16);
    bench_run("BenchmarkAlloc64", bench_alloc64);
    bench_run("BenchmarkAlloc1K", bench_alloc1k);
    bench_run("BenchmarkBinaryTrees18", bench_bt18);
    const char *l = getenv("GORT_BENCH_LONG");
    if (l && *l == '1')
        bench_run("BenchmarkBinaryTrees21", bench_bt21);
    bench_run("BenchmarkGCBench", bench_gcbench);
    return 0;
}

int main(int argc, char **argv) { return bench_main(run, argc, argv); }
