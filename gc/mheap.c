/*
 * gc/mheap.c -- the page heap: spans of 8 KiB pages, and the scavenger.
 *
 * Owns: carving spans out of arenas, exact-size free lists (1..127 pages)
 * plus a best-fit list for larger runs, coalescing on free, the span
 * descriptor pool, span object layout, and returning free pages to the OS
 * with madvise (the scavenger; sysmon drives it).
 * Large spans are mapped per page only in the arenas they cover in part;
 * an arena they cover whole points at them once (gc__arena_t.whole), so a
 * huge span costs O(arenas) to map and free. Fresh pages are committed
 * as the bump region hands them out (commit_to).
 * May call: arena.c, runtime__malloc/free, madvise, throw.
 * Invariants: all under gc__heap.lock; see gc/internal.h for the page map.
 * A free span's pages are all scavenged (scavenged = 1) or counted as
 * resident; a scavenged span reads as zeroes.
 */
#include <string.h>
#include <sys/mman.h>

#include "internal.h"

gc__heap_t gc__heap = {.sweepgen = 2};

void gc__list_push(gc__span_list_t *l, gc__span_t *s)
{
    if (s->onlist)
        runtime__throw("gc: span pushed on a second list");
    s->onlist = l;
    s->prev = NULL;
    s->next = l->first;
    if (l->first)
        l->first->prev = s;
    l->first = s;
    l->n++;
}

void gc__list_remove(gc__span_list_t *l, gc__span_t *s)
{
    if (s->onlist != l)
        runtime__throwf("gc: span %p (state %d class %d base %#lx sg %u) removed from list %p, it is on %p",
                        (void *)s, s->state, s->spanclass, (unsigned long)s->base,
                        atomic_load(&s->sweepgen), (void *)l, (void *)s->onlist);
    s->onlist = NULL;
    if (s->prev)
        s->prev->next = s->next;
    else
        l->first = s->next;
    if (s->next)
        s->next->prev = s->prev;
    s->next = s->prev = NULL;
    l->n--;
}

gc__span_t *gc__list_pop(gc__span_list_t *l)
{
    gc__span_t *s = l->first;
    if (s)
        gc__list_remove(l, s);
    return s;
}

/* A recycled or new span descriptor. Heap lock held. */
static gc__span_t *span_desc_new(void)
{
    gc__span_t *s = gc__heap.spanfree;
    if (s) {
        gc__heap.spanfree = s->next;
        memset(s, 0, sizeof *s);
    } else {
        s = runtime__malloc(sizeof *s);
    }
    return s;
}

/* Returns a descriptor to the pool (never to jemalloc). Heap lock held. */
static void span_desc_free(gc__span_t *s)
{
    s->state = SPAN_DEAD;
    s->next = gc__heap.spanfree;
    gc__heap.spanfree = s;
}

/* Points the page map entry of page address a at s. */
static inline void map_page(uintptr_t a, gc__span_t *s)
{
    gc__arenas[a >> GC_ARENA_SHIFT]->spans[(a >> GC_PAGE_SHIFT) & (GC_ARENA_PAGES - 1)] = s;
}

static inline gc__span_list_t *free_list_for(uintptr_t npages)
{
    return npages < GC_FREE_LISTS ? &gc__heap.free[npages] : &gc__heap.freelarge;
}

/* Files free span s (first and last page mapped). Heap lock held. */
static void free_insert(gc__span_t *s)
{
    s->state = SPAN_FREE;
    map_page(s->base, s);
    map_page(s->base + ((s->npages - 1) << GC_PAGE_SHIFT), s);
    gc__list_push(free_list_for(s->npages), s);
}

