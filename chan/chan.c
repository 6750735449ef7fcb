/*
 * chan/chan.c -- make, send, receive, close, len and cap of channels.
 *
 * Owns: the channel operations outside select (Go's runtime/chan.go),
 * and the one-case non-blocking forms chan_try_send/chan_try_recv.
 * May call: gc_alloc and the bulk barriers (gc_memmove, gc_memclr),
 * go_panic/throw, and sched__park/parkunlock/ready/needg.
 *
 * Invariants: see chan/internal.h. In addition:
 *  - c->lock (chan__lock) blocks the M, never parks the G; a goroutine
 *    parks on a channel only through chan__parkunlock, which drops the
 *    lock after the switch, so no wake-up can be lost.
 *  - A waiting goroutine is readied only after every channel lock is
 *    released, and always with next = true (it runs next on this P).
 *  - Every element copy goes through the bulk barrier (chan__copy, whose
 *    marking-off case for small elements is inline), including the direct copy
 *    into a waiting goroutine's stack: that stack may already have been
 *    scanned in this GC cycle, and it is never rescanned.
 */
#include <sched.h>
#include <string.h>

#include "internal.h"

/* Contended channel lock: pause-spins before yielding the thread. */
#define CHAN_LOCK_SPINS 64

/* ------------------------------------------------------------------ */
/* creation, len, cap                                                  */
/* ------------------------------------------------------------------ */

/* make(chan T, size): header and ring in one scanned GC object. */
chan_t *chan_make(size_t elem_size, size_t cap)
{
    if (elem_size >= CHAN_MAX_ELEM)
        runtime__throw("makechan: invalid channel element type");
    size_t mem;
    if (__builtin_mul_overflow(elem_size, cap, &mem) ||
        mem > CHAN_MAX_ALLOC - sizeof(chan_t) || cap > (size_t)INT64_MAX)
        go_panic("makechan: size out of range");
    chan_t *c = gc_alloc(sizeof(chan_t) + mem);
    c->elemsize = (uint32_t)elem_size;
    c->dataqsiz = cap;
    return c;
}

/* len(c): elements in the ring (a racy snapshot, as in Go). */
size_t chan_len(chan_t *c)
{
    return c ? chan__load(&c->qcount) : 0;
}

/* cap(c). */
size_t chan_cap(chan_t *c)
{
    return c ? c->dataqsiz : 0;
}

/* ------------------------------------------------------------------ */
/* the lock                                                            */
/* ------------------------------------------------------------------ */

/* Contended acquire: spin with pause while the holder (running on another
 * M, for a few dozen ns) finishes, then yield the thread between tries so
 * a holder the kernel descheduled can run. */
void chan__lock_slow(chan_t *c)
{
    for (uint32_t i = 0;; i++) {
        if (__atomic_load_n(&c->lock.key, __ATOMIC_RELAXED) == 0 &&
            __atomic_exchange_n(&c->lock.key, 1, __ATOMIC_ACQUIRE) == 0)
            return;
        if (i < CHAN_LOCK_SPINS)
            __builtin_ia32_pause();
        else
            sched_yield();
    }
}

/* unlockf: releases the channel lock once the G is switched out. */
static bool chan_unlockf(g_t *gp, void *arg)
{
    (void)gp;
    chan__unlock(arg);
    return true;
}

/* Parks with reason; c's lock is released after the switch. */
void chan__parkunlock(chan_t *c, const char *reason)
{
    sched__park(chan_unlockf, c, reason);
}

void chan__foreign(void)
{
    if (!atomic_load_explicit(&sched__sched.nforeign, memory_order_relaxed))
        atomic_store(&sched__sched.nforeign, 1);
}

/* ------------------------------------------------------------------ */
/* element moves (c->lock held)                                        */
/* ------------------------------------------------------------------ */

/* Hands *ep to the dequeued receiver sg (c locked); returns its G. */
g_t *chan__sendto(chan_t *c, sudog_t *sg, const void *ep)
{
    if (sg->elem && c->elemsize)
        chan__copy(sg->elem, ep, c->elemsize);
    g_t *gp = sg->g;
    gp->param = sg;
    sg->success = true;
    return gp;
}

/* Takes a value for ep from the dequeued sender sg (c locked); returns
 * its G. */
