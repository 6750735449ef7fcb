/*
 * test/test_sched_goexit.c -- runtime_goexit ends the calling goroutine at
 * once (nothing after it runs), from any depth of calls, and the goroutine
 * no longer counts in runtime_num_goroutine; its G is reused.
 * (Defers run by Goexit are the panic tests' business.)
 */
#include "helpers.h"
#include "sched_helpers.h"

static _Atomic int before, after;
static gt_count_t left;

__attribute__((noinline)) static void deep(int n)
{
    if (n > 0) {
        deep(n - 1);
    } else {
        gt_count_done(&left); /* counted before it ends */
        runtime_goexit();
    }
    atomic_fetch_add(&after, 1);
}

static void exiter(void *arg)
{
    atomic_fetch_add(&before, 1);
    deep((int)(intptr_t)arg);
    atomic_fetch_add(&after, 1);
}

static int main_goexit(int argc, char **argv)
{
    const int n = 1000;
    gt_count_init(&left, n);
    for (int i = 0; i < n; i++)
        go(exiter, (void *)(intptr_t)(i % 20));
    gt_count_wait(&left);
    int64_t end = gt_ms() + 5000;
    while (runtime_num_goroutine() != 1 && gt_ms() < end)
        runtime_gosched();
    GT_CHECK(runtime_num_goroutine() == 1, "%d goroutines left",
             runtime_num_goroutine());
    GT_CHECK(atomic_load(&before) == n);
    GT_CHECK(atomic_load(&after) == 0, "%d returns after runtime_goexit",
             atomic_load(&after));
    /* The runtime still runs new goroutines (on reused Gs). */
    gt_count_init(&left, n);
    for (int i = 0; i < n; i++)
        go(exiter, (void *)(intptr_t)0);
    gt_count_wait(&left);
    GT_CHECK(atomic_load(&after) == 0);
    return 0;
}

Test(sched_goexit, ends_goroutine_at_any_depth, .timeout = 30)
{
    gt_run(main_goexit);
}
