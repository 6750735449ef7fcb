/*
 * sched/trace.c -- GODEBUG=schedtrace=N[,scheddetail=1] output.
 *
 * Prints Go 1.19's exact SCHED lines to stderr (called by sysmon every N
 * ms). Fields are read racily on purpose, under sched.lock only, as Go
 * does: the trace must never stop the scheduler.
 */
#include <inttypes.h>
#include <stdio.h>

#include "internal.h"

static int64_t starttime;

/* One G line of scheddetail. */
static void detail_g(g_t *g, void *unused)
{
    (void)unused;
    m_t *gm = g->unstarted ? NULL : g->m, *lm = g->unstarted ? NULL : g->lockedm;
    uint32_t s = atomic_load(&g->status);
    runtime__printf("  G%" PRId64 ": status=%u(%s) m=%" PRId64 " lockedm=%" PRId64 "\n",
                    g->goid, s, s == G_WAITING && g->waitreason ? g->waitreason : "",
                    gm ? gm->id : -1, lm ? lm->id : -1);
}

void sched__schedtrace(bool detailed)
{
    int64_t now = runtime__nanotime();
    if (starttime == 0)
        starttime = now;
    runtime__lock(&sched__sched.lock);
    int32_t np = atomic_load(&sched__gomaxprocs);
    int32_t mcount = (int32_t)sched__sched.mnext;
    /* Yielded Gs are globally queued in Go: count each P's yield queue. */
    int32_t runqueue = sched__sched.runqsize;
    for (int32_t i = 0; i < np; i++)
        runqueue += (int32_t)(atomic_load(&sched__allp[i]->yieldtail) -
                              atomic_load(&sched__allp[i]->yieldhead));
    char line[4096];
    int n = snprintf(line, sizeof line,
        "SCHED %" PRId64 "ms: gomaxprocs=%d idleprocs=%d threads=%d "
        "spinningthreads=%d idlethreads=%d runqueue=%d",
        (now - starttime) / 1000000, np, atomic_load(&sched__sched.npidle), mcount,
        atomic_load(&sched__sched.nmspinning), sched__sched.nmidle, runqueue);
    if (detailed)
        n += snprintf(line + n, sizeof line - (size_t)n,
            " gcwaiting=%u nmidlelocked=%d stopwait=%d sysmonwait=%u\n",
            atomic_load(&sched__sched.gcwaiting), sched__sched.nmidlelocked,
            sched__sched.stopwait, atomic_load(&sched__sched.sysmonwait));
    runtime__printf("%s", line);
    for (int32_t i = 0; i < np; i++) {
        p_t *p = sched__allp[i];
        m_t *pm = p->m;
        uint32_t h = atomic_load(&p->runqhead), t = atomic_load(&p->runqtail);
        /* Go's numbers: a P handed to an M not yet awake is still idle
         * there (_Pidle until the M acquires it). */
        uint32_t st = atomic_load(&p->status);
        if (st == P_HANDED)
            st = P_IDLE;
        if (detailed)
            runtime__printf("  P%d: status=%u schedtick=%u syscalltick=%u m=%" PRId64
                            " runqsize=%u gfreecnt=%d timerslen=%d\n",
                            i, st, p->schedtick,
                            atomic_load(&p->syscalltick), pm ? pm->id : -1,
                            t - h, p->gfreecnt, p->ntimers);
        else
            runtime__printf("%s%u%s", i == 0 ? " [" : " ", t - h,
                            i == np - 1 ? "]\n" : "");
    }
    if (!detailed) {
        runtime__unlock(&sched__sched.lock);
        return;
    }
    for (m_t *m = atomic_load(&sched__allm); m; m = m->alllink) {
        p_t *p = m->p;
        g_t *g = m->curg, *lg = m->lockedg;
        runtime__printf("  M%" PRId64 ": p=%d curg=%" PRId64 " mallocing=0 throwing=0 "
                        "preemptoff= locks=%d dying=%d spinning=%s blocked=%s "
                        "lockedg=%" PRId64 "\n",
                        m->id, p ? p->id : -1, g ? g->goid : -1, m->locks,
                        m->dying ? 1 : 0, m->spinning ? "true" : "false",
                        m->blocked ? "true" : "false", lg ? lg->goid : -1);
    }
    size_t ng = atomic_load(&sched__allglen);
    for (size_t i = 0; i < ng; i++)
        detail_g(sched__allgs[i], NULL);
    sched__for_each_unstarted(detail_g, NULL);
    runtime__unlock(&sched__sched.lock);
}
