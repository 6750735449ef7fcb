/*
 * test/test_sched_fairness.c -- the global run queue is not starved by a
 * busy local run queue: every 61st schedule on a P takes from the global
 * queue first (Go's schedtick % 61 rule).
 *
 * At GOMAXPROCS=1 a victim goroutine fills the P's local queue with
 * NWORKERS short goroutines and then puts itself on the global queue with
 * runtime_gosched. Without the rule the P would drain its whole local
 * queue first; with it, the victim runs again after at most 61 schedules
 * (plus the runnext slot). Workers that ran before the victim came back
 * are counted.
 *
 * (A chain of goroutines that each spawn their successor into runnext
 * inherits one time slice and starves the global queue in Go 1.19 too:
 * runnext does not advance schedtick. That is Go's behaviour, not tested
 * as a fairness property here.)
 */
#include "helpers.h"
#include "sched_helpers.h"

#define NWORKERS 200          /* local queue depth, < 256: no spill */
#define FAIR_BOUND 100        /* 61 ticks + runnext + slack */

static _Atomic int victim_back;
static _Atomic int ran_before_victim;
static gt_count_t workers_left;
static gt_gate_t victim_done;

static void worker(void *arg)
{
    if (!atomic_load(&victim_back))
        atomic_fetch_add(&ran_before_victim, 1);
    gt_count_done(&workers_left);
}

static void victim(void *arg)
{
    for (int i = 0; i < NWORKERS; i++)
        go(worker, NULL);
    runtime_gosched();   /* to the global queue, behind a full local one */
    atomic_store(&victim_back, 1);
    gt_gate_open(&victim_done);
}

static int main_fairness(int argc, char **argv)
{
    runtime_gomaxprocs(1);
    gt_count_init(&workers_left, NWORKERS);
    go(victim, NULL);
    gt_gate_wait(&victim_done);
    gt_count_wait(&workers_left);
    GT_CHECK(atomic_load(&victim_back));
    GT_CHECK(atomic_load(&ran_before_victim) <= FAIR_BOUND,
             "victim on the global queue waited for %d of %d local workers",
             atomic_load(&ran_before_victim), NWORKERS);
    return 0;
}

Test(sched_fairness, global_queue_runs_while_local_busy, .timeout = 30)
{
    gt_run(main_fairness);
}

/* Two goroutines that yield to each other with runtime_gosched (both go
 * through the global queue) and a third that counts: all three progress. */
static _Atomic int stop;
static _Atomic int64_t counts[3];
static gt_count_t yielders_left;

static void yielder(void *arg)
{
    intptr_t id = (intptr_t)arg;
    while (!atomic_load(&stop)) {
        atomic_fetch_add(&counts[id], 1);
        runtime_gosched();
    }
    gt_count_done(&yielders_left);
}

static int main_yielders(int argc, char **argv)
{
    runtime_gomaxprocs(1);
    gt_count_init(&yielders_left, 3);
    for (intptr_t i = 0; i < 3; i++)
        go(yielder, (void *)i);
    int64_t end = gt_ms() + 5000;
    while (gt_ms() < end) {
        runtime_gosched();
        if (atomic_load(&counts[0]) > 1000 && atomic_load(&counts[1]) > 1000 &&
            atomic_load(&counts[2]) > 1000)
            break;
    }
    atomic_store(&stop, 1);
    gt_count_wait(&yielders_left);
    for (int i = 0; i < 3; i++)
        GT_CHECK(atomic_load(&counts[i]) > 1000, "yielder %d: %lld rounds", i,
                 (long long)atomic_load(&counts[i]));
    /* Round robin through the global queue: no one runs far ahead. */
    int64_t lo = counts[0], hi = counts[0];
    for (int i = 1; i < 3; i++) {
        if (counts[i] < lo) lo = counts[i];
        if (counts[i] > hi) hi = counts[i];
    }
    GT_CHECK(hi <= 2 * lo + 10, "unfair round robin: %lld vs %lld",
             (long long)lo, (long long)hi);
    return 0;
}

Test(sched_fairness, gosched_round_robin, .timeout = 30)
{
    gt_run(main_yielders);
}
