/*
 * sched/stw.c -- stopping the world, and resizing the P set (GOMAXPROCS).
 *
 * sched__stop_the_world sets gcwaiting, takes idle and syscall Ps
 * directly, asks every running G to stop (after dropping sched.lock, which
 * a stopping M may need) and waits until each running M has given up its P
 * in schedule(): spinning a short while first (a futex sleep on a
 * virtual machine can cost tens of microseconds to wake from), then
 * sleeping. One stop at a time: a second caller parks on worldsema
 * (blocking its M would keep its P from ever stopping). While the world is stopped the caller holds
 * m->locks, so it is never preempted, and it alone may run procresize.
 * GODEBUG=stwtrace=1 prints where each stop's time went.
 *
 * Context: G (stop/start, GOMAXPROCS); procresize on the stopping G or at
 * boot, with sched.lock held.
 */
#include <string.h>

#include "internal.h"

static int32_t allpcap;     /* capacity of sched__allp */
static int32_t newprocs;    /* procresize request, world stopped */

/* The stopper spins this long before sleeping: a P that stops at once
 * (a cooperative point) is seen without a futex wake-up; longer would
 * starve a P whose thread shares the stopper's CPU (a loaded machine). */
#define STW_SPIN_NS (20 * 1000)

/* What a P was doing when a stop was requested (GODEBUG=stwtrace). */
enum { STW_WAS_IDLE, STW_WAS_USER, STW_WAS_SYSTEM_G, STW_WAS_G0, STW_WAS_SYSCALL, STW_WAS_STOPPED,
       STW_WAS_HANDED };
static const char *const stw_was[] = {
    "idle", "running a user goroutine", "running a runtime goroutine",
    "on g0: scheduling, a mark worker or idle marking", "in a system call", "stopped",
    "handed to a waking M"};

/* The current stop's timeline (GODEBUG=stwtrace), the stopper's. */
static struct {
    const char *reason;
    int64_t request, stopped, restart;
    int64_t last_at;       /* when the last P stopped; sched.lock */
    int32_t last;          /* which P that was (-1: none waited for) */
    int32_t taken;         /* Ps taken back from Ms not yet awake */
    uint8_t *was;          /* per P, at the request */
    int32_t wascap;
} stw;

/* Records what each P is doing as the stop is requested. sched.lock. */
static void stw_snapshot(int32_t n)
{
    if (n > stw.wascap) {
        runtime__free(stw.was, (size_t)stw.wascap);
        stw.was = runtime__malloc((size_t)n);
        stw.wascap = n;
    }
    for (int32_t i = 0; i < n; i++) {
        p_t *p = sched__allp[i];
        uint32_t s = atomic_load(&p->status);
        m_t *m = p->m;
        g_t *g = m ? m->curg : NULL;
        stw.was[i] = s == P_SYSCALL ? STW_WAS_SYSCALL
                   : s == P_IDLE    ? STW_WAS_IDLE
                   : s == P_HANDED  ? STW_WAS_HANDED
                   : s != P_RUNNING ? STW_WAS_STOPPED
                   : m && !g        ? STW_WAS_G0
                   : g && g->system ? STW_WAS_SYSTEM_G
                                    : STW_WAS_USER;
    }
    stw.last = -1;
}

/* Prints the stop that just ended: time to stop (and who came last),
 * time stopped, time to restart. */
static void stw_print(int64_t end)
{
    int64_t stop = stw.stopped - stw.request;
    runtime__printf("stw %s: stop %lld us", stw.reason, (long long)(stop / 1000));
    if (stw.last >= 0)
        runtime__printf(" (last P%d, %s at the request, stopped at %lld us)", stw.last,
                        stw_was[stw.was[stw.last]], (long long)((stw.last_at - stw.request) / 1000));
    if (stw.taken)
        runtime__printf(", %d taken from waking Ms", stw.taken);
    runtime__printf(", stopped %lld us, restart %lld us\n",
                    (long long)((stw.restart - stw.stopped) / 1000),
                    (long long)((end - stw.restart) / 1000));
}

