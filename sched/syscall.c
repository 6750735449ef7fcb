/*
 * sched/syscall.c -- entering and leaving blocking calls (hand-off).
 *
 * runtime_entersyscall detaches the P from the M but leaves it marked
 * P_SYSCALL: if the call returns quickly, runtime_exitsyscall takes the
 * same P back with one CAS. If it does not, sysmon sees the P's
 * syscalltick unchanged for a tick and hands the P to another M
 * (retake -> handoffp). On return the M tries its old P, then any idle P,
 * and otherwise queues the G globally and parks.
 *
 * While in a syscall the G's callee-saved registers and stack pointer are
 * saved in the G, so the collector can scan the frames above the call.
 *
 * Context: user G.
 */
#include "internal.h"

/* Spills the callee-saved registers into gp for the collector. */
static inline void save_regs(g_t *gp)
{
    __asm__ volatile(
        "movq %%rbx, 0(%0)\n\t"
        "movq %%rbp, 8(%0)\n\t"
        "movq %%r12, 16(%0)\n\t"
        "movq %%r13, 24(%0)\n\t"
        "movq %%r14, 32(%0)\n\t"
        "movq %%r15, 40(%0)\n\t"
        "movq %%rsp, 48(%0)\n\t"
        :
        : "r"(gp->syscallregs)
        : "memory");
    gp->syscallsp = gp->syscallregs[6];
}

void runtime_entersyscall(void)
{
    m_t *m = sched__getm();
    g_t *g = m ? m->curg : NULL;
    if (g == NULL)
        return;   /* a foreign thread: nothing to hand off */
    m->locks++;
    save_regs(g);
    p_t *p = m->p;
    g->syscallwhen = runtime__nanotime();
    atomic_store(&g->status, G_SYSCALL);
    atomic_fetch_add(&p->syscalltick, 1);
    p->m = NULL;
    m->oldp = p;
    m->p = NULL;
    atomic_store(&p->status, P_SYSCALL);
    if (atomic_load(&sched__sched.gcwaiting)) {
        /* The world is stopping: give the P up now. */
        uint32_t s = P_SYSCALL;
        runtime__lock(&sched__sched.lock);
        if (sched__sched.stopwait > 0 &&
            atomic_compare_exchange_strong(&p->status, &s, P_GCSTOP))
            sched__stopwait_done(p);
        runtime__unlock(&sched__sched.lock);
    }
    m->locks--;
}

void runtime_entersyscallblock(void)
{
    m_t *m = sched__getm();
    g_t *g = m ? m->curg : NULL;
    if (g == NULL)
        return;
    m->locks++;
    save_regs(g);
    g->syscallwhen = runtime__nanotime();
    atomic_store(&g->status, G_SYSCALL);
    p_t *p = sched__releasep();
    atomic_fetch_add(&p->syscalltick, 1);
    m->oldp = NULL;   /* exitsyscall looks for any idle P */
    sched__handoffp(p);
    m->locks--;
}

/* g0: no P could be had on return from the call; queue g and park. */
static _Noreturn void exitsyscall0(g_t *gp)
{
    m_t *m = sched__getm();
    atomic_store(&gp->status, G_RUNNABLE);
    m->curg = NULL;
    gp->m = NULL;
    runtime__lock(&sched__sched.lock);
    p_t *p = NULL;
    if (!atomic_load(&sched__sched.gcwaiting))
        p = sched__pidleget();
    if (p == NULL)
        sched__globrunqput(gp);
    runtime__unlock(&sched__sched.lock);
    if (p) {
        sched__acquirep(p);
        m->curg = gp;
        gp->m = m;
        atomic_store(&gp->status, G_RUNNING);
        sched__stackcheck_above(gp);
        sched__gogo(gp->sp);
    }
    if (m->lockedg == gp)
        sched__stoplockedm();
    sched__stopm();
    sched__schedule();
}

void runtime_exitsyscall(void)
{
    m_t *m = sched__getm();
    g_t *g = m ? m->curg : NULL;
    if (g == NULL)
        return;
    if (atomic_load(&g->status) != G_SYSCALL)
        runtime__misuse("runtime_exitsyscall without runtime_entersyscall");
    if (unlikely(atomic_load_explicit(&gc__stackscan_on, memory_order_relaxed)))
        gc__stackscan_self();   /* entered before the cycle: not scanned yet */
    sched__leave_if_exiting();
    m->locks++;
    p_t *p = m->oldp;
    m->oldp = NULL;
    uint32_t s = P_SYSCALL;
    /* Fast path: our P is still ours. */
    if (p && atomic_compare_exchange_strong(&p->status, &s, P_RUNNING)) {
        m->p = p;
        p->m = m;
        atomic_fetch_add(&p->syscalltick, 1);
        atomic_store(&g->status, G_RUNNING);
        g->syscallsp = 0;
        m->locks--;
        sched__checkpreempt();
        return;
    }
    /* Any idle P. */
    if (atomic_load(&sched__sched.npidle) > 0 && !atomic_load(&sched__sched.gcwaiting)) {
        runtime__lock(&sched__sched.lock);
        p = sched__pidleget();
        runtime__unlock(&sched__sched.lock);
        if (p) {
            sched__acquirep(p);
            atomic_store(&g->status, G_RUNNING);
            g->syscallsp = 0;
            m->locks--;
            return;
        }
    }
    m->locks--;
    g->syscallsp = 0;
    sched__mcall(g, m->g0sp, (void (*)(g_t *))exitsyscall0);
    /* Resumed, on some M, with a P. */
}
