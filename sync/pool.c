/*
 * sync/pool.c -- sync.Pool: per-P caches of free objects that every
 * collection empties, through Go 1.13's victim cache.
 *
 * Owns: sync_pool_t's local and victim arrays (one pool_local_t per P,
 * indexed by the P's id), the list of pools in use (Go's allPools) and
 * of pools with a victim (oldPools), and the cycle-start hook that
 * rotates them.
 *
 * May call: sched__getm (the current M and its P), runtime__lock,
 * sync_mutex_lock/unlock, gc_alloc/gc_store, gc__on_cycle_start.
 *
 * Invariants:
 *  - A goroutine touches its P's pool_local_t only while pinned:
 *    m->locks is raised, so neither a preemption nor a stop-the-world can
 *    intervene between reading the P's id and the last access; nothing
 *    that may park or allocate runs while pinned.
 *  - private is touched by the owning P only; the shared ring (a deque:
 *    the owner pushes and pops at the tail, others steal from the head)
 *    only under its lock.
 *  - local is stored before local_size (release) and read after it
 *    (acquire); both change only under pools_mu while pinned, or in the
 *    cleanup with the world stopped.
 *  - Every pool with a non-NULL local is on all_pools; the cleanup (world
 *    stopped, before marking) makes each one's local its victim and
 *    drops the previous victims, so a pooled object survives exactly
 *    one collection in the victim cache.
 *  - The pool lists are GC objects reached from globals (roots), and
 *    each is appended to in place (item first, then the count) or
 *    replaced whole, so the cleanup always sees a consistent list.
 */
#include "internal.h"
#include "../gc/internal.h"

#define POOL_RING_MIN 8

typedef struct {
    void *private;                 /* owner P only */
    runtime_lock_t lock;           /* guards the ring */
    uint32_t head, n, cap;         /* ring[(head + i) % cap], i < n */
    void **ring;                   /* GC array of cap objects */
    char pad[128 - 32];            /* one per cache line pair */
} pool_local_t;

_Static_assert(sizeof(pool_local_t) == 128, "pool_local_t spans 128 bytes");

typedef struct {
    uintptr_t n, cap;
    sync_pool_t *items[];
} pool_list_t;

static sync_mutex_t pools_mu;      /* guards growth of pools and the lists */
static pool_list_t *all_pools;     /* pools with a local array */
static pool_list_t *old_pools;     /* pools with a victim array */
static bool hook_set;              /* pools_mu */

/* Raises m->locks so the caller stays on its P; NULL off a P. */
static inline m_t *pin(void)
{
    m_t *m = sched__getm();
    if (m == NULL)
        return NULL;
    m->locks++;
    if (m->p == NULL) {
        m->locks--;
        return NULL;
    }
    return m;
}

static inline void unpin(m_t *m)
{
    m->locks--;
}

/* The local array of p for P id, or NULL if it lacks one that large. */
static inline pool_local_t *local_of(sync_pool_t *p, int32_t id)
{
    uintptr_t size = __atomic_load_n(&p->local_size, __ATOMIC_ACQUIRE);
    if ((uintptr_t)id >= size)
        return NULL;
    return (pool_local_t *)__atomic_load_n(&p->local, __ATOMIC_RELAXED) + id;
}

/* ------------------------------------------------------------------ */
/* the shared ring                                                     */
/* ------------------------------------------------------------------ */

/* l's lock held: pushes x at the tail; false if the ring is full. */
static bool ring_push(pool_local_t *l, void *x)
{
    if (l->n == l->cap)
        return false;
    gc_store(&l->ring[(l->head + l->n) % l->cap], x);
    l->n++;
    return true;
}

/* l's lock held: pops the tail (owner) or the head (a thief). */
static void *ring_pop(pool_local_t *l, bool tail)
{
    if (l->n == 0)
        return NULL;
    uint32_t i = tail ? (l->head + l->n - 1) % l->cap : l->head;
    void *x = l->ring[i];
    gc_store(&l->ring[i], NULL);
    l->n--;
    if (!tail)
        l->head = (l->head + 1) % l->cap;
    return x;
}

