/*
 * test/test_sched_preempt.c -- preemption of goroutines that make no
 * runtime calls (asynchronous, by signal, as Go's SIGURG), at GOMAXPROCS=1:
 *  - a `for (;;) x++` loop does not starve the goroutine that stops it;
 *  - several tight loops all progress;
 *  - preempted code computes bit-identical integer and floating-point
 *    results (every register is restored);
 *  - GODEBUG=asyncpreemptoff=1 turns the signal off: a bounded busy loop
 *    then runs to its end before anyone else runs.
 */
#include <math.h>

#include "helpers.h"
#include "sched_helpers.h"

static volatile int stop;
static _Atomic int started, finished;

__attribute__((noinline)) static void tight_loop(void *arg)
{
    uint64_t x = 0;
    atomic_store(&started, 1);
    while (!stop)
        x++;
    *(volatile uint64_t *)arg = x;
    atomic_store(&finished, 1);
}

static void stopper(void *arg)
{
    stop = 1;
}

static int main_tight_loop(int argc, char **argv)
{
    static volatile uint64_t result;
    runtime_gomaxprocs(1);
    go(tight_loop, (void *)&result);
    /* Yield until the loop has started: from then on main runs only if the
     * loop is preempted. */
    while (!atomic_load(&started))
        runtime_gosched();
    go(stopper, NULL);
    GT_CHECK(gt_yield_until(&finished, 20000), "tight loop never stopped");
    GT_CHECK(stop == 1);
    return 0;
}

Test(sched_preempt, tight_loop_does_not_starve, .timeout = 30)
{
    GT_SKIP_UNDER("thread", "asynchronous preemption is off under TSan");
    gt_run(main_tight_loop);
}

/* Main itself is the one that must get the CPU back. */
static int main_tight_loop_main_stops(int argc, char **argv)
{
    static volatile uint64_t result;
    runtime_gomaxprocs(1);
    go(tight_loop, (void *)&result);
    while (!atomic_load(&started))
        runtime_gosched();
    stop = 1; /* main ran again: the loop was preempted */
    GT_CHECK(gt_yield_until(&finished, 20000));
    GT_CHECK(result > 0);
    return 0;
}

Test(sched_preempt, main_regains_cpu_from_tight_loop, .timeout = 30)
{
    GT_SKIP_UNDER("thread", "asynchronous preemption is off under TSan");
    gt_run(main_tight_loop_main_stops);
}

/* Several tight loops at once, each counting: all get CPU time. */
#define NLOOPS 4
static _Atomic uint64_t loop_counts[NLOOPS];
static gt_count_t loops_left;

__attribute__((noinline)) static void counting_loop(void *arg)
{
    intptr_t id = (intptr_t)arg;
    while (!stop)
        atomic_fetch_add_explicit(&loop_counts[id], 1, memory_order_relaxed);
    gt_count_done(&loops_left);
}

static int main_many_loops(int argc, char **argv)
{
    runtime_gomaxprocs(1);
    stop = 0;
    gt_count_init(&loops_left, NLOOPS);
    for (intptr_t i = 0; i < NLOOPS; i++)
        go(counting_loop, (void *)i);
    int64_t end = gt_ms() + 10000;
    for (;;) {
        runtime_gosched();
        int all = 1;
        for (int i = 0; i < NLOOPS; i++)
            all &= atomic_load(&loop_counts[i]) > 0;
        if (all || gt_ms() > end)
            break;
    }
    stop = 1;
    gt_count_wait(&loops_left);
    for (int i = 0; i < NLOOPS; i++)
        GT_CHECK(atomic_load(&loop_counts[i]) > 0, "loop %d never ran", i);
    return 0;
}

Test(sched_preempt, all_tight_loops_progress, .timeout = 30)
{
    GT_SKIP_UNDER("thread", "asynchronous preemption is off under TSan");
    gt_run(main_many_loops);
}

/* ---- register state survives preemption -------------------------------- */

#define MIX_ITERS 30000000ULL

/* Integer and double arithmetic that keeps many registers (general and
 * vector) live; the result depends on every step. */
__attribute__((noinline)) static void mix(uint64_t iters, uint64_t *iout,
                                          double *dout)
{
    uint64_t a = 1, b = 2, c = 3, d = 5, e = 7, f = 11;
    double x = 1.0, y = 0.5, z = 0.25, w = 0.125;
    for (uint64_t i = 0; i < iters; i++) {
        a += b ^ i; b = (b << 1 | b >> 63) + c; c ^= d * 31; d += e >> 3;
        e = e * 6364136223846793005ULL + f; f += a;
        x = x * 0.999999 + y; y = y * 1.000001 - z * 0.5; z = z + w * 1e-9;
        w = w * 0.9999999 + (double)(i & 7) * 1e-12;
        if (x > 1e6) x *= 1e-6;
    }
    *iout = a ^ b ^ c ^ d ^ e ^ f;
    *dout = x + y + z + w;
}

static uint64_t ref_i;
static double ref_d;
static uint64_t got_i[2];
static double got_d[2];
static gt_count_t mix_left;

static _Atomic int mix_started[2], mix_finished[2], mix_interleaved;

/* Computes until the two computations have interleaved (one saw the
 * other start while it was still computing: it was preempted), 10 s at
 * most: a loaded machine may run sysmon late. Every result is kept. */
