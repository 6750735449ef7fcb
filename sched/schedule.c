/*
 * sched/schedule.c -- the schedule loop: find a runnable G (local queue,
 * the global queue's fairness turn, yield queue, the network poller
 * without blocking, stealing) and run it; with nothing to run, give up
 * the P and block in epoll_wait (goroutines wait on descriptors and no
 * other M polls) or sleep until the next timer.
 *
 * Context: g0, holding a P (findrunnable may give it up and come back
 * with another).
 */
#include "internal.h"

#define SCHED_STEAL_TRIES    4

/* Runs gp on the current M and P. Never returns. g0. */
_Noreturn void sched__execute(g_t *gp, bool inherit)
{
    m_t *m = sched__getm();
    if (gp->unstarted)
        gp = sched__gstart(m->p, gp);
    sched__switch_to(m, gp);
    if (!inherit)
        sched__newslice(m->p);
    sched__gogo(gp->sp);
}

/* Runs the expired timers of every P; returns the earliest pending when.
 * Reads the clock only if some timer exists. */
static int64_t checktimers_all(void)
{
    int64_t next = 0, now = 0;
    int32_t n = atomic_load(&sched__gomaxprocs);
    for (int32_t i = 0; i < n; i++) {
        p_t *p = sched__allp[i];
        int64_t w = atomic_load(&p->timer0when);
        if (w == 0)
            continue;
        if (now == 0)
            now = runtime__nanotime();
        if (w <= now)
            w = sched__timers_run(p, now);
        if (w != 0 && (next == 0 || w < next))
            next = w;
    }
    return next;
}

