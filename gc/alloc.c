/*
 * gc/alloc.c -- gc_alloc and gc_alloc_noscan.
 *
 * Owns: the allocation fast path (a goroutine's P's mcache: no lock, no
 * atomic read-modify-write), the in-span slow path, refills, the shared
 * cache path for threads without a P, and large objects (> 32 KiB, one
 * span each).
 * May call: mcache.c, mcentral.c, mheap.c, cycle.c (start a cycle).
 * Invariants: returned memory is zeroed (a span is zeroed only if its
 * needzero says it may be dirty: fresh and scavenged pages are not); an
 * allocation never happens with a runtime lock held (it may start a GC).
 */
#include <string.h>

#include "internal.h"

static uintptr_t zerobase;   /* the address of every zero-size object */
GORT_HIDDEN uintptr_t *gc__zerobase = &zerobase;

/* The last objects allocated by threads without a P. A foreign thread's
 * stack is not scanned; this ring (a root: it lives in bss) keeps each
 * object alive for the next GC_FOREIGN_RING foreign allocations, time to
 * store it somewhere reachable (see docs/gc.md). gc__shared_lock. */
#define GC_FOREIGN_RING 1024
static void *volatile foreign_ring[GC_FOREIGN_RING];   /* volatile: write-only here */
static unsigned foreign_next;

/* Next free slot of s from its alloc cache, or s->nelems if s is full. */
static uint32_t span_next_free(gc__span_t *s)
{
    for (;;) {
        uint32_t fi = s->freeindex;
        if (fi >= s->nelems)
            return s->nelems;
        uint64_t cache = s->alloccache;
        if (cache) {
            unsigned bit = (unsigned)__builtin_ctzll(cache);
            uint32_t idx = fi + bit;
            if (idx >= s->nelems) {
                s->freeindex = s->nelems;
                return s->nelems;
            }
            uint32_t next = idx + 1;
            if ((next & 63) == 0)
                gc__span_refill_cache(s, next);
            else
                s->alloccache = cache >> (bit + 1);
            s->freeindex = next;
            return idx;
        }
        s->freeindex = (fi + 64) & ~63u;
        gc__span_refill_cache(s, s->freeindex);
    }
}

/* A slot of class spc from cache c, refilling c when its span is full. */
static void *cache_alloc_slow(gc__mcache_t *c, int spc, bool maystart)
{
    if (maystart) {
        /* A preemption point at least every 64 objects: the allocator's
         * code is never stopped by the signal, and a loop that allocates
         * spends much of its time there; a stop of the world then waits
         * for no signal. The G may resume on another P: re-read its cache. */
        sched__checkpreempt();
        c = sched__getm()->p->mcache;
    }
    gc__span_t *s = c->alloc[spc];
    uint32_t idx = span_next_free(s);
    if (idx >= s->nelems) {
        if (maystart) {
            gc__maybe_start(s->npages << GC_PAGE_SHIFT);
            sched__checkpreempt();   /* a cycle may have asked; so may a full span's long loop */
            /* A cycle (or another P) emptied our cache; re-read it. */
            c = sched__getm()->p->mcache;
        }
        gc__mcache_refill(c, spc);
        s = c->alloc[spc];
        idx = span_next_free(s);
        if (idx >= s->nelems)
            runtime__throw("gc: refilled span has no free slot");
    }
    s->alloccount++;
    void *p = (void *)(s->base + (uintptr_t)idx * s->elemsize);
    if (s->needzero)
        memset(p, 0, s->elemsize);
    if (atomic_load_explicit(&gc__black_alloc, memory_order_relaxed))
        gc__mark_new(s, idx);
    return p;
}

/* One object of more than 32 KiB in its own span. A size that does not
 * fit in whole pages throws at once, as Go's allocLarge; one larger than
 * the heap can reserve, or than the kernel will commit, fails in the page
 * heap with Go's messages, before any page of it is touched. */