/* Smallest free span of at least npages, unlinked, or NULL. */
static gc__span_t *free_find(uintptr_t npages)
{
    for (uintptr_t n = npages; n < GC_FREE_LISTS; n++)
        if (gc__heap.free[n].first)
            return gc__list_pop(&gc__heap.free[n]);
    gc__span_t *best = NULL;
    for (gc__span_t *s = gc__heap.freelarge.first; s; s = s->next)
        if (s->npages >= npages && (!best || s->npages < best->npages ||
                                    (s->npages == best->npages && s->base < best->base)))
            best = s;
    if (best)
        gc__list_remove(&gc__heap.freelarge, best);
    return best;
}

void gc__heap_cannot_allocate(uintptr_t npages)
{
    uintptr_t chunk = GC_COMMIT_CHUNK >> GC_PAGE_SHIFT;   /* Go's ask: whole chunks */
    uintptr_t aligned = (npages + chunk - 1) & ~(chunk - 1);
    uintptr_t ask = (aligned > UINTPTR_MAX >> GC_PAGE_SHIFT ? npages : aligned) << GC_PAGE_SHIFT;
    runtime__printf("runtime: out of memory: cannot allocate %lu-byte block (%lu in use)\n",
                    (unsigned long)ask, (unsigned long)gc__heap.sys);
    runtime__throw("out of memory");
}

/* Commits the bump region up to at least a, a commit granule at a time so
 * that small spans cost no system call each. Heap lock held. */
static void commit_to(uintptr_t a)
{
    if (a <= gc__heap.committed)
        return;
    uintptr_t to = (a + GC_COMMIT_CHUNK - 1) & ~(GC_COMMIT_CHUNK - 1);
    if (to > gc__heap.end || to < a)
        to = gc__heap.end;
    gc__arena_commit(gc__heap.committed, to - gc__heap.committed);
    gc__heap.committed = to;
}

/* Takes npages of fresh arena memory. Heap lock held. The first page of
 * every reservation is never used: its address (the arena base) is kept
 * by the heap bounds, mmap hints and jemalloc's own bookkeeping, and would
 * pin whatever object lived there under conservative scanning. A new
 * reservation is committed for the request before its arenas get page
 * tables, so a request the kernel refuses costs no metadata. */
static gc__span_t *heap_grow(uintptr_t npages)
{
    if (npages > (GC_MAX_ALLOC >> GC_PAGE_SHIFT) - 1) {
        runtime__unlock(&gc__heap.lock);
        gc__heap_cannot_allocate(npages);
    }
    uintptr_t need = npages << GC_PAGE_SHIFT;
    if (gc__heap.end - gc__heap.cur < need) {
        uintptr_t size = (need + GC_PAGE_SIZE + GC_ARENA_SIZE - 1) & ~(GC_ARENA_SIZE - 1);
        uintptr_t base = gc__arena_reserve(size);
        if (!base) {
            runtime__unlock(&gc__heap.lock);
            gc__heap_cannot_allocate(npages);
        }
        if (gc__heap.end > gc__heap.cur) {   /* leftover becomes a free span */
            commit_to(gc__heap.end);
            gc__span_t *t = span_desc_new();
            t->base = gc__heap.cur;
            t->npages = (gc__heap.end - gc__heap.cur) >> GC_PAGE_SHIFT;
            gc__heap.sys += gc__heap.end - gc__heap.cur;
            gc__heap.freebytes += gc__heap.end - gc__heap.cur;
            free_insert(t);
        }
        /* The new span's base (base + GC_PAGE_SIZE) is formed only after
         * these calls, so no callee spills it where a later cycle would
         * find it on the stack and pin the object. */
        gc__heap.end = base + size;
        gc__heap.committed = base;
        commit_to(base + (GC_PAGE_SIZE + need));
        gc__arena_register(base, size);
        gc__heap.cur = base + GC_PAGE_SIZE;
    } else {
        commit_to(gc__heap.cur + need);
    }
    gc__span_t *s = span_desc_new();
    s->base = gc__heap.cur;
    s->npages = npages;
    gc__heap.cur += need;
    gc__heap.sys += need;
    gc__heap.freebytes += need;
    return s;
}