static uint32_t gcd(uint32_t a, uint32_t b)
{
    while (b) {
        uint32_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

/* Tries to steal from every other P, in random order, up to 4 rounds. */
static g_t *stealwork(p_t *p, bool *inherit)
{
    int32_t n = atomic_load(&sched__gomaxprocs);
    for (int round = 0; round < SCHED_STEAL_TRIES; round++) {
        bool last = round == SCHED_STEAL_TRIES - 1;
        uint32_t start = runtime__fastrandn((uint32_t)n);
        /* A coprime stride visits every P once in a pseudo-random order. */
        uint32_t stride = 1;
        if (n > 2) {
            do
                stride = 1 + runtime__fastrandn((uint32_t)n - 1);
            while (gcd(stride, (uint32_t)n) != 1);
        }
        for (int32_t k = 0; k < n; k++) {
            p_t *victim = sched__allp[(start + (uint32_t)k * stride) % (uint32_t)n];
            if (victim == p)
                continue;
            if (atomic_load(&sched__sched.gcwaiting))
                return NULL;
            g_t *gp = NULL;
            if (sched__runqsteal(p, victim, last, &gp)) {
                *inherit = false;
                return gp;
            }
        }
    }
    return NULL;
}

/* Becomes the M that sleeps until the earliest timer (if no other M does),
 * or parks idle. Returns true if it should look for work again (it holds a
 * P then). Called without a P. */

/* findrunnable, step 1: this P's local queue, the global queue, this P's
 * yield queue. */
static g_t *find_queued(p_t *p, bool *inherit)
{
    g_t *gp = sched__runqget(p, inherit);
    if (gp)
        return gp;
    *inherit = false;
    if (sched__sched.runqsize != 0) {
        runtime__lock(&sched__sched.lock);
        gp = sched__globrunqget(p, 0);
        runtime__unlock(&sched__sched.lock);
        if (gp)
            return gp;
    }
    return sched__yieldget(p);
}

/* Step 2: steal from the other Ps, spinning, while spinning Ms are fewer
 * than half the busy Ps. */
static g_t *find_steal(m_t *m, p_t *p, bool *inherit)
{
    int32_t procs = atomic_load(&sched__gomaxprocs);
    if (!m->spinning &&
        2 * atomic_load(&sched__sched.nmspinning) >= procs - atomic_load(&sched__sched.npidle))
        return NULL;
    if (!m->spinning) {
        m->spinning = true;
        atomic_fetch_add(&sched__sched.nmspinning, 1);
    }
    return stealwork(p, inherit);
}

/* Step 3: nothing found, give up the P. Under sched.lock the global queue
 * is looked at again (a G put there after step 1 would otherwise wait)
 * and returned from; *retry if the world is stopping or p got local work. */
static g_t *release_p(p_t *p, bool *retry)
{
    runtime__lock(&sched__sched.lock);
    if (atomic_load(&sched__sched.gcwaiting) || atomic_load(&sched__sched.exiting)) {
        runtime__unlock(&sched__sched.lock);
        *retry = true;
        return NULL;
    }
    if (sched__sched.runqsize != 0) {
        g_t *gp = sched__globrunqget(p, 0);
        runtime__unlock(&sched__sched.lock);
        return gp;
    }
    if (!sched__runqempty(p)) {
        runtime__unlock(&sched__sched.lock);
        *retry = true;
        return NULL;
    }
    sched__releasep();
    sched__pidleput(p);
    runtime__unlock(&sched__sched.lock);
    return NULL;
}

/* Step 4, for a spinning M that gave up its P: stop spinning. If it was
 * the last spinner, anything readied while it spun relied on it, so it
 * looks at every P's queues once more; true if it found some and took an
 * idle P to go back for it (spinning again). */
static bool recheck_after_spinning(m_t *m)
{
    if (!m->spinning)
        return false;
    m->spinning = false;
    atomic_fetch_sub(&sched__sched.nmspinning, 1);
    int32_t n = atomic_load(&sched__gomaxprocs);
    for (int32_t i = 0; i < n; i++) {
        if (sched__runqempty(sched__allp[i]))
            continue;
        runtime__lock(&sched__sched.lock);
        p_t *p2 = sched__pidleget();
        runtime__unlock(&sched__sched.lock);
        if (p2 == NULL)
            return false;
        sched__acquirep(p2);
        m->spinning = true;
        atomic_fetch_add(&sched__sched.nmspinning, 1);
        return true;
    }
    return false;
}

/* Whether the non-blocking poll before stealing is worth its system
 * call: not while every other P is idle (nothing to steal, and the
 * blocking poll after the P is released follows at once and returns the
 * same events), but always once this search has marked for the
 * collector, so that idle marking keeps no ready network G waiting. */
static bool poll_before_steal(bool marked)
{
    return marked || atomic_load_explicit(&sched__sched.npidle, memory_order_relaxed) <
                         atomic_load_explicit(&sched__gomaxprocs, memory_order_relaxed) - 1;
}

/* Finds a runnable G, stealing if needed; blocks the M until there is one.
 * Returns with the M holding a P. */
static g_t *findrunnable(bool *inherit)
{
    bool marked = false;
    for (;;) {
        m_t *m = sched__getm();
        if (sched__stopping(m))
            continue;
        p_t *p = m->p;
        (void)checktimers_all();
        g_t *gp = find_queued(p, inherit);
        if (gp == NULL && poll_before_steal(marked) && (gp = sched__netpoll_check()) != NULL)
            *inherit = false;
        if (gp == NULL)
            gp = find_steal(m, p, inherit);
        if (gp)
            return gp;
        if (gc__idle_mark()) {
            marked = true;
            continue;   /* an idle P marks, then looks for work again */
        }
        bool retry = false;
        gp = release_p(p, &retry);
        if (gp) {
            *inherit = false;
            return gp;
        }
        if (retry || recheck_after_spinning(m))
            continue;
        int64_t next = checktimers_all();
        if (sched__netpoll_idle(next, &gp)) {
            if (gp)
                *inherit = false;
            if (gp)
                return gp;
            continue;
        }
        sched__sleep_for_timers(m, next);
    }
}

/* Takes one G from the global queue, this P's share of it (the yield
 * queue) first on every other turn, so that a busy local queue starves
 * neither and a steady stream into one starves not the other. */
static g_t *fairturn(p_t *p)
{
    g_t *gp = NULL;
    p->fairyield = !p->fairyield;
    if (p->fairyield)
        gp = sched__yieldget(p);
    if (gp == NULL && sched__sched.runqsize > 0) {
        runtime__lock(&sched__sched.lock);
        gp = sched__globrunqget(p, 1);
        runtime__unlock(&sched__sched.lock);
    }
    if (gp == NULL && !p->fairyield)
        gp = sched__yieldget(p);
    return gp;
}

/* One round of scheduling: find a G and run it. Never returns. g0. */
_Noreturn void sched__schedule(void)
{
    m_t *m = sched__getm();
    runtime__assert(m->locks == 0);
    runtime__assert(m->curg == NULL);
    if (m->lockedg)
        sched__stoplockedm();
top:
    if (sched__stopping(m))
        goto top;
    p_t *p = m->p;
    int64_t w = atomic_load(&p->timer0when);
    if (w != 0) {
        int64_t now = runtime__nanotime();
        if (w <= now)
            sched__timers_run(p, now);
    }

    if (unlikely(atomic_load_explicit(&gc__workers_on, memory_order_relaxed)) &&
        gc__mark_worker(p))
        goto top;   /* this P owed the collector its share of the mark */
    g_t *gp = NULL;
    bool inherit = false;
    if (p->schedtick % SCHED_GLOBAL_TICK == 0)
        gp = fairturn(p);
    if (gp == NULL)
        gp = sched__runqget(p, &inherit);
    if (gp == NULL)
        gp = findrunnable(&inherit);
    m = sched__getm();
    if (m->spinning)
        sched__resetspinning(m);
    if (!gp->unstarted && gp->lockedm && gp->lockedm != m) {
        sched__startlockedm(gp);
        goto top;
    }
    sched__execute(gp, inherit);
}

