/*
 * gc/mcentral.c -- central span lists, one set per span class.
 *
 * Owns: handing swept spans with free slots to caches (sweeping unswept
 * ones lazily on the way, as Go's mcentral.cacheSpan), taking them back,
 * and growing a class from the page heap.
 * May call: sweep.c, mheap.c, cycle.c statistics.
 * Invariants: a listed span is not cached; list edits hold the central
 * lock; a span taken off an unswept list is claimed by CAS on sweepgen
 * before it is swept; the central lock is never held across the heap lock
 * or a sweep.
 */
#include "internal.h"

gc__central_t gc__central[GC_NUM_SPANCLASS];

/* Pops an unswept span of list l and claims it for sweeping, or NULL. */
gc__span_t *gc__central_claim(gc__span_list_t *l, uint32_t sg)
{
    gc__span_t *s;
    while ((s = gc__list_pop(l))) {
        uint32_t want = sg - 2;
        if (atomic_compare_exchange_strong(&s->sweepgen, &want, sg - 1))
            return s;
    }
    return NULL;
}

/* Accounts a span entering a cache: its free slots count as allocated. */
static void account_cached(gc__span_t *s)
{
    uint64_t n = s->nelems - s->alloccount;
    uint64_t bytes = n * s->elemsize;
    if (s->incache || s->onlist || s->state != SPAN_INUSE)
        runtime__throwf("gc: caching span %#lx that is cached, listed or free", (unsigned long)s->base);
    s->incache = 1;
    atomic_fetch_add_explicit(&gc__state.heap_live, bytes, memory_order_relaxed);
    atomic_fetch_add_explicit(&gc__state.nmalloc, n, memory_order_relaxed);
    atomic_fetch_add_explicit(&gc__state.total_alloc, bytes, memory_order_relaxed);
}

gc__span_t *gc__central_cache(int spc)
{
    gc__central_t *c = &gc__central[spc];
    uint32_t sg = atomic_load(&gc__heap.sweepgen);
    gc__span_t *s;

    gc__sweep_credit();
    runtime__lock(&c->lock);
    if ((s = gc__list_pop(gc__partial_swept(c, sg)))) {
        runtime__unlock(&c->lock);
        goto have;
    }
    if ((s = gc__central_claim(gc__partial_unswept(c, sg), sg))) {
        runtime__unlock(&c->lock);
        if (gc__sweep_span(s, true))
            goto have;
        runtime__lock(&c->lock);
    }
    for (int budget = GC_SWEEP_BUDGET; budget > 0; budget--) {
        if (!(s = gc__central_claim(gc__full_unswept(c, sg), sg)))
            break;
        runtime__unlock(&c->lock);
        gc__sweep_span(s, true);
        if (s->alloccount < s->nelems)
            goto have;
        runtime__lock(&c->lock);
        gc__list_push(gc__full_swept(c, sg), s);
    }
    runtime__unlock(&c->lock);

    /* Grow: a fresh span from the page heap. */
    s = gc__heap_alloc(gc__class_npages[spc >> 1]);
    gc__span_init_class(s, spc);
have:
    account_cached(s);
    return s;
}

void gc__central_put_swept(gc__span_t *s)
{
    if (s->incache)
        runtime__throwf("gc: listing cached span %#lx", (unsigned long)s->base);
    gc__central_t *c = &gc__central[s->spanclass];
    uint32_t sg = atomic_load(&gc__heap.sweepgen);
    runtime__lock(&c->lock);
    if (s->alloccount >= s->nelems)
        gc__list_push(gc__full_swept(c, sg), s);
    else
        gc__list_push(gc__partial_swept(c, sg), s);
    runtime__unlock(&c->lock);
}

void gc__central_uncache(gc__span_t *s)
{
    uint64_t n = s->nelems - s->alloccount;
    if (n) {   /* give back the optimistic accounting of unused slots */
        uint64_t bytes = n * s->elemsize;
        atomic_fetch_sub_explicit(&gc__state.heap_live, bytes, memory_order_relaxed);
        atomic_fetch_sub_explicit(&gc__state.nmalloc, n, memory_order_relaxed);
        atomic_fetch_sub_explicit(&gc__state.total_alloc, bytes, memory_order_relaxed);
    }
    s->incache = 0;
    gc__central_put_swept(s);
}