g_t *chan__recvfrom(chan_t *c, sudog_t *sg, void *ep)
{
    if (c->dataqsiz == 0) {
        if (ep && c->elemsize)
            chan__copy(ep, sg->elem, c->elemsize);
    } else {
        /* The ring is full: take its head, the sender's value becomes the
         * tail (same slot, since sendx == recvx when full). */
        char *slot = chan__buf(c, c->recvx);
        if (c->elemsize) {
            if (ep)
                chan__copy(ep, slot, c->elemsize);
            chan__copy(slot, sg->elem, c->elemsize);
        }
        if (++c->recvx == c->dataqsiz)
            c->recvx = 0;
        c->sendx = c->recvx;
    }
    g_t *gp = sg->g;
    gp->param = sg;
    sg->success = true;
    return gp;
}

/* Parks the calling goroutine forever (nil channel, empty select). */
_Noreturn void chan__block(const char *reason)
{
    sched__needg(reason);
    sched__park(NULL, NULL, reason);
    runtime__throw("unreachable");
}

/* ------------------------------------------------------------------ */
/* send                                                                */
/* ------------------------------------------------------------------ */

/* Slow path: nil channel, closed channel, or the caller must park. */
static GORT_NOINLINE bool send_slow(chan_t *c, const void *ep, bool block)
{
    if (c == NULL) {
        if (!block)
            return false;
        chan__block(WAIT_CHAN_SEND_NIL);
    }
    if (c->closed) {
        chan__unlock(c);
        go_panic("send on closed channel");
    }
    if (!block) {
        chan__unlock(c);
        return false;
    }
    g_t *gp = sched__needg(WAIT_CHAN_SEND);
    sudog_t mysg = {.g = gp, .elem = (void *)ep, .c = c};
    gp->param = NULL;
    chan__waitq_enqueue(&c->sendq, &mysg);
    chan__parkunlock(c, WAIT_CHAN_SEND);
    gp->param = NULL;
    if (!__atomic_load_n(&mysg.success, __ATOMIC_ACQUIRE)) {
        if (!c->closed)
            runtime__throw("chansend: spurious wakeup");
        go_panic("send on closed channel");
    }
    return true;
}

/* Go's chansend: the fast paths, inlined into each caller (so a blocking
 * send drops the non-blocking tests); parking and panics in send_slow. */
static inline __attribute__((always_inline)) bool send_fast(chan_t *c, const void *ep, bool block)
{
    if (unlikely(c == NULL))
        return send_slow(c, ep, block);
    /* Non-blocking on a full, open channel: fail without the lock. The
     * closed check comes first, as in Go: closed cannot revert to open. */
    if (!block && !__atomic_load_n(&c->closed, __ATOMIC_RELAXED) &&
        (c->dataqsiz == 0 ? __atomic_load_n(&c->recvq.first, __ATOMIC_RELAXED) == NULL
                          : chan__load(&c->qcount) == c->dataqsiz))
        return false;

    chan__lock(c);
    if (likely(!c->closed)) {
        sudog_t *sg = chan__waitq_dequeue(&c->recvq);
        if (sg) {
            g_t *gp = chan__sendto(c, sg, ep);
            chan__unlock(c);
            sched__ready(gp, true);
            return true;
        }
        if (c->qcount < c->dataqsiz) {
            chan__bufput(c, ep);
            chan__unlock(c);
            return true;
        }
    }
    return send_slow(c, ep, block);
}

/* Non-blocking or blocking send (for select and chan_try_send). */
bool chan__send(chan_t *c, const void *ep, bool block)
{
    return send_fast(c, ep, block);
}

/* c <- *elem. */
void chan_send(chan_t *c, const void *elem)
{
    send_fast(c, elem, true);
}

/* ------------------------------------------------------------------ */
/* receive                                                             */
/* ------------------------------------------------------------------ */

/* Slow path: nil channel, or the caller must park. c->lock held if c. */
static GORT_NOINLINE bool recv_slow(chan_t *c, void *ep, bool block, bool *ok)
{
    *ok = false;
    if (c == NULL) {
        if (!block)
            return false;
        chan__block(WAIT_CHAN_RECV_NIL);
    }
    if (!block) {
        chan__unlock(c);
        return false;
    }
    g_t *gp = sched__needg(WAIT_CHAN_RECV);
    sudog_t mysg = {.g = gp, .elem = ep, .c = c};
    gp->param = NULL;
    chan__waitq_enqueue(&c->recvq, &mysg);
    chan__parkunlock(c, WAIT_CHAN_RECV);
    gp->param = NULL;
    *ok = __atomic_load_n(&mysg.success, __ATOMIC_ACQUIRE);
    return true;
}

