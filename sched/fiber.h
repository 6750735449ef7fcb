/*
 * sched/fiber.h -- stack switches announced to AddressSanitizer and
 * ThreadSanitizer; included by sched/internal.h in a sanitizer build only
 * (`make SANITIZE=address|thread`).
 *
 * The four switches of runtime/arch/amd64.S move the thread between its
 * own stack (g0) and the goroutines' stacks. Each wrapper here tells the
 * sanitizer where the thread is going before it jumps: ASan then knows
 * which stack's bounds apply (__sanitizer_start_switch_fiber before,
 * __sanitizer_finish_switch_fiber on arrival), TSan which fiber the code
 * that follows belongs to (__tsan_switch_to_fiber). Arrival is wherever
 * the jump lands: back in a wrapper (a resumed G), at the start of what
 * mcall calls on g0, at the start of gswitch's hook, or in
 * sched__goentry (a fresh G). The M notes a switch in flight, so that a
 * G resumed through a hook does not finish it twice.
 *
 * The wrappers are inline so that a parked G's saved return address is
 * in the function that parked it, as in the default build: tracebacks
 * and profiles see the same frames.
 */
#ifndef GORT_SCHED_FIBER_H
#define GORT_SCHED_FIBER_H

GORT_HIDDEN void sched__mcall_raw(g_t *g, uintptr_t g0sp, void (*fn)(g_t *));
GORT_HIDDEN _Noreturn void sched__gogo_raw(uintptr_t sp);
GORT_HIDDEN void sched__gswitch_raw(g_t *from, uintptr_t to_sp, void (*hook)(g_t *));
GORT_HIDDEN _Noreturn void sched__grestart_raw(uintptr_t sp);

/* Records this thread's own stack and sanitizer context as the M's g0. */
GORT_HIDDEN void sched__fiber_init_m(m_t *m);
/* The current G has just been switched to for the first time. */
GORT_HIDDEN void sched__fiber_start(void);
/* gp has ended and is switched out: forget its stack's state. */
GORT_HIDDEN void sched__fiber_dead(g_t *gp);
/* The TSan fiber of gp, made on its first run. */
GORT_HIDDEN void *sched__fiber_of(g_t *gp);
/* What mcall calls on g0: finishes the switch, then m->fiber_fn(g). */
GORT_HIDDEN void sched__fiber_mcall_tramp(g_t *g);
/* gswitch's hook on the next G's stack: finishes the switch, then
 * m->fiber_fn(from). */
GORT_HIDDEN void sched__fiber_gswitch_tramp(g_t *from);
/* g's stack is about to start a new goroutine afresh: drop what the
 * sanitizers hold for the frames on it. */
GORT_HIDDEN void sched__fiber_restart(g_t *g);
/* Finishes the switch that brought the M to its current G, if one is
 * in flight. */
GORT_HIDDEN void sched__fiber_arrive_g(void);

/* Begins the switch to the stack [lo, hi) whose TSan fiber is fiber;
 * the running context's ASan fake stack goes to *fake. */
static inline void sched__fiber_leave(m_t *m, void **fake, uintptr_t lo, uintptr_t hi,
                                      void *fiber)
{
#if GORT_ASAN
    m->fiber_pending = true;
    __sanitizer_start_switch_fiber(fake, (const void *)lo, hi - lo);
#else
    (void)m, (void)fake, (void)lo, (void)hi;
#endif
#if GORT_TSAN
    __tsan_switch_to_fiber(fiber, 0);
#else
    (void)fiber;
#endif
}

static inline void sched__mcall(g_t *g, uintptr_t g0sp, void (*fn)(g_t *))
{
    m_t *m = sched__getm();
    if (g->stack_hi == 0) {   /* runtime_main's own context: no switch */
        sched__mcall_raw(g, g0sp, fn);
        return;
    }
    sched__fiber_leave(m, &g->asan_fake, m->g0lo, m->g0hi, m->g0_tsan_fiber);
    m->fiber_fn = fn;
    sched__mcall_raw(g, g0sp, sched__fiber_mcall_tramp);
    sched__fiber_arrive_g();
}

static inline _Noreturn void sched__gogo(uintptr_t sp)
{
    m_t *m = sched__getm();
    g_t *g = m->curg;
    if (g && sp >= g->stack_lo && sp < g->stack_hi)
        sched__fiber_leave(m, &m->g0_asan_fake, g->stack_lo, g->stack_hi,
                           sched__fiber_of(g));
    sched__gogo_raw(sp);
}

static inline void sched__gswitch(g_t *from, uintptr_t to_sp, void (*hook)(g_t *))
{
    m_t *m = sched__getm();
    g_t *next = m->curg;
    sched__fiber_leave(m, &from->asan_fake, next->stack_lo, next->stack_hi,
                       sched__fiber_of(next));
    m->fiber_fn = hook;
    sched__gswitch_raw(from, to_sp, sched__fiber_gswitch_tramp);
    sched__fiber_arrive_g();
}

static inline _Noreturn void sched__grestart(uintptr_t sp)
{
    sched__fiber_restart(sched__getg());
    sched__grestart_raw(sp);
}

#endif
