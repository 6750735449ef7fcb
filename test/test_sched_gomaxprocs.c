/*
 * test/test_sched_gomaxprocs.c -- the P set: runtime_gomaxprocs queries and
 * changes (stop the world, resize, restart) while goroutines run, the
 * GOMAXPROCS environment variable, and runtime_num_cpu.
 */
#include <sched.h>

#include "helpers.h"
#include "sched_helpers.h"

static int affinity_cpus(void)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) != 0)
        return -1;
    return CPU_COUNT(&set);
}

static int main_num_cpu(int argc, char **argv)
{
    int n = runtime_num_cpu();
    GT_CHECK(n >= 1);
    /* Go counts the CPUs in the process's affinity mask. */
    GT_CHECK(n == affinity_cpus(), "num_cpu %d, affinity %d", n, affinity_cpus());
    return 0;
}

Test(sched_gomaxprocs, num_cpu_is_affinity_count, .timeout = 30)
{
    gt_run(main_num_cpu);
}

/* GOMAXPROCS unset: the default is the CPU count. Exit status = value. */
static int main_report(int argc, char **argv)
{
    int n = runtime_gomaxprocs(0);
    printf("gomaxprocs=%d num_cpu=%d\n", n, runtime_num_cpu());
    return n;
}

static void child_gomaxprocs(const char *setting, int want)
{
    const char *env[] = {setting, NULL};
    gt_result_t *r = malloc(sizeof *r);
    unsetenv("GOMAXPROCS");
    gt_child(r, main_report, setting ? env : NULL, 10000);
    cr_assert_eq(r->status, want, "%s: gomaxprocs %d (want %d); output:\n%s",
                 setting ? setting : "unset", r->status, want, r->out);
    free(r);
}

Test(sched_gomaxprocs, default_is_num_cpu, .timeout = 30)
{
    child_gomaxprocs(NULL, affinity_cpus());
}

Test(sched_gomaxprocs, env_sets_procs, .timeout = 30)
{
    child_gomaxprocs("GOMAXPROCS=1", 1);
    child_gomaxprocs("GOMAXPROCS=3", 3);
    child_gomaxprocs("GOMAXPROCS=7", 7);
}

/* As Go: a value that is not a positive integer is ignored. */
Test(sched_gomaxprocs, env_bad_values_use_default, .timeout = 30)
{
    child_gomaxprocs("GOMAXPROCS=0", affinity_cpus());
    child_gomaxprocs("GOMAXPROCS=-4", affinity_cpus());
    child_gomaxprocs("GOMAXPROCS=abc", affinity_cpus());
    child_gomaxprocs("GOMAXPROCS=", affinity_cpus());
}

static int main_query(int argc, char **argv)
{
    int n = runtime_gomaxprocs(0);
    GT_CHECK(n == runtime_num_cpu(), "%d", n);
    GT_CHECK(runtime_gomaxprocs(-1) == n, "a negative n only queries");
    GT_CHECK(runtime_gomaxprocs(0) == n, "0 only queries");
    GT_CHECK(runtime_gomaxprocs(3) == n, "set returns the previous value");
    GT_CHECK(runtime_gomaxprocs(0) == 3);
    GT_CHECK(runtime_gomaxprocs(1) == 3);
    GT_CHECK(runtime_gomaxprocs(1) == 1, "setting the same value");
    GT_CHECK(runtime_gomaxprocs(0) == 1);
    GT_CHECK(runtime_gomaxprocs(64) == 1);
    GT_CHECK(runtime_gomaxprocs(2) == 64);
    GT_CHECK(runtime_gomaxprocs(0) == 2);
    return 0;
}

Test(sched_gomaxprocs, query_and_set, .timeout = 30)
{
    unsetenv("GOMAXPROCS");
    gt_run(main_query);
}

/* ---- resizing while goroutines run ------------------------------------ */

#define NWORKERS 16
#define NSTEPS   20000

static uint64_t results[NWORKERS];
static _Atomic int seen_many_tids;
static gt_count_t left;

/* A computation with a known result, yielding and blocking now and then so
 * it migrates between Ps while the P set changes. */
static void worker(void *arg)
{
    intptr_t id = (intptr_t)arg;
    uint64_t acc = (uint64_t)id;
    int first_tid = gt_tid();
    for (uint64_t i = 1; i <= NSTEPS; i++) {
        acc += i * (uint64_t)(id + 1);
        if (i % 100 == 0)
            runtime_gosched();
        if (i % 5000 == 0) {
            runtime_entersyscall();
            usleep(100);
            runtime_exitsyscall();
        }
        if (gt_tid() != first_tid)
            atomic_store(&seen_many_tids, 1);
    }
    results[id] = acc;
    gt_count_done(&left);
}

