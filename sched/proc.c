/*
 * sched/proc.c -- Gs, Ms and Ps, the schedule loop, work stealing, boot
 * and exit. (Stop-the-world: stw.c; LockOSThread: lockos.c; deadlock
 * detection: checkdead.c.)
 *
 * Invariants (checked where cheap):
 *  - A P is owned by at most one M; p->status is P_RUNNING exactly while an
 *    M holds it outside a syscall.
 *  - nmspinning counts Ms with m->spinning; spinning + running Ms never
 *    exceed GOMAXPROCS: an M starts spinning only while
 *    2 * nmspinning < GOMAXPROCS - npidle.
 *  - A readied G wakes an idle P's M (wakep) only when no M spins: a
 *    spinning M will find it. The last M to stop spinning re-checks every
 *    queue after giving up its P, so no wake-up is lost.
 *  - Ms park on their own note; an idle M is on sched.midle with its note
 *    cleared before it sleeps, so a wake-up between "found nothing" and the
 *    sleep is kept by the note.
 *
 * Lock order: sched.lock -> p->timerslock -> (nothing). allglock is a leaf.
 * Context: functions named *_m and everything below schedule() run on g0.
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/futex.h>

#include "internal.h"

#define SCHED_STEAL_TRIES    4
#define SCHED_M_STACK        (1 << 20)

sched_t sched__sched;
p_t **sched__allp;
_Atomic int32_t sched__gomaxprocs;
_Atomic(m_t *) sched__allm;
m_t sched__m0;
_Atomic bool sched__started;
__thread m_t *sched__tls_m __attribute__((tls_model("initial-exec")));

_Atomic int64_t sched__coarsenow;       /* nanotime, refreshed by sysmon */
static runtime_note_t timernote;        /* the timer sleeper's note */
static _Atomic int64_t timersleepuntil; /* 0: no M sleeps for timers */
static _Atomic int32_t ngsys;           /* live system goroutines */
_Atomic int32_t sched__ngoroutines;     /* live user Gs not counted per P */

static void mstart1(void);

/* Counts a user goroutine born (+1) or dead (-1): per P when there is
 * one, so that spawning Ps share no cache line; NumGoroutine sums. */
static void gcount_add(p_t *p, int d)
{
    if (p)
        p->ngoroutines += d;
    else
        atomic_fetch_add(&sched__ngoroutines, d);
}

/* Queues a new G: runnext of this P, or the global queue off a P. */
static void newproc(void (*fn)(void *), void *arg, bool system, uintptr_t pc)
{
    if (!atomic_load(&sched__started))
        runtime__misuse("go() called before runtime_main started the runtime");
    m_t *m = sched__getm();
    if (m)
        m->locks++;   /* stay on this P while using its caches and queue */
    p_t *p = m ? m->p : NULL;
    g_t *gp = sched__newg(p, fn, arg, system, pc);
    if (system)
        atomic_fetch_add(&ngsys, 1);
    else
        gcount_add(p, 1);
    if (p) {
        sched__runqput(p, gp, true);
        m->locks--;
        sched__wakep();
    } else {
        if (m)
            m->locks--;
        else
            atomic_store(&sched__sched.nforeign, 1);
        sched__globrunqput_nop(gp);
    }
}

/* Queues gp globally from a thread that holds no P (a foreign thread, a
 * timer fired off a P) and starts an M on an idle P to run it. wakep is
 * not enough here: it defers to a spinning M, and a spinner only re-checks
 * the local queues of every P (where readied Gs normally go) once it stops
 * spinning, so this G could be left behind. An M that is about to idle its
 * P checks the global queue under sched.lock first, so either it sees gp,
 * or we see its idle P. */
void sched__globrunqput_nop(g_t *gp)
{
    runtime__lock(&sched__sched.lock);
    sched__globrunqput(gp);
    runtime__unlock(&sched__sched.lock);
    if (atomic_load(&sched__sched.npidle) > 0)
        sched__startm(NULL, false);
}

void go(void (*fn)(void *arg), void *arg)
{
    if (unlikely(fn == NULL))
        runtime__throw("go of nil func value");
    newproc(fn, arg, false, (uintptr_t)__builtin_return_address(0));
    sched__checkpreempt();
}

void sched__go_system(void (*fn)(void *), void *arg)
{
    newproc(fn, arg, true, (uintptr_t)__builtin_return_address(0));
}

/* First Go-level code of every goroutine (called by sched__gostart). */
_Noreturn void sched__goentry(void)
{
    g_t *g = sched__getg();
    runtime__goentry(g->fn, g->arg);
    sched__goexit1();
}

