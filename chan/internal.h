/*
 * chan/internal.h -- channels' private structures: hchan, sudog, wait queues.
 *
 * Owns: the layout of a channel (struct chan), the sudog that represents a
 * goroutine waiting on a channel, and the FIFO wait queues of sudogs.
 * Used by chan/chan.c (send, receive, close), chan/select.c (select),
 * chan/time.c (timer channels) and chan/context.c (context, whose test
 * accessor is declared at the end).
 *
 * Owns also the channel lock (chan__lock: an M-level spin lock counted in
 * m->locks; see docs/channels.md).
 *
 * May call: go_panic/throw, gc_alloc/gc_memmove/gc_memclr (and read
 * gc__wb_enabled, the barrier's marking test), and the
 * scheduler's park/ready (sched/internal.h).
 *
 * Invariants (all under c->lock, except the lock-free reads marked below):
 *  - A buffered channel's ring is a bounded lock-free MPMC queue (per-slot
 *    stamps): sends and receives that find neither a waiter nor a full /
 *    empty ring take no lock. Flags in its tail and head words, changed
 *    only under the lock, send them to the locked path while a queue of
 *    waiters is not empty or the channel is closed (chan__ring_t).
 *  - recvq holds live sudogs only while the buffer is empty, sendq only
 *    while it is full (for dataqsiz == 0: always "full"); a select's sudog
 *    whose select was already won elsewhere may linger until its goroutine
 *    relocks the channel, and every dequeue skips it.
 *  - A closed channel has an empty sendq and an empty recvq.
 *  - A sudog lives on the stack of the goroutine it represents (or in
 *    memory that goroutine owns) for exactly as long as it is queued, so a
 *    waker may use a dequeued sudog only until it readies its goroutine.
 *  - Sudogs are never in the GC heap, so the queue links need no write
 *    barrier; element copies always go through the bulk barrier
 *    (chan__copy, gc_memmove, gc_memclr).
 */
#ifndef GORT_CHAN_INTERNAL_H
#define GORT_CHAN_INTERNAL_H

#include "../gc/internal.h"

/* Largest element, as Go (1<<16 is a compile error there). */
#define CHAN_MAX_ELEM   ((size_t)1 << 16)
/* Go's maxAlloc on linux/amd64 (1<<48): a larger buffer panics "makechan:
 * size out of range"; a smaller one the heap cannot back is a fatal out of
 * memory from the allocator, as in Go. */
#define CHAN_MAX_ALLOC  ((size_t)1 << 48)

/* Wait reasons, Go's exact strings. */
#define WAIT_CHAN_RECV      "chan receive"
#define WAIT_CHAN_SEND      "chan send"
#define WAIT_SELECT         "select"
#define WAIT_SELECT_NOCASES "select (no cases)"
#define WAIT_CHAN_RECV_NIL  "chan receive (nil chan)"
#define WAIT_CHAN_SEND_NIL  "chan send (nil chan)"

/* A goroutine waiting on one channel (one per case for select). */
typedef struct sudog {
    g_t *g;
    struct sudog *next, *prev;     /* links in the channel's wait queue */
    void *elem;                    /* value to send / where to receive; may be NULL */
    chan_t *c;
    bool isselect;                 /* part of a select: claim g->selectdone */
    bool success;                  /* woken by a completed operation (not by close) */
    uint8_t gone;                  /* a losing select sudog already unlinked
                                    * (atomic; the unlinker's last write) */
} sudog_t;

typedef struct {
    sudog_t *first, *last;
} chan__waitq_t;

/* The channel (Go's hchan). A buffered channel's ring state (chan__ring_t)
 * and then its slots follow the header in the same GC object. */
struct chan {
    size_t dataqsiz;               /* capacity */
    uint64_t onelap;               /* ring: a power of two > dataqsiz, the lap unit */
    uint32_t elemsize;
    uint32_t slotsize;             /* ring: bytes per slot, stamp and element */
    uint32_t closed;               /* lock-free reads */
    runtime_lock_t lock;
    chan__waitq_t recvq, sendq;
    void *owner;                   /* time.Timer/Ticker owning this channel, or NULL */
};

/* A buffered channel's ring positions, each on a cache line of its own
 * (senders write tail, receivers head). A position is lap * onelap + index;
 * the word holds position << CHAN_POS_SHIFT | flags. The flags change only under the
 * channel lock and make the lock-free operations take the locked path:
 *  - CHAN_TAIL_RWAIT: receivers wait (recvq not empty), so a send must
 *    hand its value to the first of them;
 *  - CHAN_TAIL_SWAIT / CHAN_HEAD_SWAIT: senders wait (sendq not empty),
 *    so a send must queue behind them and a receive must move the first
 *    one's value into the ring;
 *  - CHAN_TAIL_CLOSED: closed, a send panics.
 * Each slot starts with a stamp: the position it is free for (pos), or
 * pos + 1 once the element for pos is in it; a receiver frees it for the
 * next lap (pos + onelap). */
