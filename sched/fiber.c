/*
 * sched/fiber.c -- the out-of-line half of sched/fiber.h: the sanitizers'
 * view of the M's own stack, the arrivals of switches, and the end of a
 * goroutine's stack state. Empty unless built with SANITIZE.
 *
 * A goroutine's TSan fiber lives from its first run to its end; its
 * switches synchronise (TSan's default), so what a G did before it
 * switched out happens before what runs after it on that M, as the
 * hardware guarantees anyway; between Ms the run queues' atomics carry
 * it. A dead G's stack is unpoisoned for ASan: frames it left behind
 * (Goexit from deep down) must not trip its next user.
 *
 * Context: init_m on the thread's own stack before it schedules; the
 * tramps on g0 or on the next G's stack (inside a switch); fiber_dead
 * on g0 or in a hook, with gp switched out.
 */
#include "internal.h"

#if GORT_FIBERS

/* Finishes a switch begun by sched__fiber_leave, if one is in flight;
 * fake is the arriving context's saved fake stack. */
static void arrive(m_t *m, void *fake)
{
#if GORT_ASAN
    if (m->fiber_pending) {
        m->fiber_pending = false;
        __sanitizer_finish_switch_fiber(fake, NULL, NULL);
    }
#else
    (void)m, (void)fake;
#endif
}

void sched__fiber_arrive_g(void)
{
    m_t *m = sched__getm();
    arrive(m, m->curg->asan_fake);
}

void *sched__fiber_of(g_t *gp)
{
#if GORT_TSAN
    if (gp->tsan_fiber == NULL)
        gp->tsan_fiber = __tsan_create_fiber(0);
    return gp->tsan_fiber;
#else
    (void)gp;
    return NULL;
#endif
}

void sched__fiber_init_m(m_t *m)
{
    pthread_attr_t attr;
    void *addr;
    size_t size;
    if (pthread_getattr_np(pthread_self(), &attr) != 0)
        runtime__throw("pthread_getattr_np failed");
    if (pthread_attr_getstack(&attr, &addr, &size) != 0)
        runtime__throw("pthread_attr_getstack failed");
    pthread_attr_destroy(&attr);
    m->g0lo = (uintptr_t)addr;
    m->g0hi = (uintptr_t)addr + size;
#if GORT_TSAN
    m->g0_tsan_fiber = m->thread_tsan_fiber = __tsan_get_current_fiber();
#endif
}

void sched__fiber_start(void)
{
    sched__fiber_arrive_g();
}

void sched__fiber_dead(g_t *gp)
{
    GORT_ASAN_UNPOISON(gp->stack_lo, gp->stack_hi - gp->stack_lo);
#if GORT_TSAN
    if (gp->tsan_fiber) {
        __tsan_destroy_fiber(gp->tsan_fiber);
        gp->tsan_fiber = NULL;
    }
#endif
}

#if GORT_TSAN
/* Entries into g0 (or restarts of one G) between two fresh fibers: each
 * leaves a few frames on TSan's shadow stack, which holds 65,536. */
#define TSAN_FRESH_EVERY 1024

/* Every TSAN_FRESH_EVERY-th call (*count), moves the running code onto a
 * fresh TSan fiber and destroys *fiber, the one it ran on (unless it is
 * the thread's own, keep): the frames TSan still holds for it never
 * return (g0 starts afresh on every mcall; a restarted G drops its last
 * goroutine's frames), and TSan's shadow call stack would otherwise grow
 * until its stack depot fails a CHECK. */
static void tsan_fresh(void **fiber, void *keep, uint32_t *count)
{
    if (++*count % TSAN_FRESH_EVERY != 0)
        return;
    void *old = *fiber;
    *fiber = __tsan_create_fiber(0);
    __tsan_switch_to_fiber(*fiber, 0);
    if (old != keep)
        __tsan_destroy_fiber(old);
}
#endif

void sched__fiber_mcall_tramp(g_t *g)
{
    m_t *m = sched__getm();
    arrive(m, m->g0_asan_fake);
#if GORT_TSAN
    tsan_fresh(&m->g0_tsan_fiber, m->thread_tsan_fiber, &m->g0_tsan_entries);
#endif
    m->fiber_fn(g);
    __builtin_unreachable();
}

void sched__fiber_restart(g_t *g)
{
#if GORT_ASAN
    GORT_ASAN_UNPOISON(g->stack_lo, g->stack_hi - g->stack_lo);
#endif
#if GORT_TSAN
    tsan_fresh(&g->tsan_fiber, NULL, &g->tsan_restarts);
#endif
}

void sched__fiber_gswitch_tramp(g_t *from)
{
    sched__fiber_arrive_g();
    sched__getm()->fiber_fn(from);
}

#endif
