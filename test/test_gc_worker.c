/*
 * test/test_gc_worker.c -- the mark workers (gc/worker.c) mark their share
 * of a cycle: with a 64 MiB live tree and a goroutine allocating garbage
 * throughout, the bytes marked by the workers themselves (not by the
 * cycle's goroutine, assists or idle Ps) are a real part of each cycle's
 * mark: the fractional worker's at GOMAXPROCS 1 and 2, the dedicated
 * worker's at 4. Counted in bytes marked, never in time.
 */
#include "helpers.h"
#include "sched_helpers.h"
#include "../gc/internal.h"

#define LIVE_NODES  ((size_t)2 << 20)   /* 32-byte nodes: 64 MiB live */
#define SAMPLES     4                   /* cycles measured, each ours alone */
#define ATTEMPTS    40
#define MIN_SHARE   0.10                /* of the bytes a cycle marked */

typedef struct wnode { struct wnode *child[4]; } wnode_t;

static wnode_t *live_root;
static _Atomic bool allocating;
static _Atomic bool mutator_on;
static gt_count_t mutator_done;
static void *volatile sink;

/* Builds a 4-ary tree of n nodes. */
static wnode_t *tree(size_t n)
{
    wnode_t *x = gc_alloc(sizeof *x);
    size_t rest = n - 1;
    for (int i = 0; i < 4 && rest; i++) {
        size_t k = (rest + (size_t)(3 - i)) / (size_t)(4 - i);
        GC_STORE(x->child[i], tree(k));
        rest -= k;
    }
    return x;
}

/* Allocates 64-byte garbage while allocating is set, yielding otherwise. */
static void mutator(void *arg)
{
    (void)arg;
    while (atomic_load(&mutator_on)) {
        if (!atomic_load(&allocating)) {
            runtime_gosched();
            continue;
        }
        for (int i = 0; i < 4096; i++)
            sink = gc_alloc(64);
    }
    gt_count_done(&mutator_done);
}

/* Runs cycles beside the allocating mutator until SAMPLES of them ran
 * alone (no other cycle between the counter reads) and checks the share
 * of kind (0 fractional, 1 dedicated) in what they marked. */
static int share_main(int procs, int kind)
{
    runtime_gomaxprocs(procs);
    GC_STORE(live_root, tree(LIVE_NODES));
    runtime_gc();
    atomic_store(&mutator_on, true);
    gt_count_init(&mutator_done, 1);
    go(mutator, NULL);
    uint64_t by_workers = 0, marked = 0;
    int samples = 0;
    for (int a = 0; a < ATTEMPTS && samples < SAMPLES; a++) {
        uint32_t n0 = atomic_load(&gc__state.num_gc);
        uint64_t w0 = atomic_load(&gc__worker_marked[kind]);
        atomic_store(&allocating, true);
        runtime_gc();
        atomic_store(&allocating, false);
        uint64_t w1 = atomic_load(&gc__worker_marked[kind]);
        if (atomic_load(&gc__state.num_gc) != n0 + 1)
            continue;   /* a cycle the mutator started ran too */
        by_workers += w1 - w0;
        marked += gc__state.heap_marked;
        samples++;
    }
    atomic_store(&mutator_on, false);
    gt_count_wait(&mutator_done);
    GT_CHECK(samples == SAMPLES, "only %d of %d cycles ran alone", samples, SAMPLES);
    GT_CHECK(by_workers > 0, "the %s worker marked nothing in %d cycles (%llu MB marked)",
             kind ? "dedicated" : "fractional", samples, (unsigned long long)(marked >> 20));
    GT_CHECK((double)by_workers >= MIN_SHARE * (double)marked,
             "the %s worker marked %llu KB of %llu KB at GOMAXPROCS=%d",
             kind ? "dedicated" : "fractional", (unsigned long long)(by_workers >> 10),
             (unsigned long long)(marked >> 10), procs);
    gc_store(&live_root, NULL);
    return 0;
}

static int fractional_p1(int argc, char **argv) { (void)argc; (void)argv; return share_main(1, 0); }
static int fractional_p2(int argc, char **argv) { (void)argc; (void)argv; return share_main(2, 0); }
static int dedicated_p4(int argc, char **argv) { (void)argc; (void)argv; return share_main(4, 1); }

Test(gc_worker, fractional_worker_marks_gomaxprocs1, .timeout = 120) { gt_run(fractional_p1); }
Test(gc_worker, fractional_worker_marks_gomaxprocs2, .timeout = 120) { gt_run(fractional_p2); }
Test(gc_worker, dedicated_worker_marks_gomaxprocs4, .timeout = 120) { gt_run(dedicated_p4); }