static void mix_g(void *arg)
{
    intptr_t k = (intptr_t)arg;
    atomic_store(&mix_started[k], 1);
    int64_t end = gt_ms() + 10000;
    do {
        mix(MIX_ITERS, &got_i[k], &got_d[k]);
        if (got_i[k] != ref_i || memcmp(&got_d[k], &ref_d, sizeof ref_d) != 0)
            break;   /* main reports it */
        if (atomic_load(&mix_started[1 - k]) && !atomic_load(&mix_finished[1 - k]))
            atomic_store(&mix_interleaved, 1);
    } while (!atomic_load(&mix_interleaved) && gt_ms() < end);
    atomic_store(&mix_finished[k], 1);
    gt_count_done(&mix_left);
}

static int main_mix(int argc, char **argv)
{
    runtime_gomaxprocs(1);
    gt_count_init(&mix_left, 2);
    go(mix_g, (void *)0);
    go(mix_g, (void *)1);
    gt_count_wait(&mix_left);
    /* They computed until a preemption made them interleave. */
    GT_CHECK(atomic_load(&mix_interleaved), "the two never interleaved");
    for (int k = 0; k < 2; k++) {
        GT_CHECK(got_i[k] == ref_i, "int result %d differs", k);
        GT_CHECK(memcmp(&got_d[k], &ref_d, sizeof ref_d) == 0,
                 "double result %d differs: %.17g vs %.17g", k, got_d[k], ref_d);
    }
    return 0;
}

Test(sched_preempt, registers_survive_preemption, .timeout = 30)
{
    GT_SKIP_UNDER("thread", "asynchronous preemption is off under TSan");
    mix(MIX_ITERS, &ref_i, &ref_d); /* reference, before the runtime runs */
    gt_run(main_mix);
}

/* ---- GODEBUG=asyncpreemptoff=1 ------------------------------------------ */

/* Busy for about 300 ms of wall time, without runtime calls. */
__attribute__((noinline)) static void busy_300ms(void *arg)
{
    volatile uint64_t x = 0;
    atomic_store(&started, 1);
    int64_t end = gt_ms() + 300;
    while (gt_ms() < end)
        for (int i = 0; i < 100000; i++)
            x++;
    atomic_store(&finished, 1);
}

/* out has sysmon's one report of a goroutine that cannot be preempted,
 * naming why. */
static void assert_stuck_report(const char *out, const char *why)
{
    const char *line = strstr(out, "gort: goroutine ");
    cr_assert(line != NULL, "no report of the unpreemptible loop; output:\n%s", out);
    cr_assert(strstr(line, "cannot be preempted") != NULL, "output:\n%s", out);
    cr_assert(strstr(line, why) != NULL, "report does not say \"%s\":\n%s", why, out);
    cr_assert_null(strstr(line + 1, "gort: goroutine "), "reported twice:\n%s", out);
}

/* Exit status 10: main ran while the loop was still busy (preempted);
 * 11: main ran only after the loop ended (not preempted). */
static int main_busy(int argc, char **argv)
{
    runtime_gomaxprocs(1);
    go(busy_300ms, NULL);
    while (!atomic_load(&started))
        runtime_gosched();
    int preempted = !atomic_load(&finished);
    gt_yield_until(&finished, 10000);
    return preempted ? 10 : 11;
}

Test(sched_preempt, busy_loop_preempted_by_default, .timeout = 30)
{
    GT_SKIP_UNDER("thread", "asynchronous preemption is off under TSan");
    gt_result_t *r = malloc(sizeof *r);
    gt_child(r, main_busy, NULL, 10000);
    cr_assert_eq(r->status, 10, "status %d (11: not preempted), output:\n%s",
                 r->status, r->out);
    cr_assert_null(strstr(r->out, "cannot be preempted"), "output:\n%s", r->out);
    free(r);
}

Test(sched_preempt, asyncpreemptoff_disables_signal, .timeout = 30)
{
    GT_SKIP_UNDER("thread", "asynchronous preemption is off under TSan");
    static const char *const env[] = {"GODEBUG=asyncpreemptoff=1", NULL};
    gt_result_t *r = malloc(sizeof *r);
    gt_child(r, main_busy, env, 10000);
    cr_assert_eq(r->status, 11, "status %d (10: preempted anyway), output:\n%s",
                 r->status, r->out);
    assert_stuck_report(r->out, "GODEBUG=asyncpreemptoff=1");
    free(r);
}

/* A fully static program (test/static_spin.c, linked -static) has no
 * asynchronous preemption; a loop that keeps main from running for 300 ms
 * is reported, once, with the reason. */
Test(sched_preempt, static_program_reports_unpreemptible_loop, .timeout = 30)
{
    GT_SKIP_UNDER("any", "a fully static program cannot carry the sanitizer's runtime");
    char *argv[] = {(char *)GT_BUILD_DIR "/test/static_spin", NULL};
    gt_result_t *r = malloc(sizeof *r);
    gt_exec(r, argv, 10000);
    cr_assert_eq(r->status, 0, "status %d, output:\n%s", r->status, r->out);
    cr_assert(strstr(r->out, "main ran after the loop") != NULL, "output:\n%s", r->out);
    assert_stuck_report(r->out, "fully static program");
    free(r);
}
