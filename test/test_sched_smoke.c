/*
 * test_sched_smoke.c -- the scheduler's first signs of life: main runs as
 * goroutine 1, goroutines run and yield, runtime_main returns main's value.
 */
#include "helpers.h"

static _Atomic int ran;

static void bump(void *arg)
{
    (void)arg;
    runtime_gosched();
    atomic_fetch_add(&ran, 1);
}

static int body_spawn(int argc, char **argv)
{
    (void)argc; (void)argv;
    GT_CHECK(runtime_goid() == 1);
    for (int i = 0; i < 1000; i++)
        go(bump, NULL);
    while (atomic_load(&ran) < 1000)
        runtime_gosched();
    GT_CHECK(atomic_load(&ran) == 1000);
    return 0;
}

Test(sched_smoke, spawn_and_yield) { gt_run(body_spawn); }

static int body_ret(int argc, char **argv)
{
    (void)argc; (void)argv;
    return 42;
}

Test(sched_smoke, main_value_returned)
{
    char *argv[] = {(char *)"x", NULL};
    cr_assert_eq(runtime_main(body_ret, 1, argv), 42);
}

static int body_sleep(int argc, char **argv)
{
    (void)argc; (void)argv;
    int64_t t0 = time_now();
    time_sleep(20 * TIME_MILLISECOND);
    int64_t el = time_now() - t0;
    GT_CHECK(el >= 20 * TIME_MILLISECOND, "slept %lld ns", (long long)el);
    return 0;
}

Test(sched_smoke, sleep) { gt_run(body_sleep); }
