/*
 * test/test_sched_steal.c -- work stealing: goroutines spawned by one
 * goroutine land in its P's local run queue; at GOMAXPROCS=2 the other P's
 * M must steal some, so the goroutines run on more than one thread while
 * the spawner is parked.
 *
 * Thread ids come from gettid() inside each goroutine: they name the M the
 * goroutine ran on (thread-locals and errno belong to the M).
 */
#include "helpers.h"
#include "sched_helpers.h"

#define NWORK 64
#define MAXTIDS 64

static _Atomic int tids[MAXTIDS];
static _Atomic int ntids;
static gt_count_t left;

static void note_tid(int tid)
{
    int n = atomic_load(&ntids);
    for (int i = 0; i < n && i < MAXTIDS; i++)
        if (atomic_load(&tids[i]) == tid)
            return;
    int slot = atomic_fetch_add(&ntids, 1);
    if (slot < MAXTIDS)
        atomic_store(&tids[slot], tid);
}

static int distinct_tids(void)
{
    int n = atomic_load(&ntids), d = 0;
    if (n > MAXTIDS)
        n = MAXTIDS;
    for (int i = 0; i < n; i++) {
        int t = atomic_load(&tids[i]), seen = 0;
        for (int j = 0; j < i; j++)
            seen |= atomic_load(&tids[j]) == t;
        d += !seen;
    }
    return d;
}

/* About 2 ms of CPU without any runtime call: the other P can only get
 * this P's queued goroutines by stealing them. */
static void busy(void *arg)
{
    volatile uint64_t x = 0;
    int64_t end = gt_ms() + 2;
    while (gt_ms() < end)
        for (int i = 0; i < 1000; i++)
            x++;
    note_tid(gt_tid());
    gt_count_done(&left);
}

static int main_steal(int argc, char **argv)
{
    runtime_gomaxprocs(2);
    /* Up to 20 rounds, in case the machine is busy with other tests:
     * a single round normally shows two threads. */
    for (int round = 0; round < 20 && distinct_tids() < 2; round++) {
        gt_count_init(&left, NWORK);
        for (int i = 0; i < NWORK; i++)
            go(busy, NULL);
        gt_count_wait(&left);
    }
    GT_CHECK(distinct_tids() >= 2, "all goroutines ran on one thread");
    return 0;
}

Test(sched_steal, goroutines_run_on_two_threads, .timeout = 30)
{
    gt_run(main_steal);
}

static _Atomic int running;

/* At GOMAXPROCS=2 two busy goroutines do run at the same time (the
 * spinning M finds the second one). */
static _Atomic int both_seen;

static void busy_until_both(void *arg)
{
    int now = atomic_fetch_add(&running, 1) + 1;
    if (now == 2)
        atomic_store(&both_seen, 1);
    int64_t end = gt_ms() + 3000;
    while (!atomic_load(&both_seen) && gt_ms() < end) {}
    atomic_fetch_sub(&running, 1);
    gt_count_done(&left);
}

static int main_parallel(int argc, char **argv)
{
    runtime_gomaxprocs(2);
    gt_count_init(&left, 2);
    go(busy_until_both, NULL);
    go(busy_until_both, NULL);
    gt_count_wait(&left);
    GT_CHECK(atomic_load(&both_seen), "two goroutines never ran in parallel");
    return 0;
}

Test(sched_steal, gomaxprocs2_runs_two_in_parallel, .timeout = 30)
{
    gt_run(main_parallel);
}
