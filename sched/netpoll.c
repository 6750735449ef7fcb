/*
 * sched/netpoll.c -- the network poller: one epoll instance, a poll record
 * (pollfd) per registered descriptor, the waits that park a goroutine on
 * a descriptor, their deadlines, and the polls the scheduler makes when
 * it looks for work.
 *
 * Owns: the epoll descriptor and the eventfd that interrupts a blocked
 * epoll_wait (both created on the first registration), the free list of
 * poll records, the count of goroutines parked on descriptors, lastpoll
 * (0 while an M is blocked in epoll_wait) and polluntil (when that M
 * wakes up by itself).
 *
 * May call: park/ready (sched/park.c), the timers (sched/timer.c), the
 * idle lists (sched/m.c), runtime locks and memory.
 *
 * Wait slots: each record has a reader slot and a writer slot, an atomic
 * word holding 0, PD_READY (an edge arrived nobody consumed), PD_WAIT (a
 * goroutine is about to park) or the parked G. A waiter moves 0 -> WAIT,
 * re-checks close and deadline, then parks with an unlock function that
 * moves WAIT -> G; whoever makes the descriptor ready (the poller) or
 * ends the wait (close, deadline) swaps the slot first, so either the
 * commit fails and the G goes on running, or the swapper gets the G and
 * readies it: no lost and no double wake-up.
 *
 * Invariants: a record is never returned to the allocator, only to the
 * free list, so a stale pointer (an epoll event in flight, a timer firing
 * as the record is closed) is always safe to read. Each deadline timer
 * carries the record's rseq/wseq at arming time and does nothing once it
 * changed; each epoll registration carries fdseq in its top 16 bits and
 * an event whose tag no longer matches is dropped.
 *
 * Context: waits and deadlines on a G; the polls on g0 (findrunnable) or
 * sysmon's thread; timer functions on whatever M runs the timers.
 */
#include <errno.h>
#include <limits.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

#define PD_READY        ((uintptr_t)1)
#define PD_WAIT         ((uintptr_t)2)
#define PD_CHUNK        64                        /* records per allocation */
#define PD_TAGSHIFT     48
#define PD_PTRMASK      ((UINT64_C(1) << PD_TAGSHIFT) - 1)
#define NETPOLL_EVENTS  128
#define NETPOLL_SYSMON_NS (10 * 1000 * 1000)      /* sysmon polls after this */

struct sched_pollfd {
    runtime_lock_t lock;            /* deadlines, closing, seqs */
    int fd;
    _Atomic uint32_t fdseq;         /* tag of the epoll registration */
    _Atomic bool closing;
    _Atomic uintptr_t rg, wg;       /* wait slots */
    _Atomic int64_t rd, wd;         /* deadlines: 0 none, -1 passed */
    uintptr_t rseq, wseq;           /* bumped when a deadline changes */
    sched_timer_t rt, wt;
    sched_pollfd_t *link;           /* free list */
};

static runtime_lock_t initlock;
static _Atomic bool inited;
static int epfd = -1, breakfd = -1;
static _Atomic uint32_t wakesig;    /* a break is pending */
static _Atomic int32_t nwaiters;    /* Gs parked on descriptors */
static _Atomic int64_t lastpoll = 1; /* 0: an M blocks in epoll_wait */
static _Atomic int64_t polluntil;   /* that M's wake-up time (INT64_MAX: none) */
static _Atomic bool nopwait2;       /* the kernel lacks epoll_pwait2 */
static runtime_lock_t freelock;
static sched_pollfd_t *freelist;

/* Creates the epoll instance and its break eventfd, once. */
static void netpoll_init(void)
{
    if (atomic_load_explicit(&inited, memory_order_acquire))
        return;
    runtime__lock(&initlock);
    if (!atomic_load(&inited)) {
        epfd = epoll_create1(EPOLL_CLOEXEC);
        breakfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (epfd < 0 || breakfd < 0)
            runtime__throwf("runtime: netpollinit failed with %d", errno);
        /* Level-triggered: a break stays visible until a blocking poll reads it. */
        struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 0};
        if (epoll_ctl(epfd, EPOLL_CTL_ADD, breakfd, &ev) != 0)
            runtime__throwf("runtime: netpollinit failed with %d", errno);
        atomic_store(&lastpoll, runtime__nanotime());
        atomic_store_explicit(&inited, true, memory_order_release);
    }
    runtime__unlock(&initlock);
}