void sched__stopwait_done(p_t *p)
{
    stw.last = p->id;
    if (runtime__debug.stwtrace)
        stw.last_at = runtime__nanotime();
    if (--sched__sched.stopwait == 0)
        runtime__notewakeup(&sched__sched.stopnote);
}

/* Asks every running G to stop at its next safe point. */
void sched__preemptall(void)
{
    int32_t n = atomic_load(&sched__gomaxprocs);
    for (int32_t i = 0; i < n; i++) {
        p_t *p = sched__allp[i];
        if (atomic_load(&p->status) == P_RUNNING)
            sched__preemptone(p);
    }
}

/* One stop-the-world at a time. A G that wants the world while another
 * holds it parks (blocking its M would keep its P from ever stopping). */
static struct {
    bool held;
    g_t *head, *tail;   /* waiting Gs, FIFO; sched.lock */
} worldsema;

static void worldsema_acquire(g_t *g)
{
    runtime__lock(&sched__sched.lock);
    if (!worldsema.held) {
        worldsema.held = true;
        runtime__unlock(&sched__sched.lock);
        return;
    }
    g->schedlink = NULL;
    if (worldsema.tail)
        worldsema.tail->schedlink = g;
    else
        worldsema.head = g;
    worldsema.tail = g;
    /* Ownership is handed to us by the releaser. */
    sched__parkunlock(&sched__sched.lock, "stopping the world");
}

static void worldsema_release(void)
{
    runtime__lock(&sched__sched.lock);
    g_t *g = worldsema.head;
    if (g) {
        worldsema.head = g->schedlink;
        if (!worldsema.head)
            worldsema.tail = NULL;
    } else {
        worldsema.held = false;
    }
    runtime__unlock(&sched__sched.lock);
    if (g)
        sched__ready(g, false);
}

void sched__stop_the_world(const char *reason)
{
    g_t *g = sched__needg("stop the world");
    worldsema_acquire(g);
    m_t *m = sched__getm();
    m->locks++;
    stw.reason = reason;
    stw.request = runtime__debug.stwtrace ? runtime__nanotime() : 0;
    runtime__lock(&sched__sched.lock);
    int32_t n = atomic_load(&sched__gomaxprocs);
    if (runtime__debug.stwtrace)
        stw_snapshot(n);
    sched__sched.stopwait = n;
    atomic_store(&sched__sched.gcwaiting, 1);
    atomic_store(&m->p->status, P_GCSTOP);
    sched__sched.stopwait--;
    for (int32_t i = 0; i < n; i++) {
        p_t *p = sched__allp[i];
        uint32_t s = P_SYSCALL;
        if (atomic_compare_exchange_strong(&p->status, &s, P_GCSTOP)) {
            atomic_fetch_add(&p->syscalltick, 1);
            sched__sched.stopwait--;
        }
    }
    p_t *p;
    while ((p = sched__pidleget()) != NULL) {
        atomic_store(&p->status, P_GCSTOP);
        sched__sched.stopwait--;
    }
    stw.taken = 0;
    for (int32_t i = 0; i < n; i++) {
        p = sched__allp[i];
        if (atomic_load(&p->status) == P_HANDED) {   /* its M sleeps again when it wakes */
            p->m = NULL;
            atomic_store(&p->status, P_GCSTOP);
            sched__sched.stopwait--;
            stw.taken++;
        }
    }
    bool wait = sched__sched.stopwait > 0;
    runtime__unlock(&sched__sched.lock);
    if (wait) {
        sched__preemptall();
        if (!runtime__notespin(&sched__sched.stopnote, STW_SPIN_NS))
            while (!runtime__notetsleep(&sched__sched.stopnote, 100 * 1000))
                sched__preemptall();
        runtime__noteclear(&sched__sched.stopnote);
    }
    for (int32_t i = 0; i < n; i++)
        runtime__assert(atomic_load(&sched__allp[i]->status) == P_GCSTOP);
    if (runtime__debug.stwtrace)
        stw.stopped = runtime__nanotime();
}

/* Creates/destroys Ps to match nprocs. World stopped, sched.lock held.
 * Returns the list of Ps with local work (to be started). */
