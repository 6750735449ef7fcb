/*
 * test/test_sched_guard.c -- a guard page below every goroutine stack:
 *  - where the kernel has MADV_GUARD_INSTALL (Linux 6.13+), every stack
 *    of 200,000 parked goroutines has one, and the process holds few
 *    mappings (guard regions do not split a mapping);
 *  - with GORT_STACK_GUARD=mprotect (the path of older kernels) guards
 *    are mprotect'ed pages, within a budget of vm.max_map_count;
 *  - on both paths a runaway recursion, in a goroutine or in main, ends
 *    with Go's two lines, "fatal error: stack overflow", the goroutine's
 *    traceback and exit status 2.
 */
#include "helpers.h"
#include "sched_helpers.h"

#define NPARK 200000

static chan_t *gate;
static sync_waitgroup_t parked;

static void parker(void *arg)
{
    sync_waitgroup_done(&parked);
    chan_recv(gate, NULL);
}

/* Lines of /proc/self/maps: the mappings the process holds. */
static long nmaps(void)
{
    FILE *f = fopen("/proc/self/maps", "r");
    long n = 0;
    for (int c; (c = fgetc(f)) != EOF;)
        n += c == '\n';
    fclose(f);
    return n;
}

/* Parks NPARK goroutines; prints the guards made and the mappings held. */
static int main_park(int argc, char **argv)
{
    GC_STORE(gate, chan_make(0, 0));
    sync_waitgroup_add(&parked, NPARK);
    for (int i = 0; i < NPARK; i++)
        go(parker, NULL);
    sync_waitgroup_wait(&parked);
    printf("installs=%d guards=%llu maps=%ld\n", sched__stack_guard_installs(),
           (unsigned long long)atomic_load(&sched__stack_guards), nmaps());
    chan_close(gate);
    return 0;
}

/* The three numbers main_park printed. */
static void park_numbers(const char *const *env, int *installs, unsigned long long *guards,
                         long *maps)
{
    gt_result_t *r = malloc(sizeof *r);
    gt_child(r, main_park, env, 120000);
    cr_assert_eq(r->status, 0, "status %d, output:\n%s", r->status, r->out);
    const char *l = strstr(r->out, "installs=");
    cr_assert(l && sscanf(l, "installs=%d guards=%llu maps=%ld", installs, guards, maps) == 3,
              "output:\n%s", r->out);
    free(r);
}

Test(sched_guard, every_stack_guarded_without_mappings, .timeout = 180)
{
    GT_SKIP_UNDER("thread", "TSan counts each live goroutine as a thread, at most 8128 at once, "
                  "and this test keeps a million");
    int installs;
    unsigned long long guards;
    long maps;
    park_numbers(NULL, &installs, &guards, &maps);
    if (!installs)
        cr_skip_test("this kernel has no MADV_GUARD_INSTALL (Linux 6.13+)");
    cr_assert_geq(guards, (unsigned long long)NPARK, "%llu guards for %d goroutines", guards, NPARK);
    cr_assert_lt(maps, 2000, "%ld mappings for %d guarded stacks", maps, NPARK);
}

Test(sched_guard, mprotect_fallback_stays_within_map_budget, .timeout = 180)
{
    GT_SKIP_UNDER("thread", "TSan counts each live goroutine as a thread, at most 8128 at once, "
                  "and this test keeps a million");
    static const char *const env[] = {"GORT_STACK_GUARD=mprotect", NULL};
    int installs;
    unsigned long long guards;
    long maps;
    park_numbers(env, &installs, &guards, &maps);
    long max = 0;
    FILE *f = fopen("/proc/sys/vm/max_map_count", "r");
    cr_assert(f && fscanf(f, "%ld", &max) == 1, "cannot read vm.max_map_count");
    fclose(f);
    cr_assert_eq(installs, 0);
    cr_assert_gt(guards, 0ull);
    cr_assert_lt(guards, (unsigned long long)NPARK, "the fallback guards within a budget");
    cr_assert_lt(maps, max / 2, "%ld mappings, max_map_count %ld", maps, max);
}

/* ---- overflow on both paths ------------------------------------------ */

static volatile int limit = 1 << 30;

__attribute__((noinline)) static int runaway(int n)
{
    volatile char pad[512];
    pad[0] = (char)n;
    int r = n < limit ? runaway(n + 1) + pad[0] : 0;
    __asm__ volatile("" ::: "memory");
    return r;
}

static void runaway_entry(void *arg) { runaway(0); }

static int main_goroutine_overflow(int argc, char **argv)
{
    go(runaway_entry, NULL);
    time_sleep(10 * TIME_SECOND);
    return 0;
}

static int main_main_overflow(int argc, char **argv)
{
    return runaway(0);
}

/* fn overflows its stack under env: Go's report, status 2. */
static void assert_overflow_report(int (*fn)(int, char **), const char *const *env)
{
    GT_EXPECT_EXIT(fn, env, 30000, 2, "runtime: goroutine stack exceeds ", "-byte limit\n",
                   "fatal error: stack overflow\n\ngoroutine ", "\nrunaway(...)\n");
}

static const char *const mprotect_env[] = {"GORT_STACK_GUARD=mprotect", NULL};

Test(sched_guard, goroutine_overflow_reported, .timeout = 60)
{
    assert_overflow_report(main_goroutine_overflow, NULL);
}
Test(sched_guard, goroutine_overflow_reported_mprotect, .timeout = 60)
{
    assert_overflow_report(main_goroutine_overflow, mprotect_env);
}
Test(sched_guard, main_overflow_reported, .timeout = 60)
{
    assert_overflow_report(main_main_overflow, NULL);
}
Test(sched_guard, main_overflow_reported_mprotect, .timeout = 60)
{
    assert_overflow_report(main_main_overflow, mprotect_env);
}