static int main_resize(int argc, char **argv)
{
    gt_count_init(&left, NWORKERS);
    int prev = runtime_gomaxprocs(0);
    for (intptr_t i = 0; i < NWORKERS; i++)
        go(worker, (void *)i);
    /* Resize over and over (1..5 Ps) until the workers are done. */
    int k = 0;
    while (atomic_load(&left.n) > 0) {
        int want = 1 + (k++ % 5);
        int got = runtime_gomaxprocs(want);
        GT_CHECK(got == prev, "gomaxprocs returned %d, previous was %d", got, prev);
        GT_CHECK(runtime_gomaxprocs(0) == want);
        prev = want;
        runtime_entersyscall();
        usleep(200);
        runtime_exitsyscall();
        GT_CHECK(k < 1000000, "workers do not finish");
        if (k >= 1000000)
            break;
    }
    gt_count_wait(&left);
    for (intptr_t id = 0; id < NWORKERS; id++) {
        uint64_t want = (uint64_t)id + (uint64_t)(id + 1) * NSTEPS * (NSTEPS + 1) / 2;
        GT_CHECK(results[id] == want, "worker %ld: %llu, want %llu", (long)id,
                 (unsigned long long)results[id], (unsigned long long)want);
    }
    GT_CHECK(k >= 5, "only %d resizes happened", k);
    return 0;
}

Test(sched_gomaxprocs, resize_while_running, .timeout = 30)
{
    gt_run(main_resize);
}

/* Resizing from several goroutines at once, while others spawn. */
static gt_count_t resizers_left;

static void resizer(void *arg)
{
    intptr_t id = (intptr_t)arg;
    for (int i = 0; i < 200; i++) {
        int n = runtime_gomaxprocs(1 + (int)((i + id) % 4));
        GT_CHECK(n >= 1 && n <= 4, "gomaxprocs returned %d", n);
        if (i % 8 == 0)
            runtime_gosched();
    }
    gt_count_done(&resizers_left);
}

static gt_count_t spawned_left;
static void nothing(void *arg) { gt_count_done(&spawned_left); }

static int main_concurrent_resize(int argc, char **argv)
{
    runtime_gomaxprocs(2);
    gt_count_init(&resizers_left, 4);
    gt_count_init(&spawned_left, 20000);
    for (intptr_t i = 0; i < 4; i++)
        go(resizer, (void *)i);
    for (int i = 0; i < 20000; i++) {
        go(nothing, NULL);
        if (i % 64 == 0)
            runtime_gosched();
    }
    gt_count_wait(&resizers_left);
    gt_count_wait(&spawned_left);
    int n = runtime_gomaxprocs(0);
    GT_CHECK(n >= 1 && n <= 4, "%d", n);
    return 0;
}

Test(sched_gomaxprocs, concurrent_resizers, .timeout = 30)
{
    gt_run(main_concurrent_resize);
}

/* Goroutines queued on Ps that are removed still run: fill the local
 * queues at 4 Ps, then shrink to 1. */
static gt_count_t queued_left;
static void queued(void *arg) { gt_count_done(&queued_left); }

static void filler(void *arg)
{
    for (int i = 0; i < 200; i++)
        go(queued, NULL);
}

static int main_shrink_with_queued(int argc, char **argv)
{
    runtime_gomaxprocs(4);
    gt_count_init(&queued_left, 4 * 200);
    for (int i = 0; i < 4; i++)
        go(filler, NULL);
    runtime_gomaxprocs(1);
    gt_count_wait(&queued_left);
    GT_CHECK(runtime_gomaxprocs(0) == 1);
    return 0;
}

Test(sched_gomaxprocs, shrink_keeps_queued_goroutines, .timeout = 30)
{
    gt_run(main_shrink_with_queued);
}

/* Goroutines waiting in the yield queue of a P that is removed still run:
 * 16 goroutines take turns with runtime_gosched at 4 Ps, the P set shrinks
 * to 1 and stays there, and every one of them must finish. */
#define NYIELDERS 16
static _Atomic int yield_stop;
static _Atomic int yield_started;
static gt_count_t yielders_left;

static void yielder(void *arg)
{
    (void)arg;
    atomic_fetch_add(&yield_started, 1);
    while (!atomic_load(&yield_stop))
        runtime_gosched();
    gt_count_done(&yielders_left);
}

static int main_shrink_with_yielded(int argc, char **argv)
{
    runtime_gomaxprocs(4);
    gt_count_init(&yielders_left, NYIELDERS);
    for (int i = 0; i < NYIELDERS; i++)
        go(yielder, NULL);
    int64_t end = gt_ms() + 10000;
    while (atomic_load(&yield_started) < NYIELDERS && gt_ms() < end)
        runtime_gosched();
    runtime_gomaxprocs(1);
    atomic_store(&yield_stop, 1);
    /* Not gt_count_wait: a stranded yielder must fail the test, not hang it. */
    while (atomic_load(&yielders_left.n) > 0 && gt_ms() < end)
        time_sleep(TIME_MILLISECOND);
    GT_CHECK(atomic_load(&yielders_left.n) == 0, "%lld yielders never ran again",
             (long long)atomic_load(&yielders_left.n));
    return 0;
}

Test(sched_gomaxprocs, shrink_keeps_yielded_goroutines, .timeout = 30)
{
    gt_run(main_shrink_with_yielded);
}
