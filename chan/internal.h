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
 *  - 0 <= qcount <= dataqsiz; the ring holds qcount elements from recvx.
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

/* The channel (Go's hchan). The ring buffer follows the header in the same
 * GC object. qcount and closed are also read without the lock. */
struct chan {
    size_t qcount;                 /* elements in the buffer (lock-free reads) */
    size_t dataqsiz;               /* capacity */
    size_t sendx, recvx;           /* ring indices */
    uint32_t elemsize;
    uint32_t closed;               /* lock-free reads */
    chan__waitq_t recvq, sendq;
    runtime_lock_t lock;
    void *owner;                   /* time.Timer/Ticker owning this channel, or NULL */
};

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

/* Address of slot i of the ring. */
static inline char *chan__buf(chan_t *c, size_t i)
{
    return (char *)(c + 1) + i * c->elemsize;
}

static inline size_t chan__load(const size_t *p)
{
    return __atomic_load_n(p, __ATOMIC_RELAXED);
}

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

/* Appends *ep at sendx (c locked, room in the ring). */
static inline void chan__bufput(chan_t *c, const void *ep)
{
    if (likely(c->elemsize))
        chan__copy(chan__buf(c, c->sendx), ep, c->elemsize);
    size_t x = c->sendx + 1;
    c->sendx = x == c->dataqsiz ? 0 : x;
    __atomic_store_n(&c->qcount, c->qcount + 1, __ATOMIC_RELAXED);
}

/* Takes the ring head into ep, or drops it if ep is NULL (c locked, the
 * ring not empty). The slot is cleared so the ring does not keep the
 * value alive. */
static inline void chan__bufget(chan_t *c, void *ep)
{
    char *slot = chan__buf(c, c->recvx);
    if (likely(c->elemsize)) {
        if (likely(ep != NULL)) {
            chan__copy(ep, slot, c->elemsize);
            chan__zero_shaded(slot, c->elemsize);
        } else {
            gc_memclr(slot, c->elemsize);
        }
    }
    size_t x = c->recvx + 1;
    c->recvx = x == c->dataqsiz ? 0 : x;
    __atomic_store_n(&c->qcount, c->qcount - 1, __ATOMIC_RELAXED);
}

/* Sets q's head, under the channel's lock. An atomic store: the fast
 * paths read it without the lock (__atomic_load_n, as Go's chan reads
 * recvq.first in its lock-free checks). */
static inline void chan__waitq_set_first(chan__waitq_t *q, sudog_t *sg)
{
    __atomic_store_n(&q->first, sg, __ATOMIC_RELAXED);
}

/* Appends sg to q. */
static inline void chan__waitq_enqueue(chan__waitq_t *q, sudog_t *sg)
{
    sg->next = NULL;
    sudog_t *x = q->last;
    if (x == NULL) {
        sg->prev = NULL;
        q->last = sg;
        chan__waitq_set_first(q, sg);
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
            q->last = NULL;
            chan__waitq_set_first(q, NULL);
        } else {
            y->prev = NULL;
            chan__waitq_set_first(q, y);
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
        chan__waitq_set_first(q, y);
    } else if (q->first == sg) {
        q->last = NULL;
        chan__waitq_set_first(q, NULL);
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
