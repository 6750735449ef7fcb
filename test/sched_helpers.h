/*
 * test/sched_helpers.h -- helpers for the scheduler's Criterion tests
 * (test/test_sched_*.c).
 *
 * The scheduler tests must not depend on channels or the sync package (a
 * bug there would show up as a scheduler failure), so they block
 * goroutines with the scheduler's own park/ready API (sched/internal.h):
 *
 *   gt_gate_t   one waiter parks in gt_gate_wait until someone calls
 *               gt_gate_open (before or after the wait; exactly one wake-up)
 *   gt_count_t  a countdown: gt_count_done called n times opens its gate
 *
 * Tests link libgort statically, so the hidden internal symbols resolve.
 * Invariant: a gate is opened at most once and waited on by at most one G.
 */
#ifndef GORT_TEST_SCHED_HELPERS_H
#define GORT_TEST_SCHED_HELPERS_H

#include <stdatomic.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../sched/internal.h"

/* GT_CHECK(cond) without a message expands to fprintf(stderr, ""). */
#pragma GCC diagnostic ignored "-Wformat-zero-length"

/* The kernel thread id of the calling thread (the M, not the goroutine). */
static inline int gt_tid(void) { return (int)syscall(SYS_gettid); }

/* Milliseconds of CLOCK_MONOTONIC. */
static inline int64_t gt_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

#define GT_GATE_OPENED ((g_t *)1)

/* NULL: closed, nobody waiting; a G: closed, that G parked; OPENED. */
typedef struct { _Atomic(g_t *) g; } gt_gate_t;

/* Runs on g0 once the waiter is switched out: publishes the G unless the
 * gate was opened meanwhile (then the G is made runnable again at once). */
static inline bool gt_gate_unlockf(g_t *g, void *arg)
{
    gt_gate_t *gate = arg;
    g_t *expected = NULL;
    return atomic_compare_exchange_strong(&gate->g, &expected, g);
}

/* Parks the calling goroutine until the gate is opened. */
static inline void gt_gate_wait(gt_gate_t *gate)
{
    while (atomic_load(&gate->g) != GT_GATE_OPENED)
        sched__park(gt_gate_unlockf, gate, "chan receive");
}

/* Opens the gate, readying its waiter if one is parked. Any context. */
static inline void gt_gate_open(gt_gate_t *gate)
{
    g_t *old = atomic_exchange(&gate->g, GT_GATE_OPENED);
    if (old != NULL && old != GT_GATE_OPENED)
        sched__ready(old, false);
}

typedef struct {
    _Atomic int64_t n;
    gt_gate_t gate;
} gt_count_t;

static inline void gt_count_init(gt_count_t *c, int64_t n)
{
    atomic_store(&c->n, n);
    atomic_store(&c->gate.g, n == 0 ? GT_GATE_OPENED : NULL);
}

static inline void gt_count_done(gt_count_t *c)
{
    if (atomic_fetch_sub(&c->n, 1) == 1)
        gt_gate_open(&c->gate);
}

static inline void gt_count_wait(gt_count_t *c) { gt_gate_wait(&c->gate); }

/* Parks the calling goroutine forever (Go's select {}). */
static inline void gt_park_forever(void)
{
    for (;;)
        sched__park(NULL, NULL, "select (no cases)");
}

/* Yields until *flag is non-zero or ms milliseconds passed; returns the
 * flag. For waiting on a goroutine that cannot open a gate. */
static inline int gt_yield_until(_Atomic int *flag, int64_t ms)
{
    int64_t end = gt_ms() + ms;
    while (!atomic_load(flag) && gt_ms() < end)
        runtime_gosched();
    return atomic_load(flag);
}

/* Waits (at most 15 s, for a loaded machine) until n goroutines started
 * with fn are parked or in a system call: a dump taken before that would
 * show them running. */
static inline void gt_wait_parked(void (*fn)(void *), int n)
{
    for (int tries = 0; tries < 15000; tries++) {
        int k = 0;
        size_t len = atomic_load(&sched__allglen);
        for (size_t i = 0; i < len; i++) {
            g_t *gp = sched__allgs[i];
            uint32_t st = gp ? atomic_load(&gp->status) : G_DEAD;
            if (gp && gp->fn == fn && (st == G_WAITING || st == G_SYSCALL))
                k++;
        }
        if (k >= n)
            return;
        time_sleep(TIME_MILLISECOND);
    }
    /* Leave a trace for whoever reads a failing test's output. */
    size_t len = atomic_load(&sched__allglen);
    for (size_t i = 0; i < len; i++) {
        g_t *gp = sched__allgs[i];
        if (gp && gp->fn == fn)
            fprintf(stderr, "gt_wait_parked: goroutine %lld still in status %u after 15 s\n",
                    (long long)gp->goid, atomic_load(&gp->status));
    }
}

#endif
