/*
 * test/test_sched_fpenv.c -- the floating-point environment is part of a
 * goroutine's context (the ABI makes MXCSR and the x87 control word
 * callee-saved): a goroutine's rounding mode survives its switches
 * (through g0, and G to G directly), and a new goroutine starts with the
 * defaults even when it takes over the stack of one that changed them
 * and ended (sched/park.c, goexit_direct).
 */
#include <fenv.h>

#include "helpers.h"
#include "sched_helpers.h"

static uint32_t mxcsr_rc(void)
{
    uint32_t v;
    __asm__ volatile("stmxcsr %0" : "=m"(v));
    return (v >> 13) & 3;
}

static uint16_t x87_rc(void)
{
    uint16_t v;
    __asm__ volatile("fnstcw %0" : "=m"(v));
    return (v >> 10) & 3;
}

/* ---- a new goroutine starts with the defaults ------------------------- */

static _Atomic int bad_start;
static gt_count_t started_left;

static void changes_and_exits(void *arg)
{
    (void)arg;
    if (mxcsr_rc() != 0 || x87_rc() != 0)
        atomic_fetch_add(&bad_start, 1);
    fesetround(FE_UPWARD);
    gt_count_done(&started_left);
}

static int main_fresh(int argc, char **argv)
{
    runtime_gomaxprocs(1);
    enum { N = 1000 };
    gt_count_init(&started_left, N);
    /* Queued together: each one starts on the stack G the previous one
     * just ended on, after it set FE_UPWARD. */
    for (int i = 0; i < N; i++)
        go(changes_and_exits, NULL);
    gt_count_wait(&started_left);
    GT_CHECK(atomic_load(&bad_start) == 0,
             "%d goroutines started with a non-default rounding mode",
             atomic_load(&bad_start));
    return 0;
}

Test(sched_fpenv, new_goroutines_start_with_defaults) { gt_run(main_fresh); }

/* ---- rounding modes survive switches ---------------------------------- */

#define ROUNDS 2000
static chan_t *ping, *pong;
static _Atomic int bad_keep;

static void keeps_mode(void *arg)
{
    int mode = (int)(intptr_t)arg;
    fesetround(mode);
    int expect = mode == FE_DOWNWARD ? 1 : 2;   /* RC field values */
    for (int i = 0; i < ROUNDS; i++) {
        int v;
        chan_recv(ping, &v);   /* parks: the partner runs with its own mode */
        if (mxcsr_rc() != (uint32_t)expect || x87_rc() != expect)
            atomic_fetch_add(&bad_keep, 1);
        chan_send(pong, &v);
        runtime_gosched();
        if (mxcsr_rc() != (uint32_t)expect || x87_rc() != expect)
            atomic_fetch_add(&bad_keep, 1);
    }
}

static int main_keep(int argc, char **argv)
{
    runtime_gomaxprocs(1);
    ping = chan_make(sizeof(int), 0);
    pong = chan_make(sizeof(int), 0);
    go(keeps_mode, (void *)(intptr_t)FE_DOWNWARD);
    go(keeps_mode, (void *)(intptr_t)FE_UPWARD);
    for (int i = 0; i < 2 * ROUNDS; i++) {
        chan_send(ping, &i);
        GT_CHECK(mxcsr_rc() == 0 && x87_rc() == 0, "main's mode changed");
        int v;
        chan_recv(pong, &v);
        GT_CHECK(mxcsr_rc() == 0 && x87_rc() == 0, "main's mode changed");
    }
    GT_CHECK(atomic_load(&bad_keep) == 0, "%d resumptions with a foreign rounding mode",
             atomic_load(&bad_keep));
    return 0;
}

Test(sched_fpenv, rounding_mode_survives_switches) { gt_run(main_keep); }