g_t *sched__needg(const char *what)
{
    m_t *m = sched__getm();
    g_t *g = m ? m->curg : NULL;
    if (unlikely(g == NULL)) {
        if (!atomic_load(&sched__started))
            runtime__misuse("%s called before runtime_main started the runtime", what);
        runtime__misuse("%s called from a thread that is not running a goroutine "
                        "(a thread the runtime did not create, or a runtime thread)",
                        what);
    }
    return g;
}

/* ------------------------------------------------------------------ */
/* Ps                                                                  */
/* ------------------------------------------------------------------ */

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
    sched__tls_m = m;
    m->tid = (int)syscall(SYS_gettid);
    m->g0sp = ((uintptr_t)__builtin_frame_address(0) - 4096) & ~(uintptr_t)15;
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

/* Parks the current M until another M hands it a P (m->nextp). */
void sched__stopm(void)
{
    m_t *m = sched__getm();
    runtime__assert(m->locks == 0 || m->curg == NULL);
    runtime__assert(m->p == NULL);
    runtime__assert(!m->spinning);
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
    sched__acquirep(m->nextp);
    m->nextp = NULL;
}

/* Runs p on an idle M, or a new one. With p NULL, takes an idle P (and
 * gives up silently if there is none). spinning: the M starts spinning
 * (the caller already counted it in nmspinning). */
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
    if (nm == NULL) {
        runtime__unlock(&sched__sched.lock);
        newm(NULL, p, spinning);
        return;
    }
    runtime__unlock(&sched__sched.lock);
    runtime__assert(!nm->spinning && nm->nextp == NULL);
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
        if (--sched__sched.stopwait == 0)
            runtime__notewakeup(&sched__sched.stopnote);
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
static void resetspinning(m_t *m)
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
    if (--sched__sched.stopwait == 0)
        runtime__notewakeup(&sched__sched.stopnote);
    runtime__unlock(&sched__sched.lock);
    sched__stopm();
}


/* Leaves for good if the program is ending; gives up the P if the world
 * is stopping and returns true (the caller looks for work again). */
static bool stopping(m_t *m)
{
    if (atomic_load(&sched__sched.exiting))
        sched__mexit_forever();
    if (atomic_load(&sched__sched.gcwaiting)) {
        gcstopm(m);
        return true;
    }
    return false;
}

/* ------------------------------------------------------------------ */
/* exit of the whole program                                           */
/* ------------------------------------------------------------------ */

#define MAIN_EXIT_WAIT_MS 1000  /* how long M0 may take to return */

static g_t m0exit;              /* runtime_main's context, saved by mcall */
static _Atomic bool m0returned;
static int mainret;

/* Leaves this M parked for good: the program is ending. M0 returns from
 * runtime_main instead. If M0 cannot come back (blocked in a system call),
 * the process exits with main's value after a grace period, as Go's exit
 * would not wait for it at all. */
_Noreturn void sched__mexit_forever(void)
{
    m_t *m = sched__getm();
    if (m == &sched__m0)
        sched__gogo(m0exit.sp);
    m->dying = true;
    if (m->curg == NULL && m->p && atomic_load(&sched__sched.exiting)) {
        for (int i = 0; i < MAIN_EXIT_WAIT_MS && !atomic_load(&m0returned); i++)
            usleep(1000);
        if (!atomic_load(&m0returned)) {
            fflush(NULL);
            _exit(mainret);
        }
    }
    for (;;)
        pause();
}

/* ------------------------------------------------------------------ */
/* schedule                                                            */
/* ------------------------------------------------------------------ */

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
static bool sleep_for_timers(m_t *m, int64_t next)
{
    runtime__lock(&sched__sched.lock);
    if (next == 0 || sched__sched.ntimersleep > 0 || atomic_load(&sched__sched.gcwaiting) ||
        atomic_load(&sched__sched.exiting)) {
        runtime__unlock(&sched__sched.lock);
        sched__stopm();
        return true;
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
        return true;
    }
    sched__stopm();
    return true;
}

/* Wakes the timer sleeper if a timer due at when is earlier than its
 * deadline; if nobody sleeps for timers, an idle P's M will look. */
