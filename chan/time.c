/*
 * chan/time.c -- time.Timer, time.Ticker, time.After and time.AfterFunc.
 *
 * Owns: the channel-based timer API of runtime/gort.h. The runtime timer
 * heap, time_now and time_sleep belong to sched/timer.c; this file only
 * arms sched_timer_t's and, when one fires, does what Go's time package
 * does: a non-blocking send of the current time on the timer's channel
 * (capacity 1; a tick nobody took is dropped), or `go fn(arg)`.
 *
 * May call: sched__timer_add/del/mod, chan__send (non-blocking only: the
 * callbacks run on an M checking timers and must not block), chan_make,
 * gc_alloc/gc_store, go() (AfterFunc: the callback starts a goroutine).
 *
 * Invariants:
 *  - time_timer_t/time_ticker_t are GC objects that the user may drop at
 *    any time. An armed timer stays alive because the collector marks the
 *    runtime timers on every P's heap as roots (gc/roots.c), as Go's
 *    timer heaps keep time.Timer alive; a one-shot timer whose callback
 *    is running was marked when the world was last stopped, and no root
 *    scan can happen while an M is in the scheduler running it.
 *  - A timer's channel points back to the timer (c->owner), so holding
 *    only t.C keeps the timer alive, as in Go.
 *  - t->lock serialises the arming (first add versus later mods) and
 *    disarming of one timer; the callback takes no lock of ours.
 */
#include "internal.h"

struct time_timer {
    sched_timer_t st;              /* first: the runtime timer */
    chan_t *c;                     /* t.C; NULL for AfterFunc */
    void (*fn)(void *);            /* AfterFunc */
    void *arg;
    runtime_lock_t lock;           /* serialises arm and disarm */
};

/* A Ticker is a periodic timer (same object, distinct type for the API). */
struct time_ticker {
    struct time_timer t;
};

/* Absolute nanotime ns from now, saturating. */
static int64_t when_after(int64_t ns)
{
    int64_t now = runtime__nanotime();
    if (ns <= 0)
        return now;
    int64_t w;
    if (__builtin_add_overflow(now, ns, &w))
        w = INT64_MAX;
    return w;
}

/* Timer callback: runs on an M checking timers; must not block. */
static void timer_fire(void *arg, uintptr_t seq)
{
    (void)seq;
    time_timer_t *t = arg;
    if (t->c) {
        int64_t now = time_now();
        chan__send(t->c, &now, false);
    } else {
        go(t->fn, t->arg);
    }
}

/* Arms (or re-arms) t to fire at when; returns whether it was pending. */
static bool timer_arm(time_timer_t *t, int64_t when, int64_t period)
{
    runtime__lock(&t->lock);
    __atomic_store_n(&t->st.period, period, __ATOMIC_RELAXED);
    bool was;
    if (t->st.f == NULL) {
        t->st.f = timer_fire;
        t->st.arg = t;
        t->st.when = when;
        sched__timer_add(&t->st);
        was = false;
    } else {
        was = sched__timer_mod(&t->st, when);
    }
    runtime__unlock(&t->lock);
    return was;
}

/* Disarms t; returns whether it was pending. */
static bool timer_disarm(time_timer_t *t)
{
    runtime__lock(&t->lock);
    bool was = t->st.f != NULL && sched__timer_del(&t->st);
    runtime__unlock(&t->lock);
    return was;
}

/* A new timer object with a channel (element int64_t, capacity 1). */
static time_timer_t *timer_alloc(bool with_chan)
{
    time_timer_t *t = gc_alloc(sizeof(struct time_ticker));
    if (with_chan) {
        chan_t *c = chan_make(sizeof(int64_t), 1);
        gc_store(&c->owner, t);
        gc_store(&t->c, c);
    }
    return t;
}

/* ------------------------------------------------------------------ */
/* public API                                                          */
/* ------------------------------------------------------------------ */

/* time.NewTimer. */
time_timer_t *time_new_timer(int64_t ns)
{
    time_timer_t *t = timer_alloc(true);
    timer_arm(t, when_after(ns), 0);
    return t;
}

/* time.After. */
chan_t *time_after(int64_t ns)
{
    return time_new_timer(ns)->c;
}

/* t.C (NULL for an AfterFunc timer). */
chan_t *time_timer_c(time_timer_t *t)
{
    return t->c;
}

/* t.Stop: true if it stopped a pending timer. */
bool time_timer_stop(time_timer_t *t)
{
    if (t == NULL)
        go_panic("time: Stop called on uninitialized Timer");
    return timer_disarm(t);
}

/* t.Reset: true if the timer was pending. */
bool time_timer_reset(time_timer_t *t, int64_t ns)
{
    if (t == NULL)
        go_panic("time: Reset called on uninitialized Timer");
    return timer_arm(t, when_after(ns), 0);
}

/* time.AfterFunc: go fn(arg) in ns. */
time_timer_t *time_after_func(int64_t ns, void (*fn)(void *arg), void *arg)
{
    time_timer_t *t = timer_alloc(false);
    t->fn = fn;
    gc_store(&t->arg, arg);
    timer_arm(t, when_after(ns), 0);
    return t;
}

/* time.NewTicker. */
time_ticker_t *time_new_ticker(int64_t ns)
{
    if (ns <= 0)
        go_panic("non-positive interval for NewTicker");
    time_timer_t *t = timer_alloc(true);
    timer_arm(t, when_after(ns), ns);
    return (time_ticker_t *)t;
}

/* tk.C. */
chan_t *time_ticker_c(time_ticker_t *tk)
{
    return tk->t.c;
}

/* tk.Stop. */
void time_ticker_stop(time_ticker_t *tk)
{
    timer_disarm(&tk->t);
}

/* tk.Reset: a new period, counted from now. */
void time_ticker_reset(time_ticker_t *tk, int64_t ns)
{
    if (ns <= 0)
        go_panic("non-positive interval for Ticker.Reset");
    if (tk == NULL || tk->t.st.f == NULL)
        go_panic("time: Reset called on uninitialized Ticker");
    timer_arm(&tk->t, when_after(ns), ns);
}
