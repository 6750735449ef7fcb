/*
 * sync/sema.c -- runtime semaphores, the notify list, the spin policy.
 *
 * Owns: the semaphore table, a fixed array of SYNC_SEMTAB_SIZE buckets
 * hashed by address. A bucket holds a runtime lock, the number of
 * semaphore waiters queued in it (nwait, read without the lock by the
 * release fast path) and a treap of per-address queues (as Go's
 * semaRoot): the first waiter of each address is a tree node, ordered by
 * address and heap-ordered by a random priority, so many addresses
 * colliding in one bucket cost O(log n), not O(n). It knows its queue's
 * tail; when it leaves, its successor takes its place in the tree.
 *
 * The same queues hold sync.Cond waiters (keyed by the address of the
 * cond's notify counter); they are not counted in nwait.
 *
 * May call: runtime__lock/unlock, sched__parkunlock, sched__ready,
 * sched__goyield, sched__needg. Never allocates.
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

/* A parked goroutine's entry, on its own stack. The first waiter of each
 * address is a node of its bucket's treap (the tree fields are valid on
 * heads only). */
struct sync_waiter {
    g_t *g;
    const void *addr;            /* key */
    sync_waiter_t *next;         /* next waiter on the same address */
    sync_waiter_t *tail;         /* last waiter of the queue (heads only) */
    sync_waiter_t *parent, *left, *right;   /* treap links (heads only) */
    uint32_t prio;               /* random heap priority (heads only) */
    uint32_t ticket;             /* sema: 1 = handed off; cond: ticket */
};

typedef struct {
    runtime_lock_t lock;
    _Atomic uint32_t nwait;      /* semaphore waiters in this bucket */
    sync_waiter_t *treap;        /* queue heads: BST by addr, min-heap by prio */
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

/* ------------------------------------------------------------------ */
/* the treap of queue heads (bucket lock held throughout)              */
/* ------------------------------------------------------------------ */

/* Finds addr's queue head, or NULL. */
static sync_waiter_t *findhead(sema_root_t *root, const void *addr)
{
    sync_waiter_t *t = root->treap;
    while (t && t->addr != addr)
        t = (uintptr_t)addr < (uintptr_t)t->addr ? t->left : t->right;
    return t;
}

/* Points whatever pointed at old (its parent's child link or the root)
 * at new. */
static void relink(sema_root_t *root, sync_waiter_t *old, sync_waiter_t *new)
{
    sync_waiter_t *p = old->parent;
    if (p == NULL)
        root->treap = new;
    else if (p->left == old)
        p->left = new;
    else
        p->right = new;
}

/* Rotates x's right child up into x's place. */
static void rotateleft(sema_root_t *root, sync_waiter_t *x)
{
    sync_waiter_t *y = x->right;
    x->right = y->left;
    if (y->left)
        y->left->parent = x;
    y->parent = x->parent;
    relink(root, x, y);
    y->left = x;
    x->parent = y;
}

/* Rotates y's left child up into y's place. */
static void rotateright(sema_root_t *root, sync_waiter_t *y)
{
    sync_waiter_t *x = y->left;
    y->left = x->right;
    if (x->right)
        x->right->parent = y;
    x->parent = y->parent;
    relink(root, y, x);
    x->right = y;
    y->parent = x;
}

/* Puts node n into head h's place in the tree (same address). */
static void replacehead(sema_root_t *root, sync_waiter_t *h, sync_waiter_t *n)
{
    n->parent = h->parent;
    n->left = h->left;
    n->right = h->right;
    n->prio = h->prio;
    n->tail = h->tail;
    if (n->left)
        n->left->parent = n;
    if (n->right)
        n->right->parent = n;
    relink(root, h, n);
}

/* Inserts s as the head of a new address. */
static void inserthead(sema_root_t *root, sync_waiter_t *s)
{
    sync_waiter_t *p = NULL, **link = &root->treap;
    while (*link) {
        p = *link;
        link = (uintptr_t)s->addr < (uintptr_t)p->addr ? &p->left : &p->right;
    }
    s->parent = p;
    s->left = s->right = NULL;
    s->tail = s;
    s->prio = runtime__fastrand() | 1;
    *link = s;
    while (s->parent && s->parent->prio > s->prio) {
        if (s->parent->left == s)
            rotateright(root, s->parent);
        else
            rotateleft(root, s->parent);
    }
}

/* Removes head h from the tree (its address has no waiter left). */
static void removehead(sema_root_t *root, sync_waiter_t *h)
{
    while (h->left || h->right) {           /* rotate down to a leaf */
        if (h->left == NULL || (h->right && h->right->prio < h->left->prio))
            rotateleft(root, h);
        else
            rotateright(root, h);
    }
    relink(root, h, NULL);
}

/* Takes head h out of its queue: its successor becomes the head, or the
 * address leaves the tree. */
static void unlinkhead(sema_root_t *root, sync_waiter_t *h)
{
    if (h->next)
        replacehead(root, h, h->next);
    else
        removehead(root, h);
    h->next = NULL;
}

/* Queues s for addr at the tail (or head if lifo). */
static void queue(sema_root_t *root, const void *addr, sync_waiter_t *s,
                  bool lifo)
{
    sync_waiter_t *h = findhead(root, addr);
    s->addr = addr;
    s->next = NULL;
    if (h == NULL) {
        inserthead(root, s);
    } else if (lifo) {               /* s replaces h as the head */
        replacehead(root, h, s);
        s->next = h;
    } else {
        h->tail->next = s;
        h->tail = s;
    }
}

/* Dequeues the first waiter on addr, or NULL. */
static sync_waiter_t *dequeue(sema_root_t *root, const void *addr)
{
    sync_waiter_t *h = findhead(root, addr);
    if (h)
        unlinkhead(root, h);
    return h;
}

/* Counts addr's waiters (debugging, tests). */
int sync__semwaiters(const void *addr)
{
    sema_root_t *root = rootfor(addr);
    int n = 0;
    runtime__lock(&root->lock);
    for (sync_waiter_t *s = findhead(root, addr); s; s = s->next)
        n++;
    runtime__unlock(&root->lock);
    return n;
}

/* Checks the treap under t (parent links, address order within (lo, hi),
 * heap order); returns its number of heads, or -1 if it is broken. */
static int checktree(const sync_waiter_t *t, const sync_waiter_t *parent,
                     uintptr_t lo, uintptr_t hi)
{
    if (t == NULL)
        return 0;
    uintptr_t a = (uintptr_t)t->addr;
    if (t->parent != parent || a <= lo || a >= hi ||
        (parent && parent->prio > t->prio) || t->tail == NULL)
        return -1;
    int l = checktree(t->left, t, lo, a);
    int r = checktree(t->right, t, a, hi);
    return l < 0 || r < 0 ? -1 : l + r + 1;
}

/* Verifies the treap of addr's bucket (tests): number of queue heads in
 * it, or -1 if an invariant is broken. */
int sync__semtreapcheck(const void *addr)
{
    sema_root_t *root = rootfor(addr);
    runtime__lock(&root->lock);
    int n = checktree(root->treap, NULL, 0, UINTPTR_MAX);
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
        sched__goyield();
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
    sync_waiter_t *s = findhead(root, notify);
    if (s)
        removehead(root, s);         /* detach the whole queue */
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
    sync_waiter_t *h = findhead(root, notify);
    for (sync_waiter_t *prev = NULL, *s = h; s; prev = s, s = s->next) {
        if (s->ticket != t)
            continue;
        if (prev == NULL) {
            unlinkhead(root, s);
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
