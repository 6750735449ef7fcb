/*
 * test/test_gc_memlimit.c -- the soft memory limit (GOMEMLIMIT,
 * debug_set_memory_limit) as Go 1.19's:
 *  - GOMEMLIMIT is parsed as Go's parseByteCount ("64MiB", plain bytes,
 *    "off"); anything else is Go's fatal "malformed GOMEMLIMIT";
 *  - with GOGC=off and GOMEMLIMIT=64MiB, a program with 16 MiB live that
 *    allocates 2 GB of garbage keeps its memory under the limit: its peak
 *    resident size (VmHWM) stays below the limit plus what the program
 *    holds outside the heap (its code, libraries, threads: PROCESS_SLACK);
 *  - a limit below the live heap slows the program but does not stop it;
 *  - debug_set_memory_limit returns the previous limit, and < 0 queries.
 * Each case runs in a child process with its own environment.
 */
#include "helpers.h"

#define OBJ        4096
#define LIVE_BYTES (16 << 20)
#define PROCESS_SLACK (12 << 20)   /* code, libraries, thread stacks, runtime tables */

static void **live;

/* Keeps LIVE_BYTES of objects reachable from a global. */
static void make_live(void)
{
    int n = LIVE_BYTES / OBJ;
    GC_STORE(live, gc_alloc(sizeof(void *) * (size_t)n));
    for (int i = 0; i < n; i++)
        gc_store(&live[i], gc_alloc_noscan(OBJ));
}

/* Allocates `bytes` of garbage, touching every page of it; returns the
 * process's peak resident size in bytes (heap_alloc would overstate the
 * heap: it counts dead objects until they are swept). */
static uint64_t churn(uint64_t bytes)
{
    for (uint64_t i = 0; i < bytes / OBJ; i++) {
        char *p = gc_alloc_noscan(OBJ);
        p[0] = 1;
    }
    return (uint64_t)gt_status_kib("VmHWM:") << 10;
}

/* Exit 0 if the heap stayed under the limit from the environment. */
static int main_under_limit(int argc, char **argv)
{
    make_live();
    uint64_t peak = churn(2ull << 30);
    runtime_mem_stats_t ms;
    runtime_read_mem_stats(&ms);
    printf("peak resident %llu, cycles %u\n", (unsigned long long)peak, ms.num_gc);
    int64_t limit = debug_set_memory_limit(-1);
    return peak <= (uint64_t)limit + PROCESS_SLACK && ms.num_gc >= 10 ? 0 : 1;
}

Test(gc_memlimit, gogc_off_heap_stays_under_limit, .timeout = 120)
{
    GT_SKIP_UNDER("any", "it measures resident memory, which the sanitizer's "
                  "shadow and allocator inflate");
    static const char *const env[] = {"GOGC=off", "GOMEMLIMIT=64MiB", NULL};
    gt_result_t *r = malloc(sizeof *r);
    gt_child(r, main_under_limit, env, 100000);
    cr_assert_eq(r->status, 0, "status %d, output:\n%s", r->status, r->out);
    free(r);
}

/* A limit below the live heap: the program finishes its work. */
static int main_below_live(int argc, char **argv)
{
    make_live();
    uint64_t peak = churn(256ull << 20);
    printf("finished, peak resident %llu\n", (unsigned long long)peak);
    return 0;
}

Test(gc_memlimit, limit_below_live_heap_does_not_stall, .timeout = 120)
{
    static const char *const env[] = {"GOMEMLIMIT=8MiB", NULL};
    gt_result_t *r = malloc(sizeof *r);
    gt_child(r, main_below_live, env, 100000);
    cr_assert_eq(r->status, 0, "status %d, output:\n%s", r->status, r->out);
    cr_assert(strstr(r->out, "finished") != NULL, "output:\n%s", r->out);
    free(r);
}

/* Prints the limit in force. */
static int main_print_limit(int argc, char **argv)
{
    printf("limit %lld\n", (long long)debug_set_memory_limit(-1));
    return 0;
}

/* GOMEMLIMIT=value gives limit `want` (as text). */
static void assert_parses(const char *value, const char *want)
{
    char var[64];
    snprintf(var, sizeof var, "GOMEMLIMIT=%s", value);
    const char *env[] = {var, NULL};
    gt_result_t *r = malloc(sizeof *r);
    gt_child(r, main_print_limit, env, 20000);
    char line[64];
    snprintf(line, sizeof line, "limit %s\n", want);
    cr_assert_eq(r->status, 0, "GOMEMLIMIT=%s: status %d, output:\n%s", value, r->status, r->out);
    cr_assert(strstr(r->out, line) != NULL, "GOMEMLIMIT=%s: want \"%s\", output:\n%s",
              value, want, r->out);
    free(r);
}

Test(gc_memlimit, gomemlimit_values_as_go, .timeout = 60)
{
    assert_parses("1048576", "1048576");
    assert_parses("100B", "100");
    assert_parses("1KiB", "1024");
    assert_parses("64MiB", "67108864");
    assert_parses("2GiB", "2147483648");
    assert_parses("1TiB", "1099511627776");
    assert_parses("0", "0");
    assert_parses("off", "9223372036854775807");
}

/* GOMEMLIMIT=value is Go's fatal error. */
static void assert_malformed(const char *value)
{
    char var[64];
    snprintf(var, sizeof var, "GOMEMLIMIT=%s", value);
    const char *env[] = {var, NULL};
    gt_result_t *r = malloc(sizeof *r);
    gt_child(r, main_print_limit, env, 20000);
    char want[96];
    snprintf(want, sizeof want, "GOMEMLIMIT=%s\nfatal error: malformed GOMEMLIMIT; "
             "see `go doc runtime/debug.SetMemoryLimit`\n", value);
    cr_assert_eq(r->status, 2, "GOMEMLIMIT=%s: status %d, output:\n%s", value, r->status, r->out);
    cr_assert(strstr(r->out, want) != NULL, "GOMEMLIMIT=%s: output:\n%s", value, r->out);
    free(r);
}

Test(gc_memlimit, malformed_gomemlimit_is_fatal, .timeout = 60)
{
    assert_malformed("abc");
    assert_malformed("2g");
    assert_malformed("64MB");
    assert_malformed("-1");
    assert_malformed("KiB");
    assert_malformed("99999999999999999999");
    assert_malformed("16EiB");
}

/* debug_set_memory_limit returns the previous limit; < 0 only queries;
 * a lower limit makes the collector keep the heap under it. */
static int main_set_limit(int argc, char **argv)
{
    GT_CHECK(debug_set_memory_limit(-1) == INT64_MAX);
    GT_CHECK(debug_set_memory_limit(48 << 20) == INT64_MAX);
    GT_CHECK(debug_set_memory_limit(-5) == 48 << 20);
    runtime_set_gc_percent(-1);
    make_live();
    uint64_t peak = churn(512ull << 20);
    GT_CHECK(peak <= (48u << 20) + PROCESS_SLACK, "peak resident %llu over a 48 MiB limit",
             (unsigned long long)peak);
    GT_CHECK(debug_set_memory_limit(INT64_MAX) == 48 << 20);
    return atomic_load(&gt_failures) ? 1 : 0;
}

Test(gc_memlimit, debug_set_memory_limit_as_go, .timeout = 120)
{
    GT_SKIP_UNDER("any", "it measures resident memory, which the sanitizer's "
                  "shadow and allocator inflate");
    gt_result_t *r = malloc(sizeof *r);
    gt_child(r, main_set_limit, NULL, 100000);
    cr_assert_eq(r->status, 0, "status %d, output:\n%s", r->status, r->out);
    free(r);
}
