/*
 * test/test_sched_threads.c -- the thread cap (debug.SetMaxThreads): 10000
 * by default; a program that needs more Ms than the cap (goroutines
 * blocked in system calls each hold one) dies as Go's does:
 *     runtime: program exceeds 5-thread limit
 *     fatal error: thread exhaustion
 * and exit status 2. Under the cap, blocking calls each get their M.
 */
#include "helpers.h"
#include "sched_helpers.h"

static gt_count_t left;
static _Atomic int entered, nblockers;

/* Stays in its blocking call until all nblockers goroutines are in theirs
 * (10 s at most), so that they all hold an M at the same time. */
static void blocker(void *arg)
{
    atomic_fetch_add(&entered, 1);
    runtime_entersyscall();
    for (int i = 0; i < 10000 && atomic_load(&entered) < atomic_load(&nblockers); i++)
        gt_usleep_full(1000);
    runtime_exitsyscall();
    gt_count_done(&left);
}

static int main_default_cap(int argc, char **argv)
{
    int old = debug_set_max_threads(20000);
    GT_CHECK(old == 10000, "default thread cap %d", old);
    GT_CHECK(debug_set_max_threads(10000) == 20000);
    /* 12 goroutines blocked at once: 12+ Ms, well under the cap. */
    atomic_store(&nblockers, 12);
    gt_count_init(&left, 12);
    for (int i = 0; i < 12; i++)
        go(blocker, NULL);
    gt_count_wait(&left);
    return 0;
}

Test(sched_threads, default_cap_and_many_blocked_calls, .timeout = 30)
{
    gt_run(main_default_cap);
}

static int main_exceed(int argc, char **argv)
{
    debug_set_max_threads(5);
    atomic_store(&nblockers, 20);
    gt_count_init(&left, 20);
    for (int i = 0; i < 20; i++)
        go(blocker, NULL);
    gt_count_wait(&left);
    printf("all calls returned\n");
    return 0;
}

Test(sched_threads, exceeding_cap_is_thread_exhaustion, .timeout = 30)
{
    GT_EXPECT_EXIT(main_exceed, NULL, 20000, 2, "program exceeds 5-thread limit",
                   "fatal error: thread exhaustion");   /* Go's text */
}