void sched__timer_wake(int64_t when)
{
    int64_t until = atomic_load(&timersleepuntil);
    if (until != 0 && when < until) {
        uint32_t z = 0;
        if (atomic_compare_exchange_strong(&timernote.key, &z, 1))
            syscall(SYS_futex, &timernote.key, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
    }
}

/* Finds a runnable G, stealing if needed; blocks the M until there is one.
 * Returns with the M holding a P. */
static g_t *findrunnable(bool *inherit)
{
    m_t *m;
top:
    m = sched__getm();
    if (stopping(m))
        goto top;
    p_t *p = m->p;
    int64_t next = checktimers_all();

    g_t *gp = sched__runqget(p, inherit);
    if (gp)
        return gp;
    if (sched__sched.runqsize != 0) {
        runtime__lock(&sched__sched.lock);
        gp = sched__globrunqget(p, 0);
        runtime__unlock(&sched__sched.lock);
        if (gp) {
            *inherit = false;
            return gp;
        }
    }
    gp = sched__yieldget(p);
    if (gp) {
        *inherit = false;
        return gp;
    }

    /* Spin only while spinning Ms are fewer than half the busy Ps. */
    int32_t procs = atomic_load(&sched__gomaxprocs);
    if (m->spinning ||
        2 * atomic_load(&sched__sched.nmspinning) < procs - atomic_load(&sched__sched.npidle)) {
        if (!m->spinning) {
            m->spinning = true;
            atomic_fetch_add(&sched__sched.nmspinning, 1);
        }
        gp = stealwork(p, inherit);
        if (gp)
            return gp;
    }

    /* Nothing found: give up the P. Re-check the global queue under the
     * lock, since a G put there after our look would otherwise wait. */
    runtime__lock(&sched__sched.lock);
    if (atomic_load(&sched__sched.gcwaiting) || atomic_load(&sched__sched.exiting)) {
        runtime__unlock(&sched__sched.lock);
        goto top;
    }
    if (sched__sched.runqsize != 0) {
        gp = sched__globrunqget(p, 0);
        runtime__unlock(&sched__sched.lock);
        *inherit = false;
        return gp;
    }
    if (!sched__runqempty(p)) {
        runtime__unlock(&sched__sched.lock);
        goto top;
    }
    sched__releasep();
    sched__pidleput(p);
    runtime__unlock(&sched__sched.lock);

    bool wasspinning = m->spinning;
    if (m->spinning) {
        m->spinning = false;
        atomic_fetch_sub(&sched__sched.nmspinning, 1);
        /* We were the last spinner: anything readied while we spun relied
         * on us. Look at every queue once more now that we hold no P. */
        int32_t n = atomic_load(&sched__gomaxprocs);
        for (int32_t i = 0; i < n; i++) {
            if (!sched__runqempty(sched__allp[i])) {
                runtime__lock(&sched__sched.lock);
                p_t *p2 = sched__pidleget();
                runtime__unlock(&sched__sched.lock);
                if (p2) {
                    sched__acquirep(p2);
                    m->spinning = true;
                    atomic_fetch_add(&sched__sched.nmspinning, 1);
                    goto top;
                }
                break;
            }
        }
    }
    (void)wasspinning;
    next = checktimers_all();
    sleep_for_timers(m, next);
    goto top;
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
    if (stopping(m))
        goto top;
    p_t *p = m->p;
    int64_t w = atomic_load(&p->timer0when);
    if (w != 0) {
        int64_t now = runtime__nanotime();
        if (w <= now)
            sched__timers_run(p, now);
    }

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
        resetspinning(m);
    if (!gp->unstarted && gp->lockedm && gp->lockedm != m) {
        sched__startlockedm(gp);
        goto top;
    }
    sched__execute(gp, inherit);
}

/* ------------------------------------------------------------------ */
/* queries                                                             */
/* ------------------------------------------------------------------ */

int runtime_num_goroutine(void)
{
    /* Ps that died in procresize handed their counts to P0. */
    int64_t n = atomic_load(&sched__ngoroutines);
    int32_t np = atomic_load(&sched__gomaxprocs);
    for (int32_t i = 0; i < np; i++)
        n += __atomic_load_n(&sched__allp[i]->ngoroutines, __ATOMIC_RELAXED);
    return n < 1 ? 1 : (int)n;
}

int runtime_num_cpu(void)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0)
        return CPU_COUNT(&set);
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

