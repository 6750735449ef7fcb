/*
 * sched/m.c -- Ps and Ms: the idle lists, acquiring and releasing a P,
 * starting, stopping and waking Ms (spinning), handing off a P whose M
 * blocks, and giving up a P when the world stops.
 *
 * Context: g0 or a G with m->locks held; the list operations need
 * sched.lock, as each says.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "internal.h"

#define SCHED_M_STACK        (1 << 20)

static void mstart1(void);

/* sched.lock held. */
void sched__pidleput(p_t *p)
{
    runtime__assert(sched__runqempty(p));
    atomic_store(&p->status, P_IDLE);
    p->m = NULL;
    p->link = sched__sched.pidle;
    sched__sched.pidle = p;
    atomic_fetch_add(&sched__sched.npidle, 1);
}

/* sched.lock held. */
p_t *sched__pidleget(void)
{
    p_t *p = sched__sched.pidle;
    if (p) {
        sched__sched.pidle = p->link;
        atomic_fetch_sub(&sched__sched.npidle, 1);
    }
    return p;
}

/* Associates p with the current M. */
void sched__acquirep(p_t *p)
{
    m_t *m = sched__getm();
    runtime__assert(m->p == NULL);
    runtime__assert(p->m == NULL && atomic_load(&p->status) == P_IDLE);
    m->p = p;
    p->m = m;
    atomic_store(&p->status, P_RUNNING);
}

/* Disassociates the current M from its P (left P_IDLE for the caller). */
p_t *sched__releasep(void)
{
    m_t *m = sched__getm();
    p_t *p = m->p;
    runtime__assert(p && p->m == m && atomic_load(&p->status) == P_RUNNING);
    m->p = NULL;
    p->m = NULL;
    atomic_store(&p->status, P_IDLE);
    return p;
}


/* ------------------------------------------------------------------ */
/* Ms                                                                  */
/* ------------------------------------------------------------------ */

/* sched.lock held: puts the current M on the idle list. */
static void mput(m_t *m)
{
    m->schedlink = sched__sched.midle;
    sched__sched.midle = m;
    sched__sched.nmidle++;
    sched__checkdead();
}

/* sched.lock held. */
static m_t *mget(void)
{
    m_t *m = sched__sched.midle;
    if (m) {
        sched__sched.midle = m->schedlink;
        sched__sched.nmidle--;
    }
    return m;
}

/* Thread entry of every M but M0. */
static void *mstart(void *arg)
{
    m_t *m = arg;
    runtime__tls_m = m;
    m->tid = (int)syscall(SYS_gettid);
    m->g0sp = ((uintptr_t)__builtin_frame_address(0) - 4096) & ~(uintptr_t)15;
    sched__fiber_init_m(m);
    sched__signal_init_m(m);
    pthread_sigmask(SIG_SETMASK, &m->sigmask, NULL);
    if (m->mstartfn) {
        m->mstartfn();   /* sysmon: never returns */
        return NULL;
    }
    mstart1();
    return NULL;
}

/* Acquires the P handed over at creation and enters the schedule loop. */
static void mstart1(void)
{
    m_t *m = sched__getm();
    if (m->nextp) {
        p_t *p = m->nextp;
        m->nextp = NULL;
        sched__acquirep(p);
    }
    sched__schedule();
}

/* Throws Go's thread exhaustion if there are more Ms than the cap.
 * sched.lock held (released before the report). */
static void checkmcount(void)
{
    int32_t n = (int32_t)sched__sched.mnext;
    if (n > sched__sched.maxmcount) {
        int32_t max = sched__sched.maxmcount;
        runtime__unlock(&sched__sched.lock);
        runtime__printf("runtime: program exceeds %d-thread limit\n", max);
        runtime__throw("thread exhaustion");
    }
}

