/*
 * sched/park.c -- parking and readying goroutines, Gosched, preemption.
 *
 * The only way a goroutine blocks is sched__park: it marks the G waiting
 * and switches away from it -- to g0, or straight to the next G (see
 * "direct switches") -- and only once the G's context is saved does the
 * caller's unlock function run. Whoever readies the G must first see it
 * waiting, and can only find it through the structure that unlock
 * function released, so a wake-up can never overtake the park.
 *
 * Context: sched__park/gosched on a user G; sched__ready anywhere; the
 * hooks of direct switches on the next G's stack, holding the P, with
 * the M's curg already the next G: they must not park.
 */
#include <sched.h>

#include "internal.h"

/* Runs the unlock function sched__park left on m for gp, now switched
 * out; returns false if it cancelled the wait. */
static bool park_commit(m_t *m, g_t *gp)
{
    bool (*unlockf)(g_t *, void *) = m->waitunlockf;
    void *lock = m->waitlock;
    m->waitunlockf = NULL;
    m->waitlock = NULL;
    return unlockf == NULL || unlockf(gp, lock);
}

/* g0: finishes parking gp (called through mcall). */
static _Noreturn void park_m(g_t *gp)
{
    m_t *m = sched__getm();
    sched__stackcheck(gp);
    atomic_store_explicit(&gp->status, G_WAITING, memory_order_release);
    m->curg = NULL;
    gp->m = NULL;
    if (!park_commit(m, gp)) {
        /* The wait was cancelled: run gp again right away. */
        sched__gcscan_check(gp);
        m->curg = gp;
        gp->m = m;
        atomic_store(&gp->status, G_RUNNING);
        gp->waitreason = NULL;
        sched__gogo(gp->sp);
    }
    sched__schedule();
}

/* ------------------------------------------------------------------ */
/* direct switches                                                     */
/* ------------------------------------------------------------------ */

/* When a goroutine blocks or yields and the G to run next is already
 * known -- the partner a channel operation just put in runnext, or the
 * oldest yielded G -- the trip through g0 and schedule() decides nothing:
 * the M switches from one goroutine straight to the other
 * (sched__gswitch), and what g0 would have done once the old G was
 * switched out (release its lock, queue it) runs in a hook on the new G's
 * stack. The old G is published (lock released, queued) only after its
 * context is saved, exactly as with g0. Anything schedule() has to look
 * at -- a stop-the-world, timers on this P, a locked thread, the end of
 * the program -- sends the switch the long way. */

void sched__switch_to(m_t *m, g_t *next)
{
    sched__stackcheck_above(next);
    sched__gcscan_check(next);
    m->curg = next;
    next->m = m;
    atomic_store_explicit(&next->status, G_RUNNING, memory_order_release);
    next->waitreason = NULL;
    atomic_store_explicit(&next->preempt, false, memory_order_relaxed);
}

/* Leaves g (its stack checked, its status set) for next, running hook
 * on next's stack once g is switched out. Returns when g is resumed.
 * Always inline: a parked G's innermost frame is then its park or yield
 * function whichever way it left (tracebacks, profiles). */
static inline __attribute__((always_inline)) void switch_direct(m_t *m, g_t *g, uint32_t status, g_t *next,
                          void (*hook)(g_t *))
{
    sched__stackcheck(g);
    atomic_store_explicit(&g->status, status, memory_order_release);
    g->m = NULL;
    sched__switch_to(m, next);
    sched__gswitch(g, next->sp, hook);
}

/* Takes p's runnext if a park may switch to it directly. */
static g_t *take_runnext(p_t *p)
{
    g_t *next = atomic_load_explicit(&p->runnext, memory_order_relaxed);
    if (next == NULL || next->unstarted || next->lockedm || !sched__hook_room(next))
        return NULL;
    if (sched__single_p()) {
        atomic_store_explicit(&p->runnext, NULL, memory_order_relaxed);
        return next;
    }
    if (atomic_compare_exchange_strong_explicit(&p->runnext, &next, NULL,
            memory_order_acq_rel, memory_order_relaxed))
        return next;
    return NULL;
}

/* The slice has expired: the G waiting in p's runnext, which would
 * inherit it, goes to the yield queue as a preempted G does. */
static void yield_runnext(p_t *p)
{
    g_t *next = atomic_load_explicit(&p->runnext, memory_order_relaxed);
    if (next && atomic_compare_exchange_strong(&p->runnext, &next, NULL))
        sched__yieldput(p, next);
}

/* Hook of a direct park: the parked G is switched out; release it. */
static void park_hook(g_t *gp)
{
    m_t *m = sched__getm();
    if (!park_commit(m, gp)) {
        /* The wait was cancelled: gp runs next instead of right away. */
        gp->waitreason = NULL;
        atomic_store_explicit(&gp->status, G_RUNNABLE, memory_order_release);
        sched__runqput(m->p, gp, true);
    }
}