int64_t runtime_goid(void)
{
    g_t *g = sched__getg();
    return g ? g->goid : 0;
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

/* ------------------------------------------------------------------ */
/* goroutine exit                                                      */
/* ------------------------------------------------------------------ */

/* g0: the G is finished; recycle it and schedule. */
static _Noreturn void goexit0(g_t *gp)
{
    m_t *m = sched__getm();
    sched__stackcheck(gp);
    atomic_store(&gp->status, G_DEAD);
    if (gp->system)
        atomic_fetch_sub(&ngsys, 1);
    else
        gcount_add(m->p, -1);
    m->curg = NULL;
    gp->m = NULL;
    if (gp->lockedm) {
        gp->lockedm = NULL;
        m->lockedg = NULL;
        m->lockedext = 0;
    }
    gp->fn = NULL;
    gp->arg = NULL;
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
    if (g->system)
        atomic_fetch_sub(&ngsys, 1);
    else
        gcount_add(p, -1);
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

/* ------------------------------------------------------------------ */
/* boot                                                                */
/* ------------------------------------------------------------------ */

typedef struct {
    int (*fn)(int, char **);
    int argc;
    char **argv;
    int ret;
} mainarg_t;

/* g0 of whichever M ran main's last step: end the program. */
static _Noreturn void mainexit_m(g_t *gp)
{
    m_t *m = sched__getm();
    m->curg = NULL;
    atomic_store(&gp->status, G_DEAD);
    gcount_add(m->p, -1);
    /* Every other goroutine stops at its next safe point. */
    sched__preemptall();
    /* Wake M0 wherever it sleeps so it can return from runtime_main. */
    if (m != &sched__m0) {
        runtime__lock(&sched__sched.lock);
        for (m_t **pm = &sched__sched.midle; *pm; pm = &(*pm)->schedlink) {
            if (*pm == &sched__m0) {
                *pm = sched__m0.schedlink;
                sched__sched.nmidle--;
                runtime__notewakeup(&sched__m0.park);
                break;
            }
        }
        runtime__unlock(&sched__sched.lock);
        sched__timer_wake(1);
    }
    sched__mexit_forever();
}

/* g0: a goroutine came back from a system call after main returned. */
static _Noreturn void exiting_m(g_t *gp)
{
    sched__getm()->curg = NULL;
    gp->m = NULL;
    sched__mexit_forever();
}

void sched__leave_if_exiting(void)
{
    if (likely(!atomic_load_explicit(&sched__sched.exiting, memory_order_relaxed)))
        return;
    g_t *g = sched__getg();
    if (g)
        sched__mcall(g, sched__getm()->g0sp, exiting_m);
}

/* The main goroutine's body. */
static void main_entry(void *arg)
{
    mainarg_t *ma = arg;
    ma->ret = ma->fn(ma->argc, ma->argv);
    mainret = ma->ret;
    atomic_store(&sched__sched.exiting, true);
    g_t *g = sched__getg();
    m_t *m = sched__getm();
    sched__mcall(g, m->g0sp, mainexit_m);
}

/* g0 of M0: queue main and schedule. */
static _Noreturn void m0start_m(g_t *unused)
{
    (void)unused;
    sched__schedule();
}

int runtime_main(int (*main_fn)(int argc, char **argv), int argc, char **argv)
{
    static _Atomic int once;
    if (atomic_fetch_add(&once, 1) != 0)
        runtime__misuse("runtime_main called more than once");
    if (main_fn == NULL)
        runtime__misuse("runtime_main called with a NULL main function");
    runtime__parse_env();
    sched__stack_size = runtime__debug.stack_size;
    sched__sched.maxmcount = SCHED_MAX_THREADS;

    m_t *m0 = &sched__m0;
    m0->g0 = runtime__malloc(sizeof(g_t));
    m0->g0->system = true;
    m0->id = sched__sched.mnext++;
    m0->tid = (int)syscall(SYS_gettid);
    m0->thread = pthread_self();
    atomic_store(&sched__allm, m0);
    sched__tls_m = m0;
    sched__signal_init_m(m0);

    int32_t procs = runtime_num_cpu();
    if (runtime__debug.gomaxprocs_env > 0)
        procs = runtime__debug.gomaxprocs_env;
    runtime__lock(&sched__sched.lock);
    p_t *runnable = sched__procresize(procs);
    runtime__unlock(&sched__sched.lock);
    runtime__assert(runnable == NULL);

    atomic_store(&sched__coarsenow, runtime__nanotime());
    gc__init();
    sched__preempt_init();
    runtime__signal_init();
    atomic_store(&sched__started, true);

    mainarg_t ma = {main_fn, argc, argv, 0};
    newproc(main_entry, &ma, false, (uintptr_t)__builtin_return_address(0));
    sched__sysmon_start();

    /* Run the scheduler on this thread's stack, below this frame; when
     * main returns, M0 comes back here through m0exit_sp. */
    m0->g0sp = ((uintptr_t)__builtin_frame_address(0) - 8192) & ~(uintptr_t)15;
    sched__mcall(&m0exit, m0->g0sp, m0start_m);
    atomic_store(&m0returned, true);
    fflush(NULL);
    return ma.ret;
}
