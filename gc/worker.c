/*
 * gc/worker.c -- the background mark workers' share of the CPU, as Go's
 * gcController: 25% of GOMAXPROCS while a mark runs, as whole dedicated
 * Ps where 25% of them rounds to a whole number within 30%, and the rest
 * (all of it below GOMAXPROCS=4) as a fractional share each P takes in
 * turns of marking.
 *
 * A worker is schedule() on g0: before a P picks its next goroutine it
 * asks gc__mark_worker whether this P owes the collector time, and if so
 * marks there, a budget at a time. A dedicated worker marks until no grey
 * object is left; a fractional one until its P's marking time this cycle
 * exceeds its share of the time since the mark began (with 20% slack, so
 * turns are not a budget long). Either stops at once for a stop of the
 * world. Its grey set goes back to the global list before it returns, as
 * an idle P's does: nothing stays private across the phase flips.
 * While workers are on, direct G-to-G switches and a yield's shortcut to
 * the oldest yielded G go through schedule(), so that a program that only
 * hands off between goroutines, and the cycle's goroutine yielding between
 * budgets, still give the collector its share.
 *
 * May call: mark.c's drain, the cycle's byte count. Context: g0 holding a
 * P; start and stop with the world stopped.
 */
#include "internal.h"

#define GC_BG_UTILIZATION  0.25   /* of GOMAXPROCS, as Go's gcBackgroundUtilization */
#define GC_MAX_UTIL_ERROR  0.30   /* dedicated workers only within this of the goal */
#define GC_FRACTIONAL_SLACK 1.2   /* a fractional turn ends past 1.2x its share */

_Atomic bool gc__workers_on;
static _Atomic int32_t dedicated_left;   /* dedicated workers not running */
static double frac_goal;                 /* of one P's time, per P */
static int64_t mark_start;
static uint32_t worker_cycle;            /* stamps each P's per-cycle clock */
static _Atomic int64_t worker_ns;
_Atomic uint64_t gc__worker_marked[2];

void gc__workers_split(int32_t procs, int32_t *dedicated, double *fractional)
{
    double total = procs * GC_BG_UTILIZATION;
    int32_t d = (int32_t)(total + 0.5);
    double err = d / total - 1;
    *fractional = 0;
    if (err < -GC_MAX_UTIL_ERROR || err > GC_MAX_UTIL_ERROR) {
        if (d > total)
            d--;
        *fractional = (total - d) / procs;
    }
    *dedicated = d;
}

void gc__workers_start(int32_t procs)
{
    int32_t dedicated;
    gc__workers_split(procs, &dedicated, &frac_goal);
    atomic_store(&dedicated_left, dedicated);
    atomic_store(&worker_ns, 0);
    worker_cycle++;
    mark_start = runtime__nanotime();
    atomic_store(&gc__workers_on, true);
}

int64_t gc__workers_stop(void)
{
    atomic_store(&gc__workers_on, false);
    return atomic_load(&worker_ns);
}

/* Takes a dedicated worker's slot if one is free. */
static bool take_dedicated(void)
{
    int32_t n = atomic_load_explicit(&dedicated_left, memory_order_relaxed);
    while (n > 0)
        if (atomic_compare_exchange_weak(&dedicated_left, &n, n - 1))
            return true;
    return false;
}

/* Whether p's fractional worker is behind its share at now. */
static bool fraction_due(p_t *p, int64_t now, double slack)
{
    if (p->gcmarkcycle != worker_cycle) {
        p->gcmarkcycle = worker_cycle;
        p->gcmarkns = 0;
    }
    return (double)p->gcmarkns <= slack * frac_goal * (double)(now - mark_start);
}

bool gc__mark_worker(p_t *p)
{
    if (!gc__work_pending())
        return false;
    int64_t t0 = runtime__nanotime(), t = t0, start = t0;
    bool dedicated = take_dedicated();
    if (!dedicated && (frac_goal == 0 || !fraction_due(p, t0, 1.0)))
        return false;
    int budget = runtime__debug.gc_mark_budget > 0 ? runtime__debug.gc_mark_budget : GC_IDLE_BUDGET;
    gc__work_t w;
    gc__work_init(&w);
    for (;;) {
        bool empty = gc__drain_some(&w, budget);
        gc__work_share(&w);
        t = runtime__nanotime();
        if (empty || atomic_load_explicit(&sched__sched.gcwaiting, memory_order_relaxed))
            break;
        p->gcmarkns += t - t0;
        t0 = t;
        if (!dedicated && !fraction_due(p, t, GC_FRACTIONAL_SLACK))
            break;
    }
    p->gcmarkns += t - t0;
    gc__note_marked(w.marked_bytes);
    atomic_fetch_add_explicit(&gc__worker_marked[dedicated], w.marked_bytes, memory_order_relaxed);
    gc__work_dispose(&w);
    if (dedicated)
        atomic_fetch_add(&dedicated_left, 1);
    atomic_fetch_add_explicit(&worker_ns, t - start, memory_order_relaxed);
    return true;
}
