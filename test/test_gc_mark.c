/*
 * test/test_gc_mark.c -- the concurrent mark's contract with goroutines:
 *  - a goroutine spinning with no calls does not keep a cycle from
 *    finishing (it is stopped by the preemption signal, at GOMAXPROCS 1
 *    and 2);
 *  - 20,000 parked goroutines, each holding its only pointer to an object
 *    on its stack, keep those objects through cycles that scan their
 *    stacks one at a time while garbage is made around them;
 *  - assists: a goroutine that allocates much faster than the collector's
 *    own goroutine can mark keeps the heap near its goal;
 *  - stack shrinking: goroutines parked after a burst of deep calls give
 *    those pages back to the kernel when cycles run;
 *  - the mark workers' split of 25% of GOMAXPROCS into dedicated Ps and
 *    fractional shares is Go's gcController's.
 * make check runs this suite a second time with GODEBUG=gccheckmark=1.
 */
#include "helpers.h"
#include "sched_helpers.h"

/* ---- a spinning goroutine ------------------------------------------- */

static volatile int spin_stop;
static _Atomic int spin_started;

__attribute__((noinline)) static void spinner(void *arg)
{
    (void)arg;
    volatile uint64_t x = 0;
    atomic_store(&spin_started, 1);
    while (!spin_stop)
        x++;
}

/* Three cycles finish while spinner holds a P; then it stops. */
static int spin_main(int procs)
{
    runtime_gomaxprocs(procs);
    spin_stop = 0;
    atomic_store(&spin_started, 0);
    go(spinner, NULL);
    GT_CHECK(gt_yield_until(&spin_started, 10000), "spinner never ran");
    runtime_mem_stats_t ms;
    runtime_read_mem_stats(&ms);
    uint32_t n0 = ms.num_gc;
    for (int i = 0; i < 3; i++)
        runtime_gc();
    runtime_read_mem_stats(&ms);
    GT_CHECK(ms.num_gc >= n0 + 3, "cycles %u -> %u", n0, ms.num_gc);
    spin_stop = 1;
    return 0;
}

static int spin_p1(int argc, char **argv) { (void)argc; (void)argv; return spin_main(1); }
static int spin_p2(int argc, char **argv) { (void)argc; (void)argv; return spin_main(2); }

Test(gc_mark, spinner_does_not_block_cycle_gomaxprocs1, .timeout = 60)
{
    GT_SKIP_UNDER("thread", "it needs asynchronous preemption, off under TSan");
    gt_run(spin_p1);
}
Test(gc_mark, spinner_does_not_block_cycle_gomaxprocs2, .timeout = 60)
{
    GT_SKIP_UNDER("thread", "it needs asynchronous preemption, off under TSan");
    gt_run(spin_p2);
}

/* ---- many parked stacks ------------------------------------------- */

#define NPARKED   20000
#define OBJ_WORDS 8

static chan_t *release;
static gt_count_t parked_n, checked_n;
static _Atomic int corrupt;

/* Keeps its object only on its stack, parks, and checks it afterwards. */
static void holder(void *arg)
{
    uintptr_t seed = (uintptr_t)arg;
    uint64_t *obj = gc_alloc(OBJ_WORDS * sizeof(uint64_t));
    for (int i = 0; i < OBJ_WORDS; i++)
        obj[i] = seed * 0x9e3779b97f4a7c15ull + (uint64_t)i;
    gt_count_done(&parked_n);
    int v;
    chan_recv(release, &v);
    for (int i = 0; i < OBJ_WORDS; i++)
        if (obj[i] != seed * 0x9e3779b97f4a7c15ull + (uint64_t)i)
            atomic_fetch_add(&corrupt, 1);
    gt_count_done(&checked_n);
}

/* Garbage of the same size class, which would reuse a freed object. */
static void *volatile churn_sink;

static void churn(int n)
{
    for (int i = 0; i < n; i++) {
        uint64_t *g = gc_alloc(OBJ_WORDS * sizeof(uint64_t));
        for (int k = 0; k < OBJ_WORDS; k++)
            g[k] = 0xdeadbeefdeadbeefull;
        churn_sink = g;
    }
}

static int parked_main(int argc, char **argv)
{
    (void)argc; (void)argv;
    runtime_gomaxprocs(2);
    GC_STORE(release, chan_make(sizeof(int), 0));
    gt_count_init(&parked_n, NPARKED);
    gt_count_init(&checked_n, NPARKED);
    for (uintptr_t i = 0; i < NPARKED; i++)
        go(holder, (void *)(i + 1));
    gt_count_wait(&parked_n);
    int old = runtime_set_gc_percent(10);
    for (int round = 0; round < 4; round++) {
        churn(400000);   /* cycles started by the allocator */
        runtime_gc();
    }
    runtime_set_gc_percent(old);
    chan_close(release);
    gt_count_wait(&checked_n);
    GT_CHECK(atomic_load(&corrupt) == 0, "%d words of parked goroutines' objects changed",
             atomic_load(&corrupt));
    return 0;
}