typedef struct {
    char pad0[64];
    _Atomic uint64_t tail;
    char pad1[56];
    _Atomic uint64_t head;
    char pad2[56];
} chan__ring_t;

#define CHAN_TAIL_RWAIT  ((uint64_t)1)
#define CHAN_TAIL_SWAIT  ((uint64_t)2)
#define CHAN_TAIL_CLOSED ((uint64_t)4)
#define CHAN_HEAD_SWAIT  ((uint64_t)1)
#define CHAN_POS_SHIFT   3
#define CHAN_FLAGS       (((uint64_t)1 << CHAN_POS_SHIFT) - 1)
/* ------------------------------------------------------------------ */
/* the channel lock                                                    */
/* ------------------------------------------------------------------ */

/* A thread that is not a goroutine touched a channel: from now on it may
 * wake goroutines, so the deadlock detector must not give up on them. */
GORT_HIDDEN void chan__foreign(void);

GORT_HIDDEN void chan__lock_slow(chan_t *c);
/* Takes c's lock: one exchange when free; spins, then yields, if not.
 * Counts in m->locks like a runtime lock, so the M is never preempted
 * while it holds one (a runtime call through a PLT stub runs at an
 * address the preemption signal treats as user code). */
static inline void chan__lock(chan_t *c)
{
    m_t *m = sched__getm();
    if (likely(m != NULL))
        m->locks++;
    else
        chan__foreign();
    if (likely(__atomic_exchange_n(&c->lock.key, 1, __ATOMIC_ACQUIRE) == 0))
        return;
    chan__lock_slow(c);
}
/* Takes c's lock if it is free; never waits. */
static inline bool chan__trylock(chan_t *c)
{
    if (__atomic_exchange_n(&c->lock.key, 1, __ATOMIC_ACQUIRE) != 0)
        return false;
    m_t *m = sched__getm();
    if (likely(m != NULL))
        m->locks++;
    else
        chan__foreign();
    return true;
}
/* Releases c's lock: a plain release store (nobody sleeps on it). */
static inline void chan__unlock(chan_t *c)
{
    __atomic_store_n(&c->lock.key, 0, __ATOMIC_RELEASE);
    m_t *m = sched__getm();
    if (m)
        m->locks--;
}

/* G. Parks the caller with reason; c's lock is released once switched out. */
GORT_HIDDEN void chan__parkunlock(chan_t *c, const char *reason);

/* Copies an element of n bytes from src to dst through the bulk barrier.
 * While no mark runs, a word-sized element is one load and one store: the
 * barrier's marking-off test inlined, no call. */
static inline void chan__copy(void *dst, const void *src, size_t n)
{
    if (likely(!gc__wb_enabled)) {
        if (likely(n == 8)) {
            uint64_t v;
            __builtin_memcpy(&v, src, 8);
            __builtin_memcpy(dst, &v, 8);
            return;
        }
        if (n == 4) {
            uint32_t v;
            __builtin_memcpy(&v, src, 4);
            __builtin_memcpy(dst, &v, 4);
            return;
        }
        if (n == 16) {
            uint64_t v[2];
            __builtin_memcpy(v, src, 16);
            __builtin_memcpy(dst, v, 16);
            return;
        }
    }
    gc_memmove(dst, src, n);
}

/* Zeroes n bytes at p without a barrier: for a slot whose old words were
 * just shaded (a chan__copy read them while marking), so the deletion
 * barrier is done; while no mark runs no barrier is due. */
static inline void chan__zero_shaded(char *p, size_t n)
{
    if (likely(n == 8))
        __builtin_memset(p, 0, 8);
    else
        __builtin_memset(p, 0, n);
}

/* The ring state of buffered channel c. */
static inline chan__ring_t *chan__ring(chan_t *c)
{
    return (chan__ring_t *)(c + 1);
}

/* The slot for position pos: its stamp, then the element. */
static inline char *chan__slot(chan_t *c, uint64_t pos)
{
    return (char *)(chan__ring(c) + 1) + (size_t)(pos & (c->onelap - 1)) * c->slotsize;
}

/* The stamp of a slot. */
static inline _Atomic uint64_t *chan__stamp(char *slot)
{
    return (_Atomic uint64_t *)(void *)slot;
}

/* The position after pos (index 0 of the next lap after the last index). */
static inline uint64_t chan__next(const chan_t *c, uint64_t pos)
{
    uint64_t lap = pos & ~(c->onelap - 1);
    return pos - lap + 1 < c->dataqsiz ? pos + 1 : lap + c->onelap;
}