/* Points page map entries [pg, pgend) (global page numbers) at s. */
static void map_pages(uintptr_t pg, uintptr_t pgend, gc__span_t *s)
{
    for (; pg < pgend; pg++)
        gc__arenas[pg / GC_ARENA_PAGES]->spans[pg % GC_ARENA_PAGES] = s;
}

/* Maps in-use span s: every page of the arenas it covers in part, its
 * first and last page, and itself as the whole span of the arenas it
 * covers entirely: O(arenas + 2 * GC_ARENA_PAGES). Works in page and
 * arena numbers, so no interior address of s is left in a register or
 * spill slot for conservative scanning to find. Heap lock held. */
static void map_span(gc__span_t *s)
{
    uintptr_t pg = s->base >> GC_PAGE_SHIFT, pgend = pg + s->npages;
    uintptr_t fa = (pg + GC_ARENA_PAGES - 1) / GC_ARENA_PAGES;   /* first whole arena */
    uintptr_t ea = pgend / GC_ARENA_PAGES;                       /* end of whole arenas */
    if (fa >= ea) {   /* no arena covered whole: the common case */
        map_pages(pg, pgend, s);
        return;
    }
    map_pages(pg, fa * GC_ARENA_PAGES, s);
    map_pages(ea * GC_ARENA_PAGES, pgend, s);
    map_pages(pg, pg + 1, s);
    map_pages(pgend - 1, pgend, s);
    for (uintptr_t i = fa; i < ea; i++)
        __atomic_store_n(&gc__arenas[i]->whole, s, __ATOMIC_RELEASE);
}

/* Takes s off the arenas it was the whole span of. Heap lock held. */
static void unmap_whole(gc__span_t *s)
{
    uintptr_t pg = s->base >> GC_PAGE_SHIFT, pgend = pg + s->npages;
    for (uintptr_t i = (pg + GC_ARENA_PAGES - 1) / GC_ARENA_PAGES; i < pgend / GC_ARENA_PAGES; i++)
        __atomic_store_n(&gc__arenas[i]->whole, NULL, __ATOMIC_RELAXED);
}

gc__span_t *gc__heap_alloc(uintptr_t npages)
{
    runtime__lock(&gc__heap.lock);
    gc__span_t *s = free_find(npages);
    if (!s)
        s = heap_grow(npages);
    if (s->npages > npages) {   /* split: the tail stays free */
        gc__span_t *t = span_desc_new();
        t->base = s->base + (npages << GC_PAGE_SHIFT);
        t->npages = s->npages - npages;
        t->needzero = s->needzero;
        t->scavenged = s->scavenged;
        s->npages = npages;
        free_insert(t);
    }
    uintptr_t bytes = npages << GC_PAGE_SHIFT;
    if (s->scavenged) {
        gc__heap.released -= bytes;
        s->needzero = 0;   /* the kernel hands back zero pages */
        s->scavenged = 0;
    }
    gc__heap.freebytes -= bytes;
    gc__heap.inuse += bytes;
    s->state = SPAN_INUSE;
    s->next = s->prev = NULL;
    atomic_store_explicit(&s->sweepgen, atomic_load(&gc__heap.sweepgen), memory_order_relaxed);
    map_span(s);
    runtime__unlock(&gc__heap.lock);
    return s;
}

/* Free neighbour of s ending at / starting at the given address, or NULL. */
static gc__span_t *free_neighbour(uintptr_t a, uintptr_t want_base, uintptr_t want_end)
{
    if (a < atomic_load(&gc__heap_lo) || a >= atomic_load(&gc__heap_hi))
        return NULL;
    gc__span_t *t = gc__span_lookup(a);
    if (!t || t->state != SPAN_FREE)
        return NULL;
    uintptr_t end = t->base + (t->npages << GC_PAGE_SHIFT);
    if ((want_base && t->base != want_base) || (want_end && end != want_end))
        return NULL;
    return t;
}

