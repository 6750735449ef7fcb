/*
 * sched/sysmon.c -- the system monitor thread.
 *
 * sysmon runs on its own M without a P, so it works even when every P is
 * busy or stuck. Each tick it: retakes Ps blocked in syscalls for a whole
 * tick (hand-off); marks a P whose time slice ran over 10 ms (sliceover)
 * and asks its G to yield (preemption), reporting once a G that cannot be
 * preempted; polls the network if goroutines wait on descriptors and no
 * M has polled for 10 ms; checks the running Gs' stack canaries; prints schedtrace
 * lines; and lets the collector force a cycle or scavenge. It sleeps
 * 20 us between ticks while it retakes Ps, and once 50 ticks in a row
 * retook none it doubles the sleep each tick, up to 10 ms.
 *
 * Context: its own thread, no P, never parks; takes sched.lock (hand-off,
 * the idle-locked count) and, in gc__sysmon, the collector's locks.
 */
#include <unistd.h>

#include "internal.h"

#define SYSMON_IDLE_TICKS   50
#define SYSMON_STUCK_SLICES 10   /* slices one G may run before it is reported */

/* Adjusts the count of Ms idle while locked (see retake); checkdead
 * runs when the count goes back up. */
static void incidlelocked(int v)
{
    runtime__lock(&sched__sched.lock);
    sched__sched.nmidlelocked += v;
    if (v > 0)
        sched__checkdead();
    runtime__unlock(&sched__sched.lock);
}

/* Hands off Ps in long syscalls and preempts long-running Gs. Returns the
 * number of Ps retaken. */
static int retake(int64_t now)
{
    int n = 0;
    int32_t np = atomic_load(&sched__gomaxprocs);
    for (int32_t i = 0; i < np; i++) {
        p_t *p = sched__allp[i];
        uint32_t s = atomic_load(&p->status);
        if (s == P_RUNNING) {
            /* schedwhen 0: never seen running (the first G inherited P0's
             * first slice, so schedtick may still be 0). */
            if (p->sysmontick_sched != p->schedtick || p->schedwhen == 0) {
                p->sysmontick_sched = p->schedtick;
                p->schedwhen = now;
            } else if (p->schedwhen + SCHED_PREEMPT_NS <= now) {
                atomic_store_explicit(&p->sliceover, true, memory_order_relaxed);
                sched__preemptone(p);
            }
            /* A G that never switches never has its canary checked: look
             * at the running one's each tick, before it ruins neighbours. */
            m_t *pm = p->m;
            g_t *gp = pm ? pm->curg : NULL;
            if (gp)
                sched__stackcheck(gp);
            if (gp && p->schedwhen + SYSMON_STUCK_SLICES * SCHED_PREEMPT_NS <= now)
                sched__report_unpreemptible(gp, now - p->schedwhen);
            continue;
        }
        /* Not running: whoever runs on it next starts its clock now, even
         * if its schedtick has not moved (a G back from a syscall). */
        p->schedwhen = now;
        if (s != P_SYSCALL)
            continue;
        uint32_t t = atomic_load(&p->syscalltick);
        if (p->sysmontick_syscall != t) {
            p->sysmontick_syscall = t;
            p->syscallwhen = now;
            continue;
        }
        /* In the same syscall for a whole tick. Leave it alone only if
         * there is nothing else to run and other Ms are looking anyway. */
        if (sched__runqempty(p) &&
            atomic_load(&sched__sched.nmspinning) + atomic_load(&sched__sched.npidle) > 0 &&
            p->syscallwhen + SCHED_PREEMPT_NS > now)
            continue;
        /* Count sysmon as a running M while the P is in flight: else the
         * M in the syscall could return, find no P, go idle and have
         * checkdead see every M idle with a runnable G. */
        incidlelocked(-1);
        if (atomic_compare_exchange_strong(&p->status, &s, P_IDLE)) {
            atomic_fetch_add(&p->syscalltick, 1);
            n++;
            sched__handoffp(p);
        }
        incidlelocked(1);
    }
    return n;
}

/* sysmon's loop. Never returns. */
static void sysmon(void)
{
    int idle = 0;
    useconds_t delay = 0;
    int64_t lasttrace = 0;
    for (;;) {
        if (idle == 0)
            delay = SCHED_SYSMON_MIN_US;
        else if (idle > SYSMON_IDLE_TICKS)
            delay *= 2;
        if (delay > SCHED_SYSMON_MAX_US)
            delay = SCHED_SYSMON_MAX_US;
        usleep(delay);
        if (atomic_load(&sched__sched.exiting))
            continue;
        int64_t now = runtime__nanotime();
        atomic_store_explicit(&sched__coarsenow, now, memory_order_relaxed);
        if (retake(now) > 0)
            idle = 0;
        else
            idle++;
        if (sched__netpoll_due(now)) {
            /* Counted as a running M while the Gs it readies are in flight,
             * as in retake. */
            incidlelocked(-1);
            sched__netpoll_sysmon(now);
            incidlelocked(1);
        }
        gc__sysmon(now);
        if (runtime__debug.schedtrace > 0 &&
            now - lasttrace >= (int64_t)runtime__debug.schedtrace * 1000000) {
            lasttrace = now;
            sched__schedtrace(runtime__debug.scheddetail > 0);
        }
    }
}

void sched__sysmon_start(void)
{
    sched__newm_sysmon(sysmon);
}