/* Allocates an M descriptor and links it into allm. */
static m_t *allocm(void)
{
    m_t *m = runtime__malloc(sizeof(m_t));
    m->g0 = runtime__malloc(sizeof(g_t));
    m->g0->system = true;
    runtime__lock(&sched__sched.lock);
    m->id = sched__sched.mnext++;
    checkmcount();
    runtime__unlock(&sched__sched.lock);
    m_t *old = atomic_load(&sched__allm);
    do {
        m->alllink = old;
    } while (!atomic_compare_exchange_weak(&sched__allm, &old, m));
    return m;
}

/* Creates an OS thread for a new M that starts with p (may be NULL). */
static void newm(void (*fn)(void), p_t *p, bool spinning)
{
    m_t *m = allocm();
    m->mstartfn = fn;
    m->nextp = p;
    m->spinning = spinning;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, SCHED_M_STACK);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    /* The new thread must not take our signals mid-setup. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    m->sigmask = old;   /* restored by the new thread in mstart */
    int err = pthread_create(&m->thread, &attr, mstart, m);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    pthread_attr_destroy(&attr);
    if (err != 0)
        runtime__throwf("newosproc: pthread_create failed: %s", strerror(err));
}

/* Starts an M for the sysmon thread (no P). */
void sched__newm_sysmon(void (*fn)(void))
{
    runtime__lock(&sched__sched.lock);
    sched__sched.nmsys++;
    runtime__unlock(&sched__sched.lock);
    newm(fn, NULL, false);
}

/* Takes the P startm handed to m, unless a stop of the world took it back
 * while m was waking (then the P is no longer P_HANDED to m). */
static bool take_handed(m_t *m)
{
    p_t *p = m->nextp;
    m->nextp = NULL;
    runtime__lock(&sched__sched.lock);
    bool mine = atomic_load(&p->status) == P_HANDED && p->m == m;
    if (mine) {
        p->m = NULL;
        atomic_store(&p->status, P_IDLE);
        sched__acquirep(p);
    }
    runtime__unlock(&sched__sched.lock);
    return mine;
}

/* Parks the current M until another M hands it a P (m->nextp). */
void sched__stopm(void)
{
    m_t *m = sched__getm();
    runtime__assert(m->locks == 0 || m->curg == NULL);
    runtime__assert(m->p == NULL);
    runtime__assert(!m->spinning);
    do {
        if (m->spinning) {   /* woken to spin, for a P taken back */
            m->spinning = false;
            atomic_fetch_sub(&sched__sched.nmspinning, 1);
        }
        runtime__lock(&sched__sched.lock);
        mput(m);
        runtime__unlock(&sched__sched.lock);
        m->blocked = true;
        runtime__notesleep(&m->park);
        m->blocked = false;
        runtime__noteclear(&m->park);
        if (atomic_load(&sched__sched.exiting) && m->nextp == NULL)
            sched__mexit_forever();
        runtime__assert(m->nextp != NULL);
    } while (!take_handed(m));
}

/* Runs p on an idle M, or a new one. With p NULL, takes an idle P (and
 * gives up silently if there is none). spinning: the M starts spinning
 * (the caller already counted it in nmspinning); with no idle M and one
 * blocked in epoll_wait, that one is woken instead. */
void sched__startm(p_t *p, bool spinning)
{
    runtime__lock(&sched__sched.lock);
    if (p == NULL) {
        p = sched__pidleget();
        if (p == NULL) {
            runtime__unlock(&sched__sched.lock);
            if (spinning)
                atomic_fetch_sub(&sched__sched.nmspinning, 1);
            return;
        }
    }
    m_t *nm = mget();
    if (nm == NULL && spinning && sched__netpoll_blocked()) {
        /* The M blocked in epoll_wait looks for work once woken: no
         * thread is created just to spin. */
        sched__pidleput(p);
        runtime__unlock(&sched__sched.lock);
        atomic_fetch_sub(&sched__sched.nmspinning, 1);
        sched__netpoll_break();
        return;
    }
    if (nm == NULL) {
        runtime__unlock(&sched__sched.lock);
        newm(NULL, p, spinning);
        return;
    }
    runtime__assert(!nm->spinning && nm->nextp == NULL);
    /* Until nm runs, a stop of the world need not wait for its thread. */
    p->m = nm;
    atomic_store(&p->status, P_HANDED);
    runtime__unlock(&sched__sched.lock);
    nm->spinning = spinning;
    nm->nextp = p;
    runtime__notewakeup(&nm->park);
}