/* Merges free t into s (s absorbs t's pages). Heap lock held. */
static void absorb(gc__span_t *s, gc__span_t *t)
{
    gc__list_remove(free_list_for(t->npages), t);
    if (t->scavenged != s->scavenged) {   /* mixed: count all as resident */
        gc__span_t *r = t->scavenged ? t : s;
        gc__heap.released -= r->npages << GC_PAGE_SHIFT;
        s->scavenged = 0;
    }
    s->needzero |= t->needzero;
    if (t->base < s->base)
        s->base = t->base;
    s->npages += t->npages;
    span_desc_free(t);
}

void gc__heap_free(gc__span_t *s)
{
    if (s->incache || s->onlist)
        runtime__throwf("gc: freeing cached or listed span %#lx", (unsigned long)s->base);
    s->allocbits = NULL;
    s->markbits = NULL;
    runtime__lock(&gc__heap.lock);
    uintptr_t bytes = s->npages << GC_PAGE_SHIFT;
    gc__heap.inuse -= bytes;
    gc__heap.freebytes += bytes;
    unmap_whole(s);
    s->state = SPAN_FREE;
    s->needzero = 1;
    s->scavenged = 0;
    gc__span_t *t = free_neighbour(s->base - 1, 0, s->base);
    if (t)
        absorb(s, t);
    uintptr_t end = s->base + (s->npages << GC_PAGE_SHIFT);
    t = free_neighbour(end, end, 0);
    if (t)
        absorb(s, t);
    free_insert(s);
    runtime__unlock(&gc__heap.lock);
}

uint64_t gc__heap_scavenge(uint64_t nbytes)
{
    uint64_t done = 0;
    runtime__lock(&gc__heap.lock);
    /* Largest spans first: fewer madvise calls, less fragmentation. */
    for (gc__span_t *s = gc__heap.freelarge.first; s && done < nbytes; s = s->next) {
        if (s->scavenged)
            continue;
        madvise((void *)s->base, s->npages << GC_PAGE_SHIFT, MADV_DONTNEED);
        s->scavenged = 1;
        done += s->npages << GC_PAGE_SHIFT;
    }
    for (uintptr_t n = GC_FREE_LISTS - 1; n > 0 && done < nbytes; n--)
        for (gc__span_t *s = gc__heap.free[n].first; s && done < nbytes; s = s->next) {
            if (s->scavenged)
                continue;
            madvise((void *)s->base, n << GC_PAGE_SHIFT, MADV_DONTNEED);
            s->scavenged = 1;
            done += n << GC_PAGE_SHIFT;
        }
    gc__heap.released += done;
    runtime__unlock(&gc__heap.lock);
    return done;
}

void gc__span_init_class(gc__span_t *s, int spanclass)
{
    int sc = spanclass >> 1;
    s->spanclass = (uint8_t)spanclass;
    if (sc == 0) {
        s->elemsize = 0;
        s->nelems = 1;
        s->divmul = 0;
        s->limit = s->base + (s->npages << GC_PAGE_SHIFT);
    } else {
        s->elemsize = gc__class_size[sc];
        s->nelems = (uint32_t)((s->npages << GC_PAGE_SHIFT) / s->elemsize);
        s->divmul = UINT32_MAX / s->elemsize + 1;
        s->limit = s->base + (uintptr_t)s->nelems * s->elemsize;
    }
    s->nbitwords = (s->nelems + 63) / 64;
    if (s->nbitwords > GC_MAX_BITWORDS)
        runtime__throw("gc: size class with too many objects per span");
    memset(s->bits_inline, 0, (size_t)s->nbitwords * 2 * sizeof(uint64_t));
    s->allocbits = &s->bits_inline[0];
    s->markbits = (_Atomic uint64_t *)&s->bits_inline[s->nbitwords];
    s->freeindex = 0;
    s->alloccount = 0;
    s->alloccache = ~(uint64_t)0;
    s->incache = 0;
}

void gc__span_refill_cache(gc__span_t *s, uint32_t from)
{
    uint32_t w = from >> 6;
    s->alloccache = w < s->nbitwords ? ~s->allocbits[w] : 0;
}
