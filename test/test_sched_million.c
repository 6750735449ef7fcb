/*
 * test/test_sched_million.c -- 1,000,000 goroutines alive at once on a
 * default kernel (vm.max_map_count 65530: stacks cannot each be their own
 * guarded mapping). All park, are counted, then all are released and run
 * to their end. The default stack is 64 KiB of address space; only touched
 * pages cost memory, so the resident size stays far below 64 KiB per
 * goroutine.
 */
#include "helpers.h"
#include "sched_helpers.h"

#define NG 1000000

static gt_gate_t *gates;
static gt_count_t parked, finished;
static _Atomic int64_t sum;

static void parker(void *arg)
{
    size_t i = (size_t)arg;
    volatile char touch[256]; /* use a little stack, as real code does */
    touch[0] = (char)i;
    gt_count_done(&parked);
    gt_gate_wait(&gates[i]);
    atomic_fetch_add(&sum, (int64_t)i + touch[0] - (char)i);
    gt_count_done(&finished);
}

static int main_million(int argc, char **argv)
{
    gates = calloc(NG, sizeof *gates);
    GT_CHECK(gates != NULL);
    gt_count_init(&parked, NG);
    gt_count_init(&finished, NG);
    long rss0 = gt_status_kib("VmRSS:");
    int64_t t0 = gt_ms();
    for (size_t i = 0; i < NG; i++)
        go(parker, (void *)i);
    gt_count_wait(&parked);
    int64_t t1 = gt_ms();
    long rss1 = gt_status_kib("VmRSS:");
    int ng = runtime_num_goroutine();
    GT_CHECK(ng == NG + 1, "num_goroutine %d with %d parked", ng, NG);
    fprintf(stderr, "1e6 goroutines parked in %lld ms, RSS +%ld MiB "
            "(%.0f bytes each)\n", (long long)(t1 - t0), (rss1 - rss0) / 1024,
            (rss1 - rss0) * 1024.0 / NG);
    /* Far below the 64 KiB of address space each stack has. */
    GT_CHECK(rss1 - rss0 < (long)NG * 16, "RSS grew by %ld KiB", rss1 - rss0);

    for (size_t i = 0; i < NG; i++)
        gt_gate_open(&gates[i]);
    gt_count_wait(&finished);
    GT_CHECK(atomic_load(&sum) == (int64_t)NG * (NG - 1) / 2, "sum %lld",
             (long long)atomic_load(&sum));
    fprintf(stderr, "released and finished in %lld ms\n",
            (long long)(gt_ms() - t1));
    int64_t end = gt_ms() + 10000;
    while (runtime_num_goroutine() != 1 && gt_ms() < end)
        runtime_gosched();
    GT_CHECK(runtime_num_goroutine() == 1, "%d left", runtime_num_goroutine());
    return 0;
}

Test(sched_million, one_million_alive_at_once, .timeout = 120)
{
    GT_SKIP_UNDER("any", "a million goroutines take the sanitizer's shadow and "
                  "bookkeeping of each (8 KiB under ASan: 8 GB)");
    gt_run(main_million);
}

/* A second wave after the first: stacks and descriptors are reused, so
 * the second million costs no new memory. */
static int main_two_waves(int argc, char **argv)
{
    const size_t n = NG / 4;
    gates = calloc(n, sizeof *gates);
    long rss_after_first = 0;
    for (int wave = 0; wave < 2; wave++) {
        memset(gates, 0, n * sizeof *gates);
        gt_count_init(&parked, (int64_t)n);
        gt_count_init(&finished, (int64_t)n);
        for (size_t i = 0; i < n; i++)
            go(parker, (void *)i);
        gt_count_wait(&parked);
        for (size_t i = 0; i < n; i++)
            gt_gate_open(&gates[i]);
        gt_count_wait(&finished);
        if (wave == 0)
            rss_after_first = gt_status_kib("VmRSS:");
    }
    long grew = gt_status_kib("VmRSS:") - rss_after_first;
    GT_CHECK(grew < (long)(n * 4) / 10, "second wave grew RSS by %ld KiB "
             "(stacks not reused?)", grew);
    return 0;
}

Test(sched_million, stacks_reused_across_waves, .timeout = 120)
{
    GT_SKIP_UNDER("any", "a million goroutines take the sanitizer's shadow and "
                  "bookkeeping of each (8 KiB under ASan: 8 GB)");
    gt_run(main_two_waves);
}
