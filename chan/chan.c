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

/* make(chan T, size): header, ring positions and slots in one scanned GC
 * object; each slot is a stamp and the element, 8-byte aligned. */
chan_t *chan_make(size_t elem_size, size_t cap)
{
    if (elem_size >= CHAN_MAX_ELEM)
        runtime__throw("makechan: invalid channel element type");
    size_t mem, slotsize = 8 + ((elem_size + 7) & ~(size_t)7);
    if (__builtin_mul_overflow(elem_size, cap, &mem) ||
        mem > CHAN_MAX_ALLOC - sizeof(chan_t) || cap > (size_t)INT64_MAX)
        go_panic("makechan: size out of range");
    size_t ringmem = 0;
    if (cap && (__builtin_mul_overflow(slotsize, cap, &ringmem) ||
                __builtin_add_overflow(ringmem, sizeof(chan__ring_t) + sizeof(chan_t), &ringmem)))
        go_panic("makechan: size out of range");   /* zero-size elements, cap >= 2^60 */
    chan_t *c = gc_alloc(cap ? ringmem : sizeof(chan_t));
    c->elemsize = (uint32_t)elem_size;
    c->dataqsiz = cap;
    if (cap) {
        c->slotsize = (uint32_t)slotsize;
        c->onelap = (uint64_t)1 << (64 - __builtin_clzll((unsigned long long)cap));
        for (size_t i = 0; i < cap; i++)
            atomic_store_explicit(chan__stamp(chan__slot(c, i)), i, memory_order_relaxed);
    }
    return c;
}

/* len(c): elements in the ring (a racy snapshot, as in Go). */
size_t chan_len(chan_t *c)
{
    return c && c->dataqsiz ? chan__ring_count(c) : 0;
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
    } else if (!chan__ring_get_locked(c, ep) || !chan__ring_put_locked(c, sg->elem)) {
        /* A sender waits only on a full ring, frozen by the wait flags. */
        runtime__throw("chanrecv: sender waits on a ring that is not full");
    }
    g_t *gp = sg->g;
    gp->param = sg;
    sg->success = true;
    return gp;
}

/* Waits out a slot in transit: pause-spins, then yields the thread (the
 * other side may be a thread the kernel descheduled). */
static void ring_spin(uint32_t *i)
{
    if ((*i)++ < CHAN_LOCK_SPINS)
        __builtin_ia32_pause();
    else
        sched_yield();
}

bool chan__ring_put_locked(chan_t *c, const void *ep)
{
    for (uint32_t i = 0;; ring_spin(&i)) {
        int r = chan__ring_put(c, ep, 0);
        if (r != CHAN_RING_BUSY)
            return r == CHAN_RING_OK;
    }
}

bool chan__ring_get_locked(chan_t *c, void *ep)
{
    for (uint32_t i = 0;; ring_spin(&i)) {
        int r = chan__ring_get(c, ep, 0);
        if (r != CHAN_RING_BUSY)
            return r == CHAN_RING_OK;
    }
}

void chan__ring_sync(chan_t *c)
{
    if (c->dataqsiz == 0)
        return;
    chan__ring_t *r = chan__ring(c);
    uint64_t tw = (c->recvq.first ? CHAN_TAIL_RWAIT : 0) | (c->sendq.first ? CHAN_TAIL_SWAIT : 0) |
                  (c->closed ? CHAN_TAIL_CLOSED : 0);
    uint64_t hw = c->sendq.first ? CHAN_HEAD_SWAIT : 0;
    uint64_t tf = atomic_load_explicit(&r->tail, memory_order_relaxed) & CHAN_FLAGS;
    if (tf & ~tw)
        atomic_fetch_and(&r->tail, ~(tf & ~tw));
    if (tw & ~tf)
        atomic_fetch_or(&r->tail, tw & ~tf);
    uint64_t hf = atomic_load_explicit(&r->head, memory_order_relaxed) & CHAN_FLAGS;
    if (hf & ~hw)
        atomic_fetch_and(&r->head, ~(hf & ~hw));
    if (hw & ~hf)
        atomic_fetch_or(&r->head, hw & ~hf);
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

/* Parks the caller on q with a sudog for ep (c locked, flags already
 * set); returns whether a peer completed the operation (false: closed). */
static bool wait_on(chan_t *c, chan__waitq_t *q, void *ep, const char *reason)
{
    g_t *gp = sched__needg(reason);
    sudog_t mysg = {.g = gp, .elem = ep, .c = c};
    gp->param = NULL;
    chan__waitq_enqueue(q, &mysg);
    chan__parkunlock(c, reason);
    gp->param = NULL;
    return __atomic_load_n(&mysg.success, __ATOMIC_ACQUIRE);
}

/* The locked path of a send (c locked): a waiting receiver, the ring, or
 * park. Also a nil channel (c == NULL, nothing locked). */
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
    sudog_t *sg = chan__waitq_dequeue(&c->recvq);
    if (sg) {
        g_t *gp = chan__sendto(c, sg, ep);
        chan__ring_sync(c);
        chan__unlock(c);
        sched__ready(gp, true);
        return true;
    }
    if (c->dataqsiz) {
        bool done = chan__ring_put_locked(c, ep);
        if (!done && block) {
            /* Freeze the ring (no lock-free send or receive from now on),
             * then look again: a receiver may have made room before. */
            chan__ring_flag(c, CHAN_TAIL_SWAIT, CHAN_HEAD_SWAIT);
            done = chan__ring_put_locked(c, ep);
        }
        if (done || !block) {
            chan__ring_sync(c);
            chan__unlock(c);
            return done;
        }
    } else if (!block) {
        chan__unlock(c);
        return false;
    }
    if (!wait_on(c, &c->sendq, (void *)ep, WAIT_CHAN_SEND)) {
        if (!c->closed)
            runtime__throw("chansend: spurious wakeup");
        go_panic("send on closed channel");
    }
    return true;
}