/* Outcomes of a ring operation. */
enum {
    CHAN_RING_OK,      /* done */
    CHAN_RING_NONE,    /* the ring was full (put) or empty (get) */
    CHAN_RING_BUSY     /* a refused flag, or a slot in transit: retry or lock */
};

/* Appends *ep to c's ring without the lock, unless the tail word has one
 * of the refuse flags. A sender owns the slot once its CAS advances the
 * tail; the release store of the stamp publishes the element. */
static inline __attribute__((always_inline)) int chan__ring_put(chan_t *c, const void *ep, uint64_t refuse)
{
    chan__ring_t *r = chan__ring(c);
    uint64_t t = atomic_load_explicit(&r->tail, memory_order_acquire);
    for (;;) {
        if (t & refuse)
            return CHAN_RING_BUSY;
        uint64_t pos = t >> CHAN_POS_SHIFT;
        char *slot = chan__slot(c, pos);
        uint64_t st = atomic_load_explicit(chan__stamp(slot), memory_order_acquire);
        if (likely(st == pos)) {
            uint64_t nt = chan__next(c, pos) << CHAN_POS_SHIFT | (t & CHAN_FLAGS);
            if (likely(atomic_compare_exchange_weak_explicit(&r->tail, &t, nt, memory_order_acquire,
                                                             memory_order_acquire))) {
                if (likely(c->elemsize))
                    chan__copy(slot + 8, ep, c->elemsize);
                atomic_store_explicit(chan__stamp(slot), pos + 1, memory_order_release);
                return CHAN_RING_OK;
            }
            continue;
        }
        if (st + c->onelap == pos + 1) {
            /* The previous lap's element is still there: full, unless a
             * receiver has taken it and is still copying it out. */
            uint64_t h = atomic_load_explicit(&r->head, memory_order_acquire) >> CHAN_POS_SHIFT;
            return h + c->onelap == pos ? CHAN_RING_NONE : CHAN_RING_BUSY;
        }
        t = atomic_load_explicit(&r->tail, memory_order_acquire);   /* another sender took pos */
    }
}

/* Takes the head of c's ring into ep (NULL: drops it) without the lock,
 * unless the head word has one of the refuse flags. The slot is cleared
 * (so the ring does not keep the value alive) and freed for the next lap
 * by the release store of its stamp. */
static inline __attribute__((always_inline)) int chan__ring_get(chan_t *c, void *ep, uint64_t refuse)
{
    chan__ring_t *r = chan__ring(c);
    uint64_t h = atomic_load_explicit(&r->head, memory_order_acquire);
    for (;;) {
        if (h & refuse)
            return CHAN_RING_BUSY;
        uint64_t pos = h >> CHAN_POS_SHIFT;
        char *slot = chan__slot(c, pos);
        uint64_t st = atomic_load_explicit(chan__stamp(slot), memory_order_acquire);
        if (likely(st == pos + 1)) {
            uint64_t nh = chan__next(c, pos) << CHAN_POS_SHIFT | (h & CHAN_FLAGS);
            if (likely(atomic_compare_exchange_weak_explicit(&r->head, &h, nh, memory_order_acquire,
                                                             memory_order_acquire))) {
                if (likely(c->elemsize)) {
                    if (likely(ep != NULL)) {
                        chan__copy(ep, slot + 8, c->elemsize);
                        chan__zero_shaded(slot + 8, c->elemsize);
                    } else {
                        gc_memclr(slot + 8, c->elemsize);
                    }
                }
                atomic_store_explicit(chan__stamp(slot), pos + c->onelap, memory_order_release);
                return CHAN_RING_OK;
            }
            continue;
        }
        if (st == pos) {
            /* Nothing written for pos: empty, unless a sender has taken
             * pos and is still copying its value in. */
            uint64_t t = atomic_load_explicit(&r->tail, memory_order_acquire) >> CHAN_POS_SHIFT;
            return t == pos ? CHAN_RING_NONE : CHAN_RING_BUSY;
        }
        h = atomic_load_explicit(&r->head, memory_order_acquire);   /* another receiver took pos */
    }
}

/* Elements in c's ring (a racy snapshot, as Go's len). */
static inline size_t chan__ring_count(chan_t *c)
{
    chan__ring_t *r = chan__ring(c);
    uint64_t t, h;
    do {
        t = atomic_load_explicit(&r->tail, memory_order_acquire);
        h = atomic_load_explicit(&r->head, memory_order_acquire);
    } while (atomic_load_explicit(&r->tail, memory_order_acquire) != t);
    t >>= CHAN_POS_SHIFT;
    h >>= CHAN_POS_SHIFT;
    uint64_t m = c->onelap - 1, hix = h & m, tix = t & m;
    if (hix < tix)
        return (size_t)(tix - hix);
    if (hix > tix)
        return (size_t)(c->dataqsiz - hix + tix);
    return t == h ? 0 : c->dataqsiz;
}