void sched__park(bool (*unlockf)(g_t *, void *), void *arg, const char *reason)
{
    g_t *g = sched__needg(reason);
    m_t *m = sched__getm();
    m->waitunlockf = unlockf;
    m->waitlock = arg;
    g->waitreason = reason;
    g->waitsince = atomic_load_explicit(&sched__coarsenow, memory_order_relaxed);
    g->stackshrunk = false;
    p_t *p = m->p;
    g_t *next;
    if (p && unlikely(sched__slice_over(p)))
        yield_runnext(p);
    if (p && sched__direct_ok(m, p) && (next = take_runnext(p)) != NULL) {
        /* Nobody can find g before park_hook releases the lock. */
        switch_direct(m, g, G_WAITING, next, park_hook);
        return;
    }
    sched__mcall(g, m->g0sp, (void (*)(g_t *))park_m);
}

/* unlockf that releases a runtime lock. */
bool sched__parkunlock_f(g_t *gp, void *lock)
{
    (void)gp;
    runtime__unlock(lock);
    return true;
}

void sched__parkunlock(runtime_lock_t *l, const char *reason)
{
    sched__park(sched__parkunlock_f, l, reason);
}

void sched__ready(g_t *gp, bool next)
{
    uint32_t s = atomic_load(&gp->status);
    if (unlikely(s != G_WAITING))
        runtime__throwf("bad g->status in ready: goroutine %lld status %u",
                        (long long)gp->goid, s);
    atomic_store_explicit(&gp->status, G_RUNNABLE, memory_order_release);
    m_t *m = sched__getm();
    if (m && m->p) {
        m->locks++;
        if (next && m->curg && unlikely(sched__slice_over(m->p)))
            sched__yieldput(m->p, gp);   /* not handed the expired slice */
        else
            sched__runqput(m->p, gp, next);
        m->locks--;
        sched__wakep();
    } else {
        sched__globrunqput_wake(gp);
    }
}

/* Two or more Gs take turns through this P's yield queue: if a P is idle
 * and no M is looking for work, wake one to take some. (Go's Gosched does
 * not wake anyone: there the G waits in the global queue, which every
 * looking M checks first; a yield queue refilled and emptied within a few
 * nanoseconds would rarely be seen by a spinning M in passing.) */
static void wake_for_yielded(void)
{
    if (atomic_load_explicit(&sched__sched.npidle, memory_order_relaxed) > 0 &&
        atomic_load_explicit(&sched__sched.nmspinning, memory_order_relaxed) == 0)
        sched__wakep();
}

/* g0: queues gp as Gosched does and schedules (Gosched, preemption).
 * Go's Gosched goes through the global queue, not the local tail: that is
 * what lets a yielding G give way to Gs waiting globally (and what the
 * 61-tick fairness rule is measured against). Here gp goes to this P's
 * yield queue, its share of the global queue (sched/runq.c); with no
 * local work, nothing queued globally, no timer on this P and no mark
 * worker on (schedule runs those), the oldest yielded G runs at once
 * (often gp itself), with no lock taken. */
static _Noreturn void gosched_m(g_t *gp)
{
    m_t *m = sched__getm();
    p_t *p = m->p;
    sched__stackcheck(gp);
    atomic_store_explicit(&gp->status, G_RUNNABLE, memory_order_release);
    m->curg = NULL;
    gp->m = NULL;
    if (m->lockedg == NULL) {
        sched__yieldput(p, gp);
        if (atomic_load_explicit(&p->yieldtail, memory_order_relaxed) -
                atomic_load_explicit(&p->yieldhead, memory_order_relaxed) > 1)
            wake_for_yielded();
        if (sched__direct_ok(m, p) && sched__sched.runqsize == 0 &&
            atomic_load_explicit(&p->runnext, memory_order_relaxed) == NULL &&
            atomic_load_explicit(&p->runqhead, memory_order_relaxed) ==
                atomic_load_explicit(&p->runqtail, memory_order_relaxed)) {
            g_t *next = sched__yieldget(p);
            if (next)   /* never a locked G: those take the global path */
                sched__execute(next, false);
        }
        sched__schedule();
    }
    runtime__lock(&sched__sched.lock);
    sched__globrunqput(gp);
    runtime__unlock(&sched__sched.lock);
    sched__schedule();
}

/* Hook of a direct yield: the yielded G is switched out; queue it. */
static void yield_hook(g_t *gp)
{
    sched__yieldput(sched__getm()->p, gp);
}

void sched__gosched(void)
{
    g_t *g = sched__getg();
    if (g == NULL)
        return;
    atomic_store_explicit(&g->preempt, false, memory_order_relaxed);
    m_t *m = sched__getm();
    if (m->locks != 0)
        return;   /* not a safe point: the request stays for later */
    p_t *p = m->p;
    /* Nothing local, nothing global: the next G is the oldest yielded one
     * (gosched_m's fast path, without g0). None at all: g itself would be
     * picked again, so it just goes on. */
    if (p && sched__direct_ok(m, p) && sched__sched.runqsize == 0 &&
        atomic_load_explicit(&p->runnext, memory_order_relaxed) == NULL &&
        atomic_load_explicit(&p->runqhead, memory_order_relaxed) ==
            atomic_load_explicit(&p->runqtail, memory_order_relaxed)) {
        g_t *next = sched__yieldget(p);
        if (next == NULL)
            return;
        wake_for_yielded();
        /* An unstarted G (a new one moved out of runnext when the slice
         * expired) has no stack to switch to yet: schedule() starts it. */
        if (!next->unstarted && sched__hook_room(next)) {
            sched__newslice(p);   /* a yielded G does not inherit the slice */
            switch_direct(m, g, G_RUNNABLE, next, yield_hook);
            return;
        }
        sched__runqput(p, next, true);   /* the long way, next still first */
    }
    sched__mcall(g, m->g0sp, (void (*)(g_t *))gosched_m);
}