p_t *sched__procresize(int32_t nprocs)
{
    int32_t old = atomic_load(&sched__gomaxprocs);
    if (nprocs > allpcap) {
        p_t **na = runtime__malloc((size_t)nprocs * sizeof(p_t *));
        if (old)
            memcpy(na, sched__allp, (size_t)old * sizeof(p_t *));
        sched__allp = na;   /* old array kept: lock-free readers */
        allpcap = nprocs;
    }
    for (int32_t i = 0; i < nprocs; i++) {
        if (sched__allp[i] == NULL) {
            p_t *p = runtime__malloc(sizeof(p_t));
            p->id = i;
            atomic_store(&p->status, P_GCSTOP);
            sched__allp[i] = p;
            gc__p_init(p);
        } else if (atomic_load(&sched__allp[i]->status) == P_DEAD) {
            atomic_store(&sched__allp[i]->status, P_GCSTOP);
            gc__p_init(sched__allp[i]);
        }
    }
    m_t *m = sched__getm();
    /* Keep our P if it survives; else switch to P0. */
    if (m->p && m->p->id >= nprocs) {
        m->p->m = NULL;
        m->p = NULL;
    }
    if (m->p == NULL) {
        p_t *p0 = sched__allp[0];
        m->p = p0;
        p0->m = m;
    }
    atomic_store(&m->p->status, P_RUNNING);
    /* Ps beyond nprocs die: their Gs go global, timers to us. */
    for (int32_t i = nprocs; i < old; i++) {
        p_t *p = sched__allp[i];
        bool inh;
        g_t *gp;
        while ((gp = sched__runqget(p, &inh)) != NULL)
            sched__globrunqput(gp);
        while ((gp = sched__yieldget(p)) != NULL)
            sched__globrunqput(gp);
        sched__timers_move(p, m->p);
        if (p->gfree)
            sched__gfree_pushbatch(p->gfree, p->gfreecnt);
        p->gfree = NULL;
        p->gfreecnt = 0;
        sched__ucache_flush(p);
        gc__p_destroy(p);
        atomic_fetch_add(&sched__ngoroutines, p->ngoroutines);
        p->ngoroutines = 0;
        atomic_store(&p->status, P_DEAD);
        p->m = NULL;
    }
    atomic_store(&sched__gomaxprocs, nprocs);
    /* Rebuild the idle list. */
    sched__sched.pidle = NULL;
    atomic_store(&sched__sched.npidle, 0);
    p_t *runnable = NULL;
    for (int32_t i = nprocs - 1; i >= 0; i--) {
        p_t *p = sched__allp[i];
        if (p == m->p)
            continue;
        atomic_store(&p->status, P_IDLE);
        p->m = NULL;
        if (sched__runqempty(p)) {
            sched__pidleput(p);
        } else {
            p->link = runnable;
            runnable = p;
        }
    }
    return runnable;
}

void sched__start_the_world(void)
{
    m_t *m = sched__getm();
    if (runtime__debug.stwtrace)
        stw.restart = runtime__nanotime();
    runtime__lock(&sched__sched.lock);
    int32_t n = newprocs ? newprocs : atomic_load(&sched__gomaxprocs);
    newprocs = 0;
    p_t *runnable = sched__procresize(n);
    atomic_store(&sched__sched.gcwaiting, 0);
    runtime__unlock(&sched__sched.lock);
    while (runnable) {
        p_t *p = runnable;
        runnable = p->link;
        sched__startm(p, false);
    }
    if (runtime__debug.stwtrace)
        stw_print(runtime__nanotime());
    m->locks--;
    worldsema_release();
    sched__wakep();
    sched__checkpreempt();
}

int runtime_gomaxprocs(int n)
{
    if (!atomic_load(&sched__started)) {
        /* No runtime yet: report what runtime_main would use. */
        runtime__parse_env();
        return runtime__debug.gomaxprocs_env > 0 ? runtime__debug.gomaxprocs_env
                                                 : runtime_num_cpu();
    }
    int old = atomic_load(&sched__gomaxprocs);
    if (n < 1 || n == old)
        return old;
    sched__stop_the_world("GOMAXPROCS");
    newprocs = n;
    sched__start_the_world();
    return old;
}