/* c locked: the ring operations ignoring the flags, waiting out a slot in
 * transit (a lock-free operation a few instructions from its end). They
 * return false when the ring is full / empty. */
GORT_HIDDEN bool chan__ring_put_locked(chan_t *c, const void *ep);
GORT_HIDDEN bool chan__ring_get_locked(chan_t *c, void *ep);
/* c locked, buffered: sets flags in the tail and head words, before the
 * final look that decides to wait (the lock-free operations take the
 * locked path from then on, so none can slip in unseen). */
static inline void chan__ring_flag(chan_t *c, uint64_t tailf, uint64_t headf)
{
    chan__ring_t *r = chan__ring(c);
    if (tailf && (atomic_load_explicit(&r->tail, memory_order_relaxed) & tailf) != tailf)
        atomic_fetch_or(&r->tail, tailf);
    if (headf && (atomic_load_explicit(&r->head, memory_order_relaxed) & headf) != headf)
        atomic_fetch_or(&r->head, headf);
}
/* c locked: makes a buffered channel's flags match its wait queues and
 * closed flag (nothing for an unbuffered one). Called before every unlock
 * that follows a change of the queues or a chan__ring_flag. */
GORT_HIDDEN void chan__ring_sync(chan_t *c);

/* Appends sg to q. */
static inline void chan__waitq_enqueue(chan__waitq_t *q, sudog_t *sg)
{
    sg->next = NULL;
    sudog_t *x = q->last;
    if (x == NULL) {
        sg->prev = NULL;
        q->first = q->last = sg;
        return;
    }
    sg->prev = x;
    x->next = sg;
    q->last = sg;
}

/* Removes and returns the first sudog whose goroutine can still take it
 * (a select's sudog is skipped when another case already won), or NULL. */
static inline sudog_t *chan__waitq_dequeue(chan__waitq_t *q)
{
    for (;;) {
        sudog_t *sg = q->first;
        if (sg == NULL)
            return NULL;
        sudog_t *y = sg->next;
        if (y == NULL) {
            q->first = q->last = NULL;
        } else {
            y->prev = NULL;
            q->first = y;
            sg->next = NULL;
        }
        if (sg->isselect) {
            /* A select another channel already won: skip it, and tell its
             * owner it need not lock this channel to unlink it. */
            uint32_t zero = 0;
            if (atomic_load_explicit(&sg->g->selectdone, memory_order_relaxed) != 0 ||
                !atomic_compare_exchange_strong(&sg->g->selectdone, &zero, 1)) {
                __atomic_store_n(&sg->gone, 1, __ATOMIC_RELEASE);
                continue;
            }
        }
        return sg;
    }
}

/* Unlinks sg from q if it is still there. */
static inline void chan__waitq_remove(chan__waitq_t *q, sudog_t *sg)
{
    sudog_t *x = sg->prev, *y = sg->next;
    if (x != NULL) {
        if (y != NULL) {
            x->next = y;
            y->prev = x;
        } else {
            x->next = NULL;
            q->last = x;
        }
    } else if (y != NULL) {
        y->prev = NULL;
        q->first = y;
    } else if (q->first == sg) {
        q->first = q->last = NULL;
    } else {
        return;                    /* already dequeued by a waker */
    }
    sg->next = sg->prev = NULL;
}

/* ------------------------------------------------------------------ */
/* shared between chan.c and select.c                                  */
/* ------------------------------------------------------------------ */

/* Locked c, waiting receiver sg dequeued: copies ep into the receiver and
 * marks it woken. Returns the G to ready once the locks are released. */
GORT_HIDDEN g_t *chan__sendto(chan_t *c, sudog_t *sg, const void *ep);
/* Locked c, waiting sender sg dequeued: receives into ep (from the sender,
 * or from the buffer head while the sender's value moves to the tail).
 * Returns the G to ready once the locks are released. */
GORT_HIDDEN g_t *chan__recvfrom(chan_t *c, sudog_t *sg, void *ep);
/* Parks the calling goroutine forever with reason. */
GORT_HIDDEN _Noreturn void chan__block(const char *reason);

/* Non-blocking or blocking send; returns false only if !block and the
 * send could not proceed. No G needed when !block. */
GORT_HIDDEN bool chan__send(chan_t *c, const void *ep, bool block);
/* Receive; returns whether it proceeded (only false if !block), and in
 * *ok whether a value was received (false: closed and drained). */
GORT_HIDDEN bool chan__recv(chan_t *c, void *ep, bool block, bool *ok);

/* ------------------------------------------------------------------ */
/* context (context.c)                                                 */
/* ------------------------------------------------------------------ */

/* Number of cancelable children on ctx's list (0 for other contexts). */
GORT_HIDDEN intptr_t chan__context_nchildren(context_t *ctx);

#endif /* GORT_CHAN_INTERNAL_H */
