/*
 * sched/timer.c -- runtime timers: a 4-ary min-heap per P.
 *
 * Each P keeps the timers added on it, ordered by when, under its own
 * timerslock; p->timer0when mirrors the earliest when (0: none) so the
 * scheduler can check "anything due?" with one load. Expired timers run in
 * schedule()/findrunnable() on whatever M checks the heap, with no lock
 * held: a timer function must not block (it readies Gs, or does a
 * non-blocking channel send). An M with nothing to run sleeps until the
 * earliest timer of all Ps (sched__sleep_for_timers, at the end of this file).
 *
 * A timer's p field says which heap holds it (NULL: none). Deleting takes
 * that P's lock and re-checks, since a timer can move to another P when
 * GOMAXPROCS shrinks.
 *
 * Invariant: t->p == p and p->timers[t->idx] == t for every pending t.
 */
#include <time.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/futex.h>

#include "internal.h"

#define TIMER_HEAP_ARY 4

/* Restores heap order upwards from i. timerslock held. */
static void siftup(p_t *p, int32_t i)
{
    sched_timer_t **h = p->timers, *t = h[i];
    while (i > 0) {
        int32_t parent = (i - 1) / TIMER_HEAP_ARY;
        if (h[parent]->when <= t->when)
            break;
        h[i] = h[parent];
        h[i]->idx = i;
        i = parent;
    }
    h[i] = t;
    t->idx = i;
}

/* Restores heap order downwards from i. timerslock held. */
static void siftdown(p_t *p, int32_t i)
{
    sched_timer_t **h = p->timers, *t = h[i];
    int32_t n = p->ntimers;
    for (;;) {
        int32_t c = i * TIMER_HEAP_ARY + 1;
        if (c >= n)
            break;
        int32_t best = c;
        for (int32_t k = c + 1; k < c + TIMER_HEAP_ARY && k < n; k++)
            if (h[k]->when < h[best]->when)
                best = k;
        if (h[best]->when >= t->when)
            break;
        h[i] = h[best];
        h[i]->idx = i;
        i = best;
    }
    h[i] = t;
    t->idx = i;
}

static void update0(p_t *p)
{
    atomic_store(&p->timer0when, p->ntimers ? p->timers[0]->when : 0);
}

/* Pushes t on p's heap. timerslock held. */
static void heap_push(p_t *p, sched_timer_t *t)
{
    if (unlikely(gc__wb_enabled))
        gc__shade(t);   /* p's heap may have been scanned this cycle */
    if (p->ntimers == p->timerscap) {
        int32_t ncap = p->timerscap ? p->timerscap * 2 : 64;
        sched_timer_t **nh = runtime__malloc((size_t)ncap * sizeof *nh);
        for (int32_t i = 0; i < p->ntimers; i++)
            nh[i] = p->timers[i];
        runtime__free(p->timers, (size_t)p->timerscap * sizeof *nh);
        p->timers = nh;
        p->timerscap = ncap;
    }
    t->p = p;
    p->timers[p->ntimers++] = t;
    siftup(p, p->ntimers - 1);
    update0(p);
}

/* Removes the timer at index i. timerslock held. */
static void heap_remove(p_t *p, int32_t i)
{
    sched_timer_t *t = p->timers[i];
    int32_t last = --p->ntimers;
    if (i != last) {
        p->timers[i] = p->timers[last];
        p->timers[i]->idx = i;
        siftdown(p, i);
        siftup(p, p->timers[i]->idx);
    }
    t->p = NULL;
    t->idx = -1;
    update0(p);
}

void sched__timer_add(sched_timer_t *t)
{
    if (t->when <= 0)
        t->when = 1;
    m_t *m = sched__getm();
    p_t *p = m && m->p ? m->p : sched__allp[0];
    runtime__lock(&p->timerslock);
    if (t->p != NULL)
        runtime__throw("timer added twice");
    heap_push(p, t);
    runtime__unlock(&p->timerslock);
    sched__timer_wake(t->when);
    /* An idle P may need an M to wait for this timer. */
    if (m == NULL || m->p == NULL)
        sched__wakep();
}

bool sched__timer_del(sched_timer_t *t)
{
    for (;;) {
        p_t *p = __atomic_load_n(&t->p, __ATOMIC_ACQUIRE);
        if (p == NULL)
            return false;
        runtime__lock(&p->timerslock);
        if (t->p != p) {
            runtime__unlock(&p->timerslock);
            continue;
        }
        heap_remove(p, t->idx);
        runtime__unlock(&p->timerslock);
        return true;
    }
}

bool sched__timer_mod(sched_timer_t *t, int64_t when)
{
    bool pending = sched__timer_del(t);
    t->when = when;
    sched__timer_add(t);
    return pending;
}

int64_t sched__timers_run(p_t *p, int64_t now)
{
    int64_t w = atomic_load(&p->timer0when);
    if (w == 0 || w > now)
        return w;
    runtime__lock(&p->timerslock);
    while (p->ntimers > 0 && p->timers[0]->when <= now) {
        sched_timer_t *t = p->timers[0];
        void (*f)(void *, uintptr_t) = t->f;
        void *arg = t->arg;
        uintptr_t seq = t->seq;
        if (t->period > 0) {
            /* Re-arm before running, skipping missed periods as Go does. */
            t->when += t->period * (1 + (now - t->when) / t->period);
            siftdown(p, 0);
            update0(p);
        } else {
            heap_remove(p, 0);
        }
        runtime__unlock(&p->timerslock);
        f(arg, seq);
        runtime__lock(&p->timerslock);
    }
    w = p->ntimers ? p->timers[0]->when : 0;
    runtime__unlock(&p->timerslock);
    return w;
}

