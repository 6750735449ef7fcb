/*
 * sched/lockos.c -- LockOSThread: goroutines wired to one M.
 *
 * A locked G runs only on its M (g->lockedm == m, m->lockedg == g), and
 * that M runs nothing else. When schedule() picks a G locked to another
 * M, it hands its P to that M and parks; when a locked G blocks, its M
 * gives the P away and sleeps until somebody picks the G and hands a P
 * back. Lock calls nest (m->lockedext), as since Go 1.10.
 *
 * Context: runtime_lock/unlock_os_thread on a user G; the rest on g0.
 */
#include "internal.h"

/* Hands our P to gp's locked M and parks until given a P again. */
void sched__startlockedm(g_t *gp)
{
    m_t *lm = gp->lockedm;
    p_t *p = sched__releasep();
    lm->nextp = p;
    runtime__notewakeup(&lm->park);
    runtime__lock(&sched__sched.lock);
    sched__sched.nmidlelocked--;   /* lm was counted while it waited */
    runtime__unlock(&sched__sched.lock);
    sched__stopm();
}

/* This M is locked to a G that is not runnable: give the P away and sleep
 * until someone runs the G's turn on us. */
_Noreturn void sched__stoplockedm(void)
{
    m_t *m = sched__getm();
    if (m->p) {
        p_t *p = sched__releasep();
        sched__handoffp(p);
    }
    runtime__lock(&sched__sched.lock);
    sched__sched.nmidlelocked++;
    sched__checkdead();
    runtime__unlock(&sched__sched.lock);
    runtime__notesleep(&m->park);
    runtime__noteclear(&m->park);
    if (atomic_load(&sched__sched.exiting) && m->nextp == NULL)
        sched__mexit_forever();
    sched__acquirep(m->nextp);
    m->nextp = NULL;
    g_t *gp = m->lockedg;
    sched__execute(gp, false);
}

void runtime_lock_os_thread(void)
{
    g_t *g = sched__needg("runtime_lock_os_thread");
    m_t *m = sched__getm();
    if (++m->lockedext == 0)
        runtime__throw("LockOSThread nesting overflow");
    g->lockedm = m;
    m->lockedg = g;
}

void runtime_unlock_os_thread(void)
{
    g_t *g = sched__needg("runtime_unlock_os_thread");
    m_t *m = sched__getm();
    if (m->lockedext == 0 || --m->lockedext > 0)
        return;
    g->lockedm = NULL;
    m->lockedg = NULL;
}