/* Pops from l's ring under its lock. */
static void *ring_take(pool_local_t *l, bool tail)
{
    if (__atomic_load_n(&l->n, __ATOMIC_RELAXED) == 0)
        return NULL;
    runtime__lock(&l->lock);
    void *x = ring_pop(l, tail);
    runtime__unlock(&l->lock);
    return x;
}

/* Pinned on P id: pushes x into the ring, or returns false when it is
 * full (the caller grows it unpinned). */
static bool ring_give(pool_local_t *l, void *x)
{
    runtime__lock(&l->lock);
    bool ok = ring_push(l, x);
    runtime__unlock(&l->lock);
    return ok;
}

/* Pinned: moves l's ring into fresh (twice as large) and pushes x. */
static void ring_grow_push(pool_local_t *l, void **fresh, uint32_t cap, void *x)
{
    runtime__lock(&l->lock);
    if (!ring_push(l, x) && cap > l->cap) {
        for (uint32_t i = 0; i < l->n; i++)
            gc_store(&fresh[i], l->ring[(l->head + i) % l->cap]);
        /* A stale pointer to the old ring (the scan is conservative)
         * must not keep the pooled objects alive. */
        if (l->ring)
            gc_memclr(l->ring, l->cap * sizeof(void *));
        gc_store(&l->ring, fresh);
        l->head = 0;
        l->cap = cap;
        ring_push(l, x);
    }
    runtime__unlock(&l->lock);
}

/* ------------------------------------------------------------------ */
/* pool registration and the collector's hook                          */
/* ------------------------------------------------------------------ */

/* World stopped, before marking: primaries become victims, victims go. */
static void pool_cleanup(void)
{
    pool_list_t *o = old_pools, *a = all_pools;
    for (uintptr_t i = 0; o && i < o->n; i++) {
        gc_store(&o->items[i]->victim, NULL);
        o->items[i]->victim_size = 0;
    }
    for (uintptr_t i = 0; a && i < a->n; i++) {
        sync_pool_t *p = a->items[i];
        gc_store(&p->victim, p->local);
        p->victim_size = p->local_size;
        gc_store(&p->local, NULL);
        p->local_size = 0;
    }
    gc_store(&old_pools, a);
    gc_store(&all_pools, NULL);
}

/* pools_mu held, unpinned: a copy of all_pools with room for one more,
 * or NULL if it has room already. */
static pool_list_t *list_room(void)
{
    pool_list_t *a = all_pools;
    if (a && a->n < a->cap)
        return NULL;
    uintptr_t cap = a ? 2 * a->cap : 16;
    pool_list_t *b = gc_alloc(sizeof(pool_list_t) + cap * sizeof(sync_pool_t *));
    b->cap = cap;
    return b;
}

/* Pinned, pools_mu held: puts p on all_pools, using b (room for one
 * more, or NULL); false if all_pools has no room and b is NULL. */
static bool list_append(sync_pool_t *p, pool_list_t *b)
{
    pool_list_t *a = all_pools;
    if (b) {
        for (uintptr_t i = 0; a && i < a->n; i++)
            gc_store(&b->items[i], a->items[i]);
        b->n = a ? a->n : 0;
        gc_store(&all_pools, b);
        a = b;
    } else if (a == NULL || a->n == a->cap) {
        return false;              /* a cleanup emptied the list meanwhile */
    }
    gc_store(&a->items[a->n], p);
    __atomic_store_n(&a->n, a->n + 1, __ATOMIC_RELEASE);
    return true;
}

/* Gives p a local array for every P (Go's pinSlow) and registers it;
 * allocates unpinned under pools_mu, installs pinned. */
static GORT_NOINLINE void pool_grow(sync_pool_t *p)
{
    sync_mutex_lock(&pools_mu);
    if (!hook_set) {
        gc__on_cycle_start(pool_cleanup);
        hook_set = true;
    }
    for (;;) {
        int32_t procs = atomic_load(&sched__gomaxprocs);
        pool_local_t *locals = gc_alloc((size_t)procs * sizeof(pool_local_t));
        pool_list_t *b = list_room();
        m_t *m = pin();
        if (m == NULL)
            break;
        bool done = true;
        if (p->local_size < (uintptr_t)procs) {
            if (p->local == NULL)
                done = list_append(p, b);
            if (done) {
                gc_store(&p->local, locals);
                __atomic_store_n(&p->local_size, (uintptr_t)procs, __ATOMIC_RELEASE);
            }
        }
        unpin(m);
        if (done)
            break;
    }
    sync_mutex_unlock(&pools_mu);
}