static void *alloc_large(size_t size, bool noscan, bool maystart)
{
    if (size > SIZE_MAX - GC_PAGE_SIZE)
        runtime__throw("out of memory");
    if (size > GC_MAX_ALLOC)
        gc__heap_cannot_allocate((size + GC_PAGE_SIZE - 1) >> GC_PAGE_SHIFT);
    if (maystart)
        gc__maybe_start(size);
    gc__sweep_credit();
    uintptr_t npages = (size + GC_PAGE_SIZE - 1) >> GC_PAGE_SHIFT;
    gc__span_t *s = gc__heap_alloc(npages);
    gc__span_init_class(s, noscan);
    s->freeindex = 1;
    s->alloccount = 1;
    uintptr_t bytes = npages << GC_PAGE_SHIFT;
    if (s->needzero)
        memset((void *)s->base, 0, noscan ? size : bytes);
    if (atomic_load_explicit(&gc__black_alloc, memory_order_relaxed))
        gc__mark_new(s, 0);
    atomic_fetch_add_explicit(&gc__state.heap_live, bytes, memory_order_relaxed);
    atomic_fetch_add_explicit(&gc__state.nmalloc, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&gc__state.total_alloc, bytes, memory_order_relaxed);
    gc__central_put_swept(s);
    return (void *)s->base;
}

/* The slow paths: no P (shared cache), large objects, full spans. */
static GORT_NOINLINE void *alloc_slow(size_t size, bool noscan)
{
    m_t *m = sched__getm();
    p_t *p = m ? m->p : NULL;
    bool maystart = p && m->curg && m->locks == 0;
    if (maystart)
        gc__bg_start();
    if (p)
        return size > GC_MAX_SMALL ? alloc_large(size, noscan, maystart)
                                   : cache_alloc_slow(p->mcache, gc__size_class(size) << 1 | noscan,
                                                      maystart);
    /* No P: under the shared lock, so no cycle runs until the object is
     * in the ring. */
    runtime__lock(&gc__shared_lock);
    void *obj = size > GC_MAX_SMALL
                    ? alloc_large(size, noscan, false)
                    : cache_alloc_slow(&gc__shared_cache, gc__size_class(size) << 1 | noscan, false);
    foreign_ring[foreign_next++ % GC_FOREIGN_RING] = obj;
    runtime__unlock(&gc__shared_lock);
    if (atomic_load_explicit(&gc__state.heap_live, memory_order_relaxed) >=
        atomic_load_explicit(&gc__state.trigger, memory_order_relaxed))
        gc__maybe_start(0);   /* no P: wakes the helper goroutine */
    return obj;
}

_Atomic bool gc__black_alloc;

void gc__mark_new(gc__span_t *s, uintptr_t idx)
{
    (void)gc__set_mark(s, idx);
}

/* The fast path: the current P's cached span has a slot in its cache. */
static inline void *gc_malloc(size_t size, bool noscan)
{
    if (unlikely(size == 0))
        return &zerobase;
    m_t *m = sched__getm();
    p_t *p;
    if (likely(m && (p = m->p) && size <= GC_MAX_SMALL)) {
        gc__mcache_t *c = p->mcache;
        gc__span_t *s = c->alloc[gc__size_class(size) << 1 | noscan];
        uint64_t cache = s->alloccache;
        if (likely(cache)) {
            unsigned bit = (unsigned)__builtin_ctzll(cache);
            uint32_t idx = s->freeindex + bit;
            uint32_t next = idx + 1;
            if (likely(idx < s->nelems && (next & 63))) {
                s->alloccache = cache >> (bit + 1);
                s->freeindex = next;
                s->alloccount++;
                void *obj = (void *)(s->base + (uintptr_t)idx * s->elemsize);
                if (s->needzero)
                    memset(obj, 0, s->elemsize);
                if (unlikely(atomic_load_explicit(&gc__black_alloc, memory_order_relaxed)))
                    gc__mark_new(s, idx);
                return obj;
            }
        }
    }
    return alloc_slow(size, noscan);
}

void *gc_alloc(size_t size) { return gc_malloc(size, false); }
void *gc_alloc_noscan(size_t size) { return gc_malloc(size, true); }