/* Gives away a P whose M is blocked (syscall) or leaving: to a new M if
 * there is work for it, else to the idle list. */
void sched__handoffp(p_t *p)
{
    if (!sched__runqempty(p) || sched__sched.runqsize != 0) {
        sched__startm(p, false);
        return;
    }
    /* No local work: a spinning M may still be useful to find some. */
    if (atomic_load(&sched__sched.nmspinning) + atomic_load(&sched__sched.npidle) == 0) {
        int32_t z = 0;
        if (atomic_compare_exchange_strong(&sched__sched.nmspinning, &z, 1)) {
            sched__startm(p, true);
            return;
        }
    }
    runtime__lock(&sched__sched.lock);
    if (atomic_load(&sched__sched.gcwaiting)) {
        atomic_store(&p->status, P_GCSTOP);
        p->m = NULL;
        sched__stopwait_done(p);
        runtime__unlock(&sched__sched.lock);
        return;
    }
    if (sched__sched.runqsize != 0) {
        runtime__unlock(&sched__sched.lock);
        sched__startm(p, false);
        return;
    }
    /* Timers on this P need an M that can wait for them. */
    if (atomic_load(&p->timer0when) != 0) {
        runtime__unlock(&sched__sched.lock);
        sched__startm(p, false);
        return;
    }
    sched__pidleput(p);
    runtime__unlock(&sched__sched.lock);
}

/* Wakes an idle P's M to run newly readied work, unless an M spins. */
void sched__wakep(void)
{
    if (atomic_load(&sched__sched.npidle) == 0)
        return;
    int32_t z = 0;
    if (atomic_load(&sched__sched.nmspinning) != 0 ||
        !atomic_compare_exchange_strong(&sched__sched.nmspinning, &z, 1))
        return;
    sched__startm(NULL, true);
}

/* The M found work: stop spinning, and if it was the last spinner, wake
 * another so that work readied meanwhile is not left waiting. */
void sched__resetspinning(m_t *m)
{
    m->spinning = false;
    int32_t n = atomic_fetch_sub(&sched__sched.nmspinning, 1) - 1;
    runtime__assert(n >= 0);
    sched__wakep();
}

/* The world is stopping: give up the P and sleep until restarted. */
static void gcstopm(m_t *m)
{
    if (m->spinning) {
        m->spinning = false;
        atomic_fetch_sub(&sched__sched.nmspinning, 1);
    }
    p_t *p = sched__releasep();
    runtime__lock(&sched__sched.lock);
    atomic_store(&p->status, P_GCSTOP);
    sched__stopwait_done(p);
    runtime__unlock(&sched__sched.lock);
    sched__stopm();
}


/* Leaves for good if the program is ending; gives up the P if the world
 * is stopping and returns true (the caller looks for work again). */

/* Leaves for good if the program is ending; gives up the P if the world
 * is stopping and returns true (the caller looks for work again). */
bool sched__stopping(m_t *m)
{
    if (atomic_load(&sched__sched.exiting))
        sched__mexit_forever();
    if (atomic_load(&sched__sched.gcwaiting)) {
        gcstopm(m);
        return true;
    }
    return false;
}

int debug_set_max_threads(int n)
{
    runtime__lock(&sched__sched.lock);
    int old = sched__sched.maxmcount;
    if (n > 0)
        sched__sched.maxmcount = n;
    if (atomic_load(&sched__started))
        checkmcount();
    runtime__unlock(&sched__sched.lock);
    return old;
}