/* ------------------------------------------------------------------ */
/* Get and Put                                                         */
/* ------------------------------------------------------------------ */

/* Pinned on P id with nothing local: steals from the other Ps' rings,
 * then takes from the victim cache (and marks it empty if it is). */
static void *get_slow(sync_pool_t *p, int32_t id)
{
    uintptr_t size = __atomic_load_n(&p->local_size, __ATOMIC_ACQUIRE);
    pool_local_t *locals = p->local;
    void *x;
    for (uintptr_t i = 1; i < size; i++)
        if ((x = ring_take(&locals[((uintptr_t)id + i) % size], false)) != NULL)
            return x;
    size = __atomic_load_n(&p->victim_size, __ATOMIC_ACQUIRE);
    if ((uintptr_t)id >= size)
        return NULL;
    locals = p->victim;
    pool_local_t *l = &locals[id];
    if ((x = l->private) != NULL) {
        gc_store(&l->private, NULL);
        return x;
    }
    for (uintptr_t i = 0; i < size; i++)
        if ((x = ring_take(&locals[((uintptr_t)id + i) % size], false)) != NULL)
            return x;
    __atomic_store_n(&p->victim_size, 0, __ATOMIC_RELEASE);
    return NULL;
}

/* p.Get(): this P's private object, its ring's tail, another P's ring,
 * the victim cache, and last p->new_fn (NULL if there is none). */
void *sync_pool_get(sync_pool_t *p)
{
    void *x = NULL;
    m_t *m = pin();
    if (m) {
        int32_t id = m->p->id;
        pool_local_t *l = local_of(p, id);
        if (l == NULL) {
            unpin(m);
            pool_grow(p);
            m = pin();
            id = m ? m->p->id : 0;
            l = m ? local_of(p, id) : NULL;
        }
        if (l != NULL) {
            if ((x = l->private) != NULL)
                gc_store(&l->private, NULL);
            else if ((x = ring_take(l, true)) == NULL)
                x = get_slow(p, id);
        }
        if (m)
            unpin(m);
    }
    if (x == NULL && p->new_fn)
        x = p->new_fn();
    return x;
}

/* Pinned: l of P id is full; grows its ring unpinned, then pushes x on
 * whatever P the caller is on by then. */
static GORT_NOINLINE void put_grow(sync_pool_t *p, m_t *m, pool_local_t *l, void *x)
{
    uint32_t cap = l->cap ? 2 * l->cap : POOL_RING_MIN;
    unpin(m);
    void **fresh = gc_alloc(cap * sizeof(void *));
    m = pin();
    if (m == NULL)
        return;
    l = local_of(p, m->p->id);
    if (l)
        ring_grow_push(l, fresh, cap, x);
    unpin(m);
}

/* p.Put(x): into this P's private slot, else its ring (NULL ignored). */
void sync_pool_put(sync_pool_t *p, void *x)
{
    if (x == NULL)
        return;
    m_t *m = pin();
    if (m == NULL)
        return;
    pool_local_t *l = local_of(p, m->p->id);
    if (l == NULL) {
        unpin(m);
        pool_grow(p);
        if ((m = pin()) == NULL)
            return;
        if ((l = local_of(p, m->p->id)) == NULL) {
            unpin(m);
            return;
        }
    }
    if (l->private == NULL)
        gc_store(&l->private, x);
    else if (!ring_give(l, x)) {
        put_grow(p, m, l, x);
        return;
    }
    unpin(m);
}

/* Objects p holds in its local array and its victim (tests). */
uintptr_t sync__pool_count(sync_pool_t *p, bool victim)
{
    m_t *m = pin();
    pool_local_t *locals = victim ? p->victim : p->local;
    uintptr_t size = victim ? p->victim_size : p->local_size, n = 0;
    for (uintptr_t i = 0; locals && i < size; i++) {
        runtime__lock(&locals[i].lock);
        n += (locals[i].private != NULL) + locals[i].n;
        runtime__unlock(&locals[i].lock);
    }
    if (m)
        unpin(m);
    return n;
}