/* Go's chanrecv: the fast paths, inlined into each caller; parking in
 * recv_slow. */
static inline __attribute__((always_inline)) bool recv_fast(chan_t *c, void *ep, bool block, bool *ok)
{
    if (unlikely(c == NULL))
        return recv_slow(c, ep, block, ok);
    /* Non-blocking on an empty channel: decide without the lock. Empty is
     * read before closed; if it was empty and then found closed, it was
     * empty when closed (a closed channel gets no new elements). */
    if (!block && (c->dataqsiz == 0
                       ? __atomic_load_n(&c->sendq.first, __ATOMIC_RELAXED) == NULL
                       : chan__load(&c->qcount) == 0)) {
        if (!__atomic_load_n(&c->closed, __ATOMIC_ACQUIRE))
            return false;
        if (c->dataqsiz == 0
                ? __atomic_load_n(&c->sendq.first, __ATOMIC_RELAXED) == NULL
                : chan__load(&c->qcount) == 0) {
            if (ep && c->elemsize)
                gc_memclr(ep, c->elemsize);
            *ok = false;
            return true;
        }
    }

    chan__lock(c);
    sudog_t *sg = chan__waitq_dequeue(&c->sendq);
    if (sg) {
        g_t *gp = chan__recvfrom(c, sg, ep);
        chan__unlock(c);
        sched__ready(gp, true);
        *ok = true;
        return true;
    }
    if (c->qcount > 0) {
        chan__bufget(c, ep);
        chan__unlock(c);
        *ok = true;
        return true;
    }
    if (c->closed) {
        chan__unlock(c);
        if (ep && c->elemsize)
            gc_memclr(ep, c->elemsize);
        *ok = false;
        return true;
    }
    return recv_slow(c, ep, block, ok);
}

/* Receive for select and chan_try_recv. */
bool chan__recv(chan_t *c, void *ep, bool block, bool *ok)
{
    return recv_fast(c, ep, block, ok);
}

/* *elem = <-c. */
void chan_recv(chan_t *c, void *elem)
{
    bool ok;
    recv_fast(c, elem, true, &ok);
}

/* v, ok := <-c. */
bool chan_recv2(chan_t *c, void *elem)
{
    bool ok;
    recv_fast(c, elem, true, &ok);
    return ok;
}

/* ------------------------------------------------------------------ */
/* non-blocking forms                                                  */
/* ------------------------------------------------------------------ */

/* select { case c <- *elem: default: }: false when the send would block;
 * a closed channel panics "send on closed channel", as Go's select. */
bool chan_try_send(chan_t *c, const void *elem)
{
    return chan__send(c, elem, false);
}

/* select { case v, ok := <-c: default: }: false when the receive would
 * block; otherwise *ok (ok may be NULL) is false for closed and drained. */
bool chan_try_recv(chan_t *c, void *elem, bool *ok)
{
    bool got;
    bool done = chan__recv(c, elem, false, &got);
    if (ok && done)
        *ok = got;
    return done;
}

/* ------------------------------------------------------------------ */
/* close                                                               */
/* ------------------------------------------------------------------ */

/* close(c): wakes every waiter; receivers get the zero value and false,
 * senders panic when they resume. */
void chan_close(chan_t *c)
{
    if (c == NULL)
        go_panic("close of nil channel");
    chan__lock(c);
    if (c->closed) {
        chan__unlock(c);
        go_panic("close of closed channel");
    }
    __atomic_store_n(&c->closed, 1, __ATOMIC_RELEASE);

    /* Collect the waiters through g->schedlink (unused while parked) and
     * ready them after the unlock. */
    g_t *list = NULL;
    sudog_t *sg;
    while ((sg = chan__waitq_dequeue(&c->recvq)) != NULL) {
        if (sg->elem && c->elemsize)
            gc_memclr(sg->elem, c->elemsize);
        sg->elem = NULL;
        g_t *gp = sg->g;
        gp->param = sg;
        sg->success = false;
        gp->schedlink = list;
        list = gp;
    }
    while ((sg = chan__waitq_dequeue(&c->sendq)) != NULL) {
        sg->elem = NULL;
        g_t *gp = sg->g;
        gp->param = sg;
        sg->success = false;
        gp->schedlink = list;
        list = gp;
    }
    chan__unlock(c);
    while (list) {
        g_t *gp = list;
        list = gp->schedlink;
        gp->schedlink = NULL;
        sched__ready(gp, true);
    }
}
