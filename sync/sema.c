/*
 * sync/sema.c -- runtime semaphores, the notify list, the spin policy.
 *
 * Owns: the semaphore table, a fixed array of SYNC_SEMTAB_SIZE buckets
 * hashed by address. A bucket holds a runtime lock, the number of
 * semaphore waiters queued in it (nwait, read without the lock by the
 * release fast path) and a chain of per-address queues. The first waiter
 * of each address is the chain node (nextaddr) and knows the queue's tail;
 * when it leaves, its successor takes its place in the chain. Colliding
 * addresses are rare with 251 buckets, so the chain is a plain list.
 *
 * The same queues hold sync.Cond waiters (keyed by the address of the
 * cond's notify counter); they are not counted in nwait.
 *
 * May call: runtime__lock/unlock, sched__parkunlock, sched__ready,
 * sched__gosched, sched__needg. Never allocates.
 *
 * Invariants:
 *  - Acquire: nwait++ then re-check the count, both under the bucket lock;
 *    release: count++ then read nwait. Both sequentially consistent, so one
 *    of the two always sees the other: no lost wake-up.
 *  - A waiter is on exactly one queue from queue() until the releaser
 *    dequeues it; only the dequeuer readies it.
 */
#include "internal.h"

typedef struct sync_waiter sync_waiter_t;

/* A parked goroutine's entry, on its own stack. */
struct sync_waiter {
    g_t *g;
    const void *addr;            /* key */
    sync_waiter_t *next;         /* next waiter on the same address */
    sync_waiter_t *nextaddr;     /* chain of queue heads (heads only) */
    sync_waiter_t *tail;         /* last waiter of the queue (heads only) */
    uint32_t ticket;             /* sema: 1 = handed off; cond: ticket */
};

typedef struct {
    runtime_lock_t lock;
    _Atomic uint32_t nwait;      /* semaphore waiters in this bucket */
    sync_waiter_t *heads;        /* one head per waited-on address */
} sema_root_t;

/* One bucket per cache line: unrelated locks must not share a line. */
typedef union {
    sema_root_t r;
    char pad[64];
} sema_slot_t;

static sema_slot_t semtable[SYNC_SEMTAB_SIZE] __attribute__((aligned(64)));

/* The bucket of addr. */
static inline sema_root_t *rootfor(const void *addr)
{
    return &semtable[((uintptr_t)addr >> 3) % SYNC_SEMTAB_SIZE].r;
}

/* Takes one count from *addr if it is positive. */
static inline bool cansemacquire(uint32_t *addr)
{
    uint32_t v = SYNC_LOAD(addr);
    while (v != 0) {
        if (SYNC_CAS(addr, &v, v - 1))
            return true;
    }
    return false;
}

/* Finds addr's queue head; *ppp receives the link that points to it. */
static sync_waiter_t *findhead(sema_root_t *root, const void *addr,
                               sync_waiter_t ***ppp)
{
    sync_waiter_t **pp = &root->heads;
    while (*pp && (*pp)->addr != addr)
        pp = &(*pp)->nextaddr;
    *ppp = pp;
    return *pp;
}

/* Queues s for addr at the tail (or head if lifo). Bucket lock held. */
static void queue(sema_root_t *root, const void *addr, sync_waiter_t *s,
                  bool lifo)
{
    sync_waiter_t **pp;
    sync_waiter_t *h = findhead(root, addr, &pp);
    s->addr = addr;
    s->next = NULL;
    if (h == NULL) {                 /* first waiter: new chain node */
        s->tail = s;
        s->nextaddr = root->heads;
        root->heads = s;
    } else if (lifo) {               /* s replaces h as the chain node */
        s->next = h;
        s->tail = h->tail;
        s->nextaddr = h->nextaddr;
        *pp = s;
    } else {
        h->tail->next = s;
        h->tail = s;
    }
}

/* Removes the head h (at link pp) of its queue. Bucket lock held. */
static void unlinkhead(sync_waiter_t **pp, sync_waiter_t *h)
{
    sync_waiter_t *n = h->next;
    if (n) {
        n->nextaddr = h->nextaddr;
        n->tail = h->tail;
        *pp = n;
    } else {
        *pp = h->nextaddr;
    }
    h->next = NULL;
}

/* Dequeues the first waiter on addr, or NULL. Bucket lock held. */
static sync_waiter_t *dequeue(sema_root_t *root, const void *addr)
{
    sync_waiter_t **pp;
    sync_waiter_t *h = findhead(root, addr, &pp);
    if (h)
        unlinkhead(pp, h);
    return h;
}

/* Counts addr's waiters (debugging, tests). */
int sync__semwaiters(const void *addr)
{
    sema_root_t *root = rootfor(addr);
    sync_waiter_t **pp;
    int n = 0;
    runtime__lock(&root->lock);
    for (sync_waiter_t *s = findhead(root, addr, &pp); s; s = s->next)
        n++;
    runtime__unlock(&root->lock);
    return n;
}

/* Waits for a count on *addr (Go's semacquire1). */
void sync__semacquire(uint32_t *addr, bool lifo, const char *reason)
{
    if (cansemacquire(addr))
        return;
    g_t *g = sched__needg(reason);
    sema_root_t *root = rootfor(addr);
    sync_waiter_t s;
    s.g = g;
    s.ticket = 0;
    for (;;) {
        runtime__lock(&root->lock);
        atomic_fetch_add(&root->nwait, 1);   /* disables release fast path */
        if (cansemacquire(addr)) {
            atomic_fetch_sub(&root->nwait, 1);
            runtime__unlock(&root->lock);
            return;
        }
        queue(root, addr, &s, lifo);
        sched__parkunlock(&root->lock, reason);
        /* Woken: handed the count directly, or race for it again (a
         * newcomer may have taken it; then queue again). */
        if (s.ticket != 0 || cansemacquire(addr))
            return;
    }
}

