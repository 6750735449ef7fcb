/*
 * sched/proc.c -- the scheduler's globals, goroutine creation (go), the
 * first code of every goroutine, and the queries (NumGoroutine, NumCPU).
 * (Ps and Ms: m.c; the schedule loop: schedule.c; boot and the end of
 * the program: boot.c; goroutine exit: park.c; stop-the-world: stw.c;
 * LockOSThread: lockos.c; deadlock detection: checkdead.c.)
 *
 * Invariants of the whole scheduler (checked where cheap):
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
 * Lock order (the whole runtime's: docs/HACKING.md): sched.lock ->
 * p->timerslock -> allglock, gflock, galloc's ulock -> the collector's.
 * Context: functions named *_m and everything below schedule() run on g0.
 */
#include <sched.h>
#include <unistd.h>

#include "internal.h"

sched_t sched__sched;
p_t **sched__allp;
_Atomic int32_t sched__gomaxprocs;
_Atomic(m_t *) sched__allm;
m_t sched__m0;
_Atomic bool sched__started;

_Atomic int64_t sched__coarsenow;       /* nanotime, refreshed by sysmon */
_Atomic int32_t sched__ngoroutines;     /* live user Gs not counted per P */

/* Counts a user goroutine born (+1) or dead (-1): per P when there is
 * one, so that spawning Ps share no cache line; NumGoroutine sums. */
void sched__gcount_add(p_t *p, int d)
{
    if (p)
        p->ngoroutines += d;
    else
        atomic_fetch_add(&sched__ngoroutines, d);
}

/* Queues a new G: runnext of this P, or the global queue off a P. */
void sched__newproc(void (*fn)(void *), void *arg, bool system, uintptr_t pc)
{
    if (!atomic_load(&sched__started))
        runtime__misuse("go() called before runtime_main started the runtime");
    m_t *m = sched__getm();
    if (m)
        m->locks++;   /* stay on this P while using its caches and queue */
    p_t *p = m ? m->p : NULL;
    g_t *gp = sched__newg(p, fn, arg, system, pc);
    if (!system)
        sched__gcount_add(p, 1);
    if (p) {
        sched__runqput(p, gp, true);
        m->locks--;
        sched__wakep();
    } else {
        if (m)
            m->locks--;
        else
            atomic_store(&sched__sched.nforeign, 1);
        sched__globrunqput_wake(gp);
    }
}

/* Queues gp globally from a thread that holds no P (a foreign thread, a
 * timer fired off a P) and starts an M on an idle P to run it. wakep is
 * not enough here: it defers to a spinning M, and a spinner only re-checks
 * the local queues of every P (where readied Gs normally go) once it stops
 * spinning, so this G could be left behind. An M that is about to idle its
 * P checks the global queue under sched.lock first, so either it sees gp,
 * or we see its idle P. */
void sched__globrunqput_wake(g_t *gp)
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
    sched__newproc(fn, arg, false, (uintptr_t)__builtin_return_address(0));
    sched__checkpreempt();
}

void sched__go_system(void (*fn)(void *), void *arg)
{
    sched__newproc(fn, arg, true, (uintptr_t)__builtin_return_address(0));
}

/* First Go-level code of every goroutine (called by sched__gostart). */
_Noreturn void sched__goentry(void)
{
    sched__fiber_start();
    g_t *g = sched__getg();
    sched__call_entry(g->fn, g->arg);
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