static void pd_deadline_r(void *arg, uintptr_t seq);
static void pd_deadline_w(void *arg, uintptr_t seq);

/* Takes a record from the free list, refilling it a chunk at a time. */
static sched_pollfd_t *pd_alloc(void)
{
    runtime__lock(&freelock);
    if (freelist == NULL) {
        sched_pollfd_t *c = runtime__malloc(PD_CHUNK * sizeof *c);
        for (int i = 0; i < PD_CHUNK; i++) {
            c[i].rt.f = pd_deadline_r;
            c[i].rt.arg = &c[i];
            c[i].rt.idx = -1;
            c[i].wt.f = pd_deadline_w;
            c[i].wt.arg = &c[i];
            c[i].wt.idx = -1;
            c[i].link = freelist;
            freelist = &c[i];
        }
    }
    sched_pollfd_t *pd = freelist;
    freelist = pd->link;
    runtime__unlock(&freelock);
    return pd;
}

/* Swaps a wait slot to "ready" (ioready) or to empty; returns the G that
 * was parked there, if any, for the caller to ready. */
static g_t *pd_unblock(_Atomic uintptr_t *slot, bool ioready)
{
    uintptr_t old = atomic_load(slot);
    for (;;) {
        if (old == PD_READY || (old == 0 && !ioready))
            return NULL;
        if (atomic_compare_exchange_weak(slot, &old, ioready ? PD_READY : 0))
            break;
    }
    if (old == 0 || old == PD_WAIT)
        return NULL;
    atomic_fetch_sub(&nwaiters, 1);
    return (g_t *)old;
}

/* Whether the wait for mode must end with an error: EBADF after close,
 * ETIMEDOUT once the deadline passed; 0 otherwise. */
static int pd_checkerr(sched_pollfd_t *pd, int mode)
{
    if (atomic_load(&pd->closing))
        return EBADF;
    if ((mode & SCHED_POLL_R) && atomic_load(&pd->rd) < 0)
        return ETIMEDOUT;
    if ((mode & SCHED_POLL_W) && atomic_load(&pd->wd) < 0)
        return ETIMEDOUT;
    return 0;
}

/* unlockf of a descriptor wait: publish the parked G unless the slot
 * became ready (or was reset) meanwhile. */
static bool pd_commit(g_t *gp, void *arg)
{
    _Atomic uintptr_t *slot = arg;
    uintptr_t w = PD_WAIT;
    atomic_fetch_add(&nwaiters, 1);
    if (atomic_compare_exchange_strong(slot, &w, (uintptr_t)gp))
        return true;
    atomic_fetch_sub(&nwaiters, 1);
    return false;
}

/* G. Waits once on a slot; returns true if woken by readiness. */
static bool pd_block(sched_pollfd_t *pd, _Atomic uintptr_t *slot, int mode)
{
    uintptr_t old = atomic_load(slot);
    for (;;) {
        if (old == PD_READY) {
            atomic_store(slot, 0);
            return true;
        }
        if (old != 0)
            runtime__throw("runtime: double wait");
        if (atomic_compare_exchange_weak(slot, &old, PD_WAIT))
            break;
    }
    if (pd_checkerr(pd, mode) == 0)
        sched__park(pd_commit, slot, "IO wait");
    old = atomic_exchange(slot, 0);
    if (old > PD_WAIT)
        runtime__throw("runtime: corrupted polldesc");
    return old == PD_READY;
}

sched_pollfd_t *sched__poll_open(int fd, int *err)
{
    netpoll_init();
    sched_pollfd_t *pd = pd_alloc();
    runtime__lock(&pd->lock);
    pd->fd = fd;
    uint32_t seq = atomic_load(&pd->fdseq) + 1;
    atomic_store(&pd->fdseq, seq & 0xffff);
    atomic_store(&pd->closing, false);
    atomic_store(&pd->rg, 0);
    atomic_store(&pd->wg, 0);
    atomic_store(&pd->rd, 0);
    atomic_store(&pd->wd, 0);
    pd->rseq++;
    pd->wseq++;
    runtime__unlock(&pd->lock);
    struct epoll_event ev;
    ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
    ev.data.u64 = (uint64_t)(uintptr_t)pd | ((uint64_t)(seq & 0xffff) << PD_TAGSHIFT);
    if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
        *err = errno;
        atomic_store(&pd->closing, true);
        sched__poll_free(pd);
        return NULL;
    }
    return pd;
}