void sched__timers_move(p_t *from, p_t *to)
{
    runtime__lock(&from->timerslock);
    runtime__lock(&to->timerslock);
    while (from->ntimers > 0) {
        sched_timer_t *t = from->timers[from->ntimers - 1];
        heap_remove(from, from->ntimers - 1);
        heap_push(to, t);
    }
    runtime__unlock(&to->timerslock);
    runtime__unlock(&from->timerslock);
}

int64_t sched__timers_next(p_t **pp)
{
    int64_t next = 0;
    *pp = NULL;
    int32_t n = atomic_load(&sched__gomaxprocs);
    for (int32_t i = 0; i < n; i++) {
        int64_t w = atomic_load(&sched__allp[i]->timer0when);
        if (w != 0 && (next == 0 || w < next)) {
            next = w;
            *pp = sched__allp[i];
        }
    }
    return next;
}

/* ------------------------------------------------------------------ */
/* time_now, time_sleep                                                */
/* ------------------------------------------------------------------ */

int64_t time_now(void)
{
    return runtime__nanotime();
}

/* Timer function of time_sleep: the sleeper runs next on this P. */
static void sleep_ready(void *arg, uintptr_t seq)
{
    (void)seq;
    sched__ready(arg, true);
}

/* unlockf of time_sleep: arm the timer only once the G is parked, so the
 * timer can never ready a G that is still running. */
static bool sleep_arm(g_t *gp, void *arg)
{
    (void)gp;
    sched__timer_add(arg);
    return true;
}

void time_sleep(int64_t ns)
{
    if (ns <= 0)
        return;
    m_t *m = sched__getm();
    g_t *g = m ? m->curg : NULL;
    if (g == NULL) {
        /* Not a goroutine: sleep the thread. */
        struct timespec ts = {ns / 1000000000, ns % 1000000000};
        while (nanosleep(&ts, &ts) != 0) {}
        return;
    }
    sched_timer_t *t = g->sleeptimer;
    if (t == NULL) {
        t = runtime__malloc(sizeof *t);
        t->f = sleep_ready;
        t->arg = g;
        t->idx = -1;
        g->sleeptimer = t;
    }
    int64_t when = runtime__nanotime() + ns;
    if (when < 0)
        when = INT64_MAX;   /* overflow: sleep "forever" */
    t->when = when;
    t->period = 0;
    sched__park(sleep_arm, t, "sleep");
}

/* ------------------------------------------------------------------ */
/* the timer sleeper                                                   */
/* ------------------------------------------------------------------ */

static runtime_note_t timernote;        /* the timer sleeper's note */
static _Atomic int64_t timersleepuntil; /* 0: no M sleeps for timers */

/* Becomes the M that sleeps until the earliest timer (if no other M does),
 * or parks idle. Called without a P; returns holding one, to look for
 * work again. */
void sched__sleep_for_timers(m_t *m, int64_t next)
{
    runtime__lock(&sched__sched.lock);
    if (next == 0 || sched__sched.ntimersleep > 0 || atomic_load(&sched__sched.gcwaiting) ||
        atomic_load(&sched__sched.exiting)) {
        runtime__unlock(&sched__sched.lock);
        sched__stopm();
        return;
    }
    sched__sched.ntimersleep++;
    runtime__noteclear(&timernote);
    runtime__unlock(&sched__sched.lock);
    atomic_store(&timersleepuntil, next);
    /* A timer added before the store above is seen here; one added after
     * sees timersleepuntil and wakes us. */
    p_t *tp;
    int64_t w = sched__timers_next(&tp);
    int64_t now = runtime__nanotime();
    if (w != 0 && w < next)
        next = w;
    if (next > now)
        runtime__notetsleep(&timernote, next - now);
    atomic_store(&timersleepuntil, 0);
    runtime__lock(&sched__sched.lock);
    sched__sched.ntimersleep--;
    p_t *p = NULL;
    if (!atomic_load(&sched__sched.gcwaiting) && !atomic_load(&sched__sched.exiting))
        p = sched__pidleget();
    runtime__unlock(&sched__sched.lock);
    if (atomic_load(&sched__sched.exiting))
        sched__mexit_forever();
    if (p) {
        sched__acquirep(p);
        return;
    }
    sched__stopm();
}

/* Wakes the timer sleeper if a timer due at when is earlier than its
 * deadline; if nobody sleeps for timers, an idle P's M will look. */
void sched__timer_wake(int64_t when)
{
    sched__netpoll_timer_added(when);
    int64_t until = atomic_load(&timersleepuntil);
    if (until != 0 && when < until) {
        uint32_t z = 0;
        if (atomic_compare_exchange_strong(&timernote.key, &z, 1))
            syscall(SYS_futex, &timernote.key, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
    }
}