/* g0: sched__goyield's switch: gp goes to the tail of this P's local
 * queue (Go's goyield), so the P runs what it already had queued, such as
 * a G just handed a mutex, before gp. Locked Ms and a full queue take the
 * global path. */
static _Noreturn void goyield_m(g_t *gp)
{
    m_t *m = sched__getm();
    p_t *p = m->p;
    sched__stackcheck(gp);
    uint32_t h = atomic_load_explicit(&p->runqhead, memory_order_acquire);
    uint32_t t = atomic_load_explicit(&p->runqtail, memory_order_relaxed);
    if (m->lockedg != NULL || t - h >= SCHED_RUNQ_SIZE)
        gosched_m(gp);
    atomic_store_explicit(&gp->status, G_RUNNABLE, memory_order_release);
    m->curg = NULL;
    gp->m = NULL;
    sched__runqput(p, gp, false);
    sched__schedule();
}

void sched__goyield(void)
{
    g_t *g = sched__getg();
    m_t *m = sched__getm();
    if (g == NULL || m->locks != 0)
        return;
    sched__mcall(g, m->g0sp, (void (*)(g_t *))goyield_m);
}

void runtime_gosched(void)
{
    g_t *g = sched__getg();
    if (g == NULL) {
        sched_yield();
        return;
    }
    sched__gosched();
}

/* Called by the async-preemption trampoline on the G's own stack, with
 * every register of the interrupted code saved below us. */
void sched__asyncpreempt2(void)
{
    sched__gosched();
}

/* ------------------------------------------------------------------ */
/* goroutine exit                                                      */
/* ------------------------------------------------------------------ */

/* g0: the G is finished; recycle it and schedule. */
static _Noreturn void goexit0(g_t *gp)
{
    m_t *m = sched__getm();
    sched__stackcheck(gp);
    atomic_store(&gp->status, G_DEAD);
    if (!gp->system)
        sched__gcount_add(m->p, -1);
    m->curg = NULL;
    gp->m = NULL;
    if (gp->lockedm) {
        gp->lockedm = NULL;
        m->lockedg = NULL;
        m->lockedext = 0;
    }
    gp->fn = NULL;
    gp->arg = NULL;
    sched__fiber_dead(gp);
    sched__gfput(m->p, gp);
    sched__schedule();
}

/* Hook of a direct exit (on the next G's stack): recycle the dead G. */
static void goexit_hook(g_t *gp)
{
    m_t *m = sched__getm();
    gp->fn = NULL;
    gp->arg = NULL;
    atomic_store(&gp->status, G_DEAD);
    sched__fiber_dead(gp);
    sched__gfput(m->p, gp);
}

/* G. The goroutine g has ended and the next G of this P's local queue is
 * known: go on without g0 and schedule() when nothing needs them (see
 * "direct switches" in park.c). An unstarted next G takes over g's stack
 * G on the spot: the stack its last goroutine used is as hot as it gets.
 * Returns only if the long way must be taken. */
static void goexit_direct(g_t *g, m_t *m, p_t *p)
{
    if (g->lockedm || m->locks != 0 || !sched__direct_ok(m, p) ||
        p->schedtick % SCHED_GLOBAL_TICK == 0)   /* schedule()'s fairness turn */
        return;
    bool inherit;
    g_t *next = sched__runqget(p, &inherit);
    if (next == NULL)
        return;
    bool reuse = next->unstarted && !next->system && g->stacksize == sched__stack_size;
    bool direct = !next->unstarted && !next->lockedm && sched__hook_room(next);
    if (!reuse && !direct) {
        sched__runqput(p, next, true);   /* the long way, next still first */
        return;
    }
    sched__stackcheck(g);
    if (!g->system)
        sched__gcount_add(p, -1);
    if (!inherit)
        sched__newslice(p);
    if (reuse)
        sched__grestart(sched__greuse(p, g, next));
    g->m = NULL;
    sched__switch_to(m, next);
    sched__gswitch(g, next->sp, goexit_hook);
    __builtin_unreachable();
}

_Noreturn void sched__goexit1(void)
{
    g_t *g = sched__getg();
    m_t *m = sched__getm();
    if (m->p)
        goexit_direct(g, m, m->p);
    sched__mcall(g, m->g0sp, (void (*)(g_t *))goexit0);
    __builtin_unreachable();
}