int sched__poll_wait(sched_pollfd_t *pd, int mode)
{
    _Atomic uintptr_t *slot = mode == SCHED_POLL_R ? &pd->rg : &pd->wg;
    int err = pd_checkerr(pd, mode);
    if (err)
        return err;
    while (!pd_block(pd, slot, mode)) {
        err = pd_checkerr(pd, mode);
        if (err)
            return err;
    }
    return 0;
}

int sched__poll_check(sched_pollfd_t *pd, int mode)
{
    return pd_checkerr(pd, mode);
}

/* Re-arms one deadline (pd->lock held); returns a waiter to ready if the
 * deadline has already passed. */
static g_t *pd_setone(sched_pollfd_t *pd, _Atomic int64_t *d, uintptr_t *seq,
                      sched_timer_t *t, _Atomic uintptr_t *slot, int64_t v)
{
    (*seq)++;
    sched__timer_del(t);
    atomic_store(d, v);
    if (v > 0) {
        t->when = v;
        t->period = 0;
        t->seq = *seq;
        sched__timer_add(t);
    }
    return v < 0 ? pd_unblock(slot, false) : NULL;
}

void sched__poll_set_deadline(sched_pollfd_t *pd, int64_t deadline, int mode)
{
    int64_t v = deadline;
    if (v != 0 && v <= runtime__nanotime())
        v = -1;
    g_t *rg = NULL, *wg = NULL;
    runtime__lock(&pd->lock);
    if (atomic_load(&pd->closing)) {
        runtime__unlock(&pd->lock);
        return;
    }
    if (mode & SCHED_POLL_R)
        rg = pd_setone(pd, &pd->rd, &pd->rseq, &pd->rt, &pd->rg, v);
    if (mode & SCHED_POLL_W)
        wg = pd_setone(pd, &pd->wd, &pd->wseq, &pd->wt, &pd->wg, v);
    runtime__unlock(&pd->lock);
    if (rg)
        sched__ready(rg, false);
    if (wg)
        sched__ready(wg, false);
}

/* A deadline timer fired: unless it is stale, mark the deadline passed
 * and wake the waiter. */
static void pd_deadline(sched_pollfd_t *pd, uintptr_t seq, bool read)
{
    runtime__lock(&pd->lock);
    if (seq != (read ? pd->rseq : pd->wseq)) {
        runtime__unlock(&pd->lock);
        return;
    }
    atomic_store(read ? &pd->rd : &pd->wd, -1);
    g_t *gp = pd_unblock(read ? &pd->rg : &pd->wg, false);
    runtime__unlock(&pd->lock);
    if (gp)
        sched__ready(gp, false);
}

/* Timer function of the read deadline. */
static void pd_deadline_r(void *arg, uintptr_t seq)
{
    pd_deadline(arg, seq, true);
}

/* Timer function of the write deadline. */
static void pd_deadline_w(void *arg, uintptr_t seq)
{
    pd_deadline(arg, seq, false);
}

void sched__poll_evict(sched_pollfd_t *pd)
{
    runtime__lock(&pd->lock);
    if (atomic_load(&pd->closing)) {
        runtime__unlock(&pd->lock);
        return;
    }
    atomic_store(&pd->closing, true);
    pd->rseq++;
    pd->wseq++;
    sched__timer_del(&pd->rt);
    sched__timer_del(&pd->wt);
    g_t *rg = pd_unblock(&pd->rg, false);
    g_t *wg = pd_unblock(&pd->wg, false);
    runtime__unlock(&pd->lock);
    if (rg)
        sched__ready(rg, false);
    if (wg)
        sched__ready(wg, false);
}

void sched__poll_deregister(sched_pollfd_t *pd)
{
    struct epoll_event ev = {0};
    (void)epoll_ctl(epfd, EPOLL_CTL_DEL, pd->fd, &ev);
}