/* The calling thread's M is inside a lock-free channel operation: counted
 * in m->locks like the lock, so it is not preempted while it owns a slot
 * (a large element's copy calls out of the runtime). */
static inline m_t *ring_enter(void)
{
    m_t *m = sched__getm();
    if (likely(m != NULL))
        m->locks++;
    else
        chan__foreign();
    return m;
}

/* Ends what ring_enter began. */
static inline void ring_leave(m_t *m)
{
    if (likely(m != NULL))
        m->locks--;
}

/* Go's chansend: the fast paths, inlined into each caller (so a blocking
 * send drops the non-blocking tests); waiters, parking and panics in
 * send_slow. A buffered send that finds room and nobody waiting takes no
 * lock. */
static inline __attribute__((always_inline)) bool send_fast(chan_t *c, const void *ep, bool block)
{
    if (unlikely(c == NULL))
        return send_slow(c, ep, block);
    if (likely(c->dataqsiz)) {
        m_t *m = ring_enter();
        int r = chan__ring_put(c, ep, CHAN_FLAGS);
        ring_leave(m);
        if (likely(r == CHAN_RING_OK))
            return true;
        /* Full, open and nobody waiting when looked at: a non-blocking
         * send fails without the lock. */
        if (r == CHAN_RING_NONE && !block)
            return false;
    } else if (!block && !__atomic_load_n(&c->closed, __ATOMIC_RELAXED) &&
               __atomic_load_n(&c->recvq.first, __ATOMIC_RELAXED) == NULL) {
        /* Closed is read first, as in Go: closed cannot revert to open. */
        return false;
    }
    chan__lock(c);
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

/* Closed and drained: the zero value and ok = false. */
static inline bool recv_closed(chan_t *c, void *ep, bool *ok)
{
    if (ep && c->elemsize)
        gc_memclr(ep, c->elemsize);
    *ok = false;
    return true;
}

/* The locked path of a receive (c locked): a waiting sender, the ring,
 * closed, or park. Also a nil channel (c == NULL, nothing locked). */
static GORT_NOINLINE bool recv_slow(chan_t *c, void *ep, bool block, bool *ok)
{
    *ok = false;
    if (c == NULL) {
        if (!block)
            return false;
        chan__block(WAIT_CHAN_RECV_NIL);
    }
    sudog_t *sg = chan__waitq_dequeue(&c->sendq);
    if (sg) {
        g_t *gp = chan__recvfrom(c, sg, ep);
        chan__ring_sync(c);
        chan__unlock(c);
        sched__ready(gp, true);
        *ok = true;
        return true;
    }
    bool done = false;
    if (c->dataqsiz) {
        done = chan__ring_get_locked(c, ep);
        if (!done && block && !c->closed) {
            /* Stop lock-free sends, then look again: one may have put a
             * value in before. */
            chan__ring_flag(c, CHAN_TAIL_RWAIT, 0);
            done = chan__ring_get_locked(c, ep);
        }
        if (done || c->closed || !block)
            chan__ring_sync(c);     /* (a waiter keeps the flag it set) */
    }
    if (done || c->closed || !block) {
        chan__unlock(c);
        if (done)
            *ok = true;
        else if (c->closed)
            recv_closed(c, ep, ok);
        return done || c->closed;
    }
    *ok = wait_on(c, &c->recvq, ep, WAIT_CHAN_RECV);
    return true;
}

/* Go's chanrecv: the fast paths, inlined into each caller; waiters,
 * parking and closed in recv_slow. A buffered receive that finds a value
 * and no sender waiting takes no lock. */
static inline __attribute__((always_inline)) bool recv_fast(chan_t *c, void *ep, bool block, bool *ok)
{
    if (unlikely(c == NULL))
        return recv_slow(c, ep, block, ok);
    if (likely(c->dataqsiz)) {
        m_t *m = ring_enter();
        int r = chan__ring_get(c, ep, CHAN_FLAGS);
        ring_leave(m);
        if (likely(r == CHAN_RING_OK)) {
            *ok = true;
            return true;
        }
        /* Empty and no sender waiting when looked at; if closed after
         * that, it was empty when closed (no value comes in after close). */
        if (r == CHAN_RING_NONE && !block) {
            if (!__atomic_load_n(&c->closed, __ATOMIC_ACQUIRE)) {
                *ok = false;
                return false;
            }
            if (chan__ring_count(c) == 0)
                return recv_closed(c, ep, ok);
        }
    } else if (!block && __atomic_load_n(&c->sendq.first, __ATOMIC_RELAXED) == NULL) {
        if (!__atomic_load_n(&c->closed, __ATOMIC_ACQUIRE)) {
            *ok = false;
            return false;
        }
        if (__atomic_load_n(&c->sendq.first, __ATOMIC_RELAXED) == NULL)
            return recv_closed(c, ep, ok);
    }
    chan__lock(c);
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
    chan__ring_sync(c);
    chan__unlock(c);
    while (list) {
        g_t *gp = list;
        list = gp->schedlink;
        gp->schedlink = NULL;
        sched__ready(gp, true);
    }
}