Test(gc_mark, parked_stacks_keep_their_objects, .timeout = 120)
{
    GT_SKIP_UNDER("thread", "TSan counts each live goroutine as a thread, at most 8128 at once, "
                  "and this test parks 20,000");
    gt_run(parked_main);
}

/* ---- assists ---------------------------------------------------------- */

typedef struct tnode { struct tnode *l, *r; } tnode_t;
static tnode_t *live;

static tnode_t *tree(int depth)
{
    tnode_t *t = gc_alloc(sizeof *t);
    if (depth > 0) {
        GC_STORE(t->l, tree(depth - 1));
        GC_STORE(t->r, tree(depth - 1));
    }
    return t;
}

/* With 32 MiB live and GOGC=100 the goal is about 64 MiB (more as
 * objects allocated during a mark count as marked, as Go's accounting
 * does); 1 GiB of garbage later the heap has never been far past the goal
 * of its cycle. The collector's goroutine shares the one P with the
 * program, so without assists the heap would grow by the whole mark's
 * worth of allocation. */
static int assist_main(int argc, char **argv)
{
    (void)argc; (void)argv;
    runtime_gomaxprocs(1);
    GC_STORE(live, tree(20));   /* 2M nodes of 16 bytes: 32 MiB */
    runtime_gc();
    runtime_mem_stats_t ms;
    runtime_read_mem_stats(&ms);
    uint64_t live_bytes = ms.heap_alloc;
    double worst = 0;
    for (int i = 0; i < (int)((1LL << 30) / 64); i++) {
        churn_sink = gc_alloc(64);
        if (i % (1 << 18) == 0) {   /* every 16 MiB */
            runtime_read_mem_stats(&ms);
            double over = (double)ms.heap_alloc / (double)ms.next_gc;
            worst = over > worst ? over : worst;
        }
    }
    GT_CHECK(worst < 1.1, "heap at %.2fx its goal with %llu MB live", worst,
             (unsigned long long)(live_bytes >> 20));
    return 0;
}

Test(gc_mark, assists_keep_heap_near_goal, .timeout = 120) { gt_run(assist_main); }

/* ---- stack shrinking ------------------------------------------------- */

#define NDEEP      200
#define DEEP_BYTES (40 << 10)

static chan_t *deep_release;
static gt_count_t deep_parked, deep_done;

/* Touches about bytes of stack below the caller. */
__attribute__((noinline)) static int go_deep(int bytes)
{
    volatile char buf[1024];
    buf[0] = (char)bytes;
    buf[1023] = 1;
    return bytes > 1024 ? go_deep(bytes - 1024) + buf[0] : buf[1023];
}

static void deep_parker(void *arg)
{
    (void)arg;
    go_deep(DEEP_BYTES);
    gt_count_done(&deep_parked);
    int v;
    chan_recv(deep_release, &v);
    gt_count_done(&deep_done);
}

static int shrink_main(int argc, char **argv)
{
    (void)argc; (void)argv;
    GC_STORE(deep_release, chan_make(sizeof(int), 0));
    gt_count_init(&deep_parked, NDEEP);
    gt_count_init(&deep_done, NDEEP);
    for (int i = 0; i < NDEEP; i++)
        go(deep_parker, NULL);
    gt_count_wait(&deep_parked);
    time_sleep(20 * 1000 * 1000);   /* parked since before the cycles */
    runtime_mem_stats_t ms;
    runtime_read_mem_stats(&ms);
    uint64_t before = ms.stack_inuse;
    runtime_gc();
    runtime_gc();
    runtime_read_mem_stats(&ms);
    uint64_t after = ms.stack_inuse;
    GT_CHECK(before >= after + (uint64_t)NDEEP * (DEEP_BYTES / 2),
             "resident stacks %llu KB -> %llu KB: the deep pages stayed",
             (unsigned long long)(before >> 10), (unsigned long long)(after >> 10));
    chan_close(deep_release);
    gt_count_wait(&deep_done);
    return 0;
}

Test(gc_mark, parked_stacks_give_back_deep_pages, .timeout = 60) { gt_run(shrink_main); }

/* ---- the mark workers' split ------------------------------------------ */

void gc__workers_split(int32_t procs, int32_t *dedicated, double *fractional);

/* Go 1.19's startCycle: dedicated = round(procs/4) unless that is more
 * than 30% off, then one fewer and the rest as a fractional share. */
Test(gc_mark, workers_split_as_go)
{
    static const struct { int32_t procs, dedicated; double fractional; } want[] = {
        {1, 0, 0.25}, {2, 0, 0.25}, {3, 0, 0.25}, {4, 1, 0},
        {5, 1, 0}, {6, 1, 0.5 / 6}, {8, 2, 0}, {10, 3, 0}, {64, 16, 0},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        int32_t d;
        double f;
        gc__workers_split(want[i].procs, &d, &f);
        cr_expect_eq(d, want[i].dedicated, "procs %d: %d dedicated", want[i].procs, d);
        cr_expect(f > want[i].fractional - 1e-9 && f < want[i].fractional + 1e-9,
                  "procs %d: fractional %f, want %f", want[i].procs, f, want[i].fractional);
    }
}