void sched__poll_free(sched_pollfd_t *pd)
{
    uintptr_t r = atomic_load(&pd->rg), w = atomic_load(&pd->wg);
    if (r > PD_WAIT || w > PD_WAIT)
        runtime__throw("runtime: blocked read on free polldesc");
    runtime__lock(&pd->lock);
    /* Events of the old registration still in flight no longer match. */
    atomic_store(&pd->fdseq, (atomic_load(&pd->fdseq) + 1) & 0xffff);
    pd->fd = -1;
    runtime__unlock(&pd->lock);
    runtime__lock(&freelock);
    pd->link = freelist;
    freelist = pd;
    runtime__unlock(&freelock);
}

/* ------------------------------------------------------------------ */
/* polling                                                             */
/* ------------------------------------------------------------------ */

bool sched__netpoll_active(void)
{
    return atomic_load_explicit(&inited, memory_order_relaxed) &&
           atomic_load_explicit(&nwaiters, memory_order_relaxed) > 0;
}

void sched__netpoll_break(void)
{
    if (!atomic_load(&inited))
        return;
    uint32_t z = 0;
    if (!atomic_compare_exchange_strong(&wakesig, &z, 1))
        return;
    uint64_t one = 1;
    while (write(breakfd, &one, sizeof one) < 0 && errno == EINTR) {}
}

void sched__netpoll_timer_added(int64_t when)
{
    int64_t until = atomic_load(&polluntil);
    if (until != 0 && when < until)
        sched__netpoll_break();
}

/* Waits up to delay ns (< 0: forever) for events; returns how many. */
static int netpoll_wait(struct epoll_event *ev, int64_t delay)
{
    int n;
    if (delay > 0 && !atomic_load_explicit(&nopwait2, memory_order_relaxed)) {
        struct timespec ts = {delay / 1000000000, delay % 1000000000};
        n = (int)syscall(SYS_epoll_pwait2, epfd, ev, NETPOLL_EVENTS, &ts, NULL, 0);
        if (n >= 0 || errno != ENOSYS)
            return n < 0 ? 0 : n;
        atomic_store(&nopwait2, true);
    }
    int ms = -1;
    if (delay == 0)
        ms = 0;
    else if (delay > 0)
        ms = delay < 1000000 ? 1 : delay >= (int64_t)INT_MAX * 1000000 ? INT_MAX
                                                                       : (int)(delay / 1000000);
    n = epoll_wait(epfd, ev, NETPOLL_EVENTS, ms);
    return n < 0 ? 0 : n;
}

/* Appends gp to the list head..*tail (linked by schedlink). */
static void glist_append(g_t **head, g_t **tail, g_t *gp)
{
    gp->schedlink = NULL;
    if (*tail)
        (*tail)->schedlink = gp;
    else
        *head = gp;
    *tail = gp;
}

/* Turns n events into a list of Gs to ready (linked by schedlink), in
 * the order epoll reported them: the descriptor ready longest is served
 * first. A blocking poll consumes a break; a non-blocking one leaves it
 * for the M that blocks. */
static g_t *netpoll_events(struct epoll_event *ev, int n, bool block)
{
    g_t *list = NULL, *tail = NULL;
    for (int i = 0; i < n; i++) {
        uint64_t d = ev[i].data.u64;
        if (d == 0) {
            if (block) {
                uint64_t v;
                (void)!read(breakfd, &v, sizeof v);
                atomic_store(&wakesig, 0);
            }
            continue;
        }
        sched_pollfd_t *pd = (sched_pollfd_t *)(uintptr_t)(d & PD_PTRMASK);
        if ((uint32_t)(d >> PD_TAGSHIFT) != atomic_load(&pd->fdseq))
            continue;
        uint32_t e = ev[i].events;
        g_t *gp;
        if ((e & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) &&
            (gp = pd_unblock(&pd->rg, true)) != NULL)
            glist_append(&list, &tail, gp);
        if ((e & (EPOLLOUT | EPOLLHUP | EPOLLERR)) &&
            (gp = pd_unblock(&pd->wg, true)) != NULL)
            glist_append(&list, &tail, gp);
    }
    return list;
}

