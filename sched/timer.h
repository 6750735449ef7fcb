/*
 * sched/timer.h -- the runtime timers' interface (sched/timer.c), for the
 * scheduler (schedule, sysmon, procresize), the poller's deadlines,
 * time_sleep and chan/time.c. Included by sched/internal.h.
 */
#ifndef GORT_SCHED_TIMER_H
#define GORT_SCHED_TIMER_H

/* ------------------------------------------------------------------ */
/* timers (sched/timer.c): per-P 4-ary heaps                           */
/* ------------------------------------------------------------------ */

/* A runtime timer. f(arg, seq) runs on whatever M checks the P's timers,
 * with no runtime lock held; it must not block (it may ready Gs and do
 * non-blocking channel sends). period > 0 re-arms it. */
typedef struct sched_timer {
    int64_t when;
    int64_t period;
    void (*f)(void *arg, uintptr_t seq);
    void *arg;
    uintptr_t seq;
    p_t *p;                       /* heap it is on, or NULL */
    int32_t idx;                  /* index in p->timers */
    _Atomic uint32_t status;
} sched_timer_t;

/* Arms t (t->when absolute nanotime) on the current P. */
GORT_HIDDEN void sched__timer_add(sched_timer_t *t);
/* Disarms t; returns true if it was pending (had not fired). */
GORT_HIDDEN bool sched__timer_del(sched_timer_t *t);
/* Re-arms t at when; returns true if it was pending. */
GORT_HIDDEN bool sched__timer_mod(sched_timer_t *t, int64_t when);
/* g0 or G, with a P. Runs p's expired timers; returns the when of the next
 * one (0 if none). */
GORT_HIDDEN int64_t sched__timers_run(p_t *p, int64_t now);
/* Moves every timer of a dying P to the current P (procresize). */
GORT_HIDDEN void sched__timers_move(p_t *from, p_t *to);
/* Earliest timer over all Ps (0 if none), and its P. */
GORT_HIDDEN int64_t sched__timers_next(p_t **pp);

#endif /* GORT_SCHED_TIMER_H */
