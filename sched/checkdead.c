/*
 * sched/checkdead.c -- deadlock detection.
 *
 * Context: g0 or a thread without a P, sched.lock held.
 */
#include "internal.h"

/* Called with sched.lock held whenever an M goes idle: if no M runs (an M
 * blocked in epoll_wait does not count), no G is in a syscall or parked on
 * a descriptor, no timer is pending and no foreign thread may call in,
 * nothing can ever wake a goroutine. */
void sched__checkdead(void)
{
    if (!atomic_load(&sched__started) || atomic_load(&sched__sched.exiting))
        return;
    if (atomic_load(&sched__sched.nforeign))
        return;
    int32_t mcount = (int32_t)sched__sched.mnext;
    int32_t run = mcount - sched__sched.nmidle - sched__sched.nmidlelocked -
                  sched__sched.nmsys - sched__sched.ntimersleep -
                  sched__sched.npollsleep;
    if (run > 0)
        return;
    if (run < 0)
        runtime__throwf("checkdead: inconsistent counts mcount=%d nmidle=%d "
                        "nmidlelocked=%d nmsys=%d", mcount, sched__sched.nmidle,
                        sched__sched.nmidlelocked, sched__sched.nmsys);
    int waiting = 0;
    size_t n = atomic_load(&sched__allglen);
    for (size_t i = 0; i < n; i++) {
        g_t *gp = sched__allgs[i];
        if (gp->system)
            continue;
        switch (atomic_load(&gp->status)) {
        case G_WAITING:
            waiting++;
            break;
        case G_RUNNABLE:
        case G_RUNNING:
        case G_SYSCALL:
            runtime__throwf("checkdead: runnable g %lld (status %u)",
                            (long long)gp->goid, atomic_load(&gp->status));
        default:
            break;
        }
    }
    if (waiting == 0)
        runtime__throw("no goroutines (main called runtime.Goexit) - deadlock!");
    /* A goroutine parked on a descriptor can be woken by the network (a
     * server blocked in accept is not deadlocked). */
    if (sched__netpoll_active())
        return;
    /* A pending timer will wake something. */
    int32_t np = atomic_load(&sched__gomaxprocs);
    for (int32_t i = 0; i < np; i++)
        if (atomic_load(&sched__allp[i]->timer0when) != 0)
            return;
    runtime__unlock_raw(&sched__sched.lock);  /* the report needs no lock; Ms waiting for it go on */
    runtime__throw("all goroutines are asleep - deadlock!");
}