/* Readies every G of a list (on this M's P, or globally without one). */
static void ready_list(g_t *list)
{
    while (list) {
        g_t *gp = list;
        list = gp->schedlink;
        gp->schedlink = NULL;
        sched__ready(gp, false);
    }
}

/* Polls without blocking; returns the Gs made ready. */
static g_t *netpoll_now(void)
{
    struct epoll_event ev[NETPOLL_EVENTS];
    int n = epoll_wait(epfd, ev, NETPOLL_EVENTS, 0);
    return n > 0 ? netpoll_events(ev, n, false) : NULL;
}

g_t *sched__netpoll_check(void)
{
    if (!sched__netpoll_active() || atomic_load(&lastpoll) == 0)
        return NULL;
    g_t *list = netpoll_now();
    if (list == NULL)
        return NULL;
    g_t *gp = list;
    ready_list(gp->schedlink);
    gp->schedlink = NULL;
    atomic_store_explicit(&gp->status, G_RUNNABLE, memory_order_release);
    return gp;
}

bool sched__netpoll_due(int64_t now)
{
    if (!sched__netpoll_active())
        return false;
    int64_t last = atomic_load(&lastpoll);
    return last != 0 && last + NETPOLL_SYSMON_NS <= now;
}

void sched__netpoll_sysmon(int64_t now)
{
    int64_t last = atomic_load(&lastpoll);
    if (last == 0 || !atomic_compare_exchange_strong(&lastpoll, &last, now))
        return;
    ready_list(netpoll_now());
}

/* Blocks in epoll_wait until next (0: no timer) as the one polling M,
 * counted in npollsleep meanwhile; returns the Gs made ready. */
static g_t *netpoll_block(int64_t next)
{
    p_t *tp;
    atomic_store(&polluntil, next ? next : INT64_MAX);
    /* A timer added before the store is seen here; a later one breaks us. */
    int64_t w = sched__timers_next(&tp);
    if (w != 0 && (next == 0 || w < next)) {
        next = w;
        atomic_store(&polluntil, next);
    }
    int64_t delay = -1;
    if (next != 0) {
        delay = next - runtime__nanotime();
        if (delay < 0)
            delay = 0;
    }
    struct epoll_event ev[NETPOLL_EVENTS];
    int n = netpoll_wait(ev, delay);
    runtime__lock(&sched__sched.lock);
    sched__sched.npollsleep--;
    runtime__unlock(&sched__sched.lock);
    atomic_store(&polluntil, 0);
    atomic_store(&lastpoll, runtime__nanotime());
    return netpoll_events(ev, n, true);
}

bool sched__netpoll_idle(int64_t next, g_t **gpp)
{
    *gpp = NULL;
    if (!sched__netpoll_active() || atomic_load(&lastpoll) == 0)
        return false;
    if (atomic_exchange(&lastpoll, 0) == 0)
        return false;
    runtime__lock(&sched__sched.lock);
    if (atomic_load(&sched__sched.gcwaiting) || atomic_load(&sched__sched.exiting)) {
        runtime__unlock(&sched__sched.lock);
        atomic_store(&lastpoll, runtime__nanotime());
        return false;
    }
    sched__sched.npollsleep++;
    runtime__unlock(&sched__sched.lock);
    g_t *list = netpoll_block(next);
    if (atomic_load(&sched__sched.exiting))
        sched__mexit_forever();
    runtime__lock(&sched__sched.lock);
    p_t *p = atomic_load(&sched__sched.gcwaiting) ? NULL : sched__pidleget();
    runtime__unlock(&sched__sched.lock);
    if (p == NULL) {
        ready_list(list);
        sched__stopm();
        return true;
    }
    sched__acquirep(p);
    if (list) {
        /* The first runs on this M at once: no other M is woken for it. */
        g_t *gp = list;
        ready_list(gp->schedlink);
        gp->schedlink = NULL;
        atomic_store_explicit(&gp->status, G_RUNNABLE, memory_order_release);
        *gpp = gp;
    }
    return true;
}

bool sched__netpoll_blocked(void)
{
    return atomic_load_explicit(&inited, memory_order_relaxed) &&
           atomic_load_explicit(&lastpoll, memory_order_relaxed) == 0;
}