/* Adds a count to *addr and wakes one waiter (Go's semrelease1). */
void sync__semrelease(uint32_t *addr, bool handoff)
{
    sema_root_t *root = rootfor(addr);
    SYNC_ADD(addr, 1);
    if (atomic_load(&root->nwait) == 0)
        return;
    runtime__lock(&root->lock);
    if (atomic_load(&root->nwait) == 0) {   /* count already consumed */
        runtime__unlock(&root->lock);
        return;
    }
    sync_waiter_t *s = dequeue(root, addr);
    if (s)
        atomic_fetch_sub(&root->nwait, 1);
    runtime__unlock(&root->lock);
    if (s == NULL)
        return;
    if (s->ticket != 0)
        runtime__throw("corrupted semaphore ticket");
    bool direct = handoff && cansemacquire(addr);
    if (direct)
        s->ticket = 1;
    g_t *gp = s->g;              /* s may vanish once gp runs */
    sched__ready(gp, true);
    if (direct) {
        /* Starvation hand-off: let the waiter run now, on our P, with
         * the rest of our time slice. */
        m_t *m = sched__getm();
        if (m && m->curg && m->locks == 0)
            sched__gosched();
    }
}

/* ------------------------------------------------------------------ */
/* notify list                                                          */
/* ------------------------------------------------------------------ */

/* Ticket order that survives wrap-around. */
static inline bool ticketless(uint32_t a, uint32_t b)
{
    return (int32_t)(a - b) < 0;
}

/* Hands out the next wait ticket. */
uint32_t sync__notify_add(uint32_t *wait)
{
    return SYNC_ADD(wait, 1) - 1;
}

/* Parks until ticket t is notified (at once if it already was). */
void sync__notify_wait(uint32_t *wait, uint32_t *notify, uint32_t t)
{
    (void)wait;
    g_t *g = sched__needg("sync.Cond.Wait");
    sema_root_t *root = rootfor(notify);
    sync_waiter_t s;
    s.g = g;
    s.ticket = t;
    runtime__lock(&root->lock);
    if (ticketless(t, SYNC_LOAD(notify))) {
        runtime__unlock(&root->lock);
        return;
    }
    queue(root, notify, &s, false);
    sched__parkunlock(&root->lock, SYNC_WR_COND);
}

/* Wakes every goroutine holding a ticket. */
void sync__notify_all(uint32_t *wait, uint32_t *notify)
{
    if (SYNC_LOAD(wait) == SYNC_LOAD(notify))
        return;
    sema_root_t *root = rootfor(notify);
    runtime__lock(&root->lock);
    sync_waiter_t **pp;
    sync_waiter_t *s = findhead(root, notify, &pp);
    if (s)
        *pp = s->nextaddr;           /* detach the whole queue */
    SYNC_STORE(notify, SYNC_LOAD(wait));
    runtime__unlock(&root->lock);
    while (s) {
        sync_waiter_t *next = s->next;
        sched__ready(s->g, true);
        s = next;
    }
}

/* Wakes the goroutine holding the oldest unnotified ticket. */
void sync__notify_one(uint32_t *wait, uint32_t *notify)
{
    if (SYNC_LOAD(wait) == SYNC_LOAD(notify))
        return;
    sema_root_t *root = rootfor(notify);
    runtime__lock(&root->lock);
    uint32_t t = SYNC_LOAD(notify);
    if (t == SYNC_LOAD(wait)) {
        runtime__unlock(&root->lock);
        return;
    }
    SYNC_STORE(notify, t + 1);
    /* The holder of t may not have queued yet; then its notify_wait sees
     * t < notify and returns without parking. */
    sync_waiter_t **pp;
    sync_waiter_t *h = findhead(root, notify, &pp);
    for (sync_waiter_t *prev = NULL, *s = h; s; prev = s, s = s->next) {
        if (s->ticket != t)
            continue;
        if (prev == NULL) {
            unlinkhead(pp, s);
        } else {
            prev->next = s->next;
            if (h->tail == s)
                h->tail = prev;
        }
        runtime__unlock(&root->lock);
        sched__ready(s->g, true);
        return;
    }
    runtime__unlock(&root->lock);
}

/* ------------------------------------------------------------------ */
/* active spinning                                                      */
/* ------------------------------------------------------------------ */

static int ncpu;

/* Go's sync_runtime_canSpin. */
bool sync__canspin(int iter)
{
    if (iter >= SYNC_ACTIVE_SPIN)
        return false;
    int n = __atomic_load_n(&ncpu, __ATOMIC_RELAXED);
    if (n == 0) {
        n = runtime_num_cpu();
        __atomic_store_n(&ncpu, n, __ATOMIC_RELAXED);
    }
    if (n <= 1)
        return false;
    int32_t busy = atomic_load_explicit(&sched__sched.npidle, memory_order_relaxed) +
                   atomic_load_explicit(&sched__sched.nmspinning, memory_order_relaxed);
    if (atomic_load_explicit(&sched__gomaxprocs, memory_order_relaxed) <= busy + 1)
        return false;
    m_t *m = sched__getm();
    if (m == NULL || m->p == NULL || !sched__runqempty(m->p))
        return false;
    return true;
}
