/*
 * gc/mcache.c -- per-P span caches and the shared cache of P-less threads.
 *
 * Owns: one span per span class for each P (used without locks or atomic
 * read-modify-writes by the goroutine running on that P) and one shared
 * cache, under gc__shared_lock, for threads that have no P (foreign
 * threads, goroutines inside a system call).
 * May call: mcentral.c.
 * Invariants: an empty slot holds &gc__emptyspan (no free slot), so the
 * allocation fast path needs no NULL test; a cached span is swept.
 */
#include "internal.h"

gc__span_t gc__emptyspan;
gc__mcache_t gc__shared_cache;
runtime_lock_t gc__shared_lock;

gc__mcache_t *gc__mcache_new(void)
{
    gc__mcache_t *c = runtime__malloc(sizeof *c);
    for (int i = 0; i < GC_NUM_SPANCLASS; i++)
        c->alloc[i] = &gc__emptyspan;
    return c;
}

void gc__mcache_refill(gc__mcache_t *c, int spc)
{
    gc__span_t *s = c->alloc[spc];
    c->alloc[spc] = &gc__emptyspan;
    if (s != &gc__emptyspan)
        gc__central_uncache(s);
    c->alloc[spc] = gc__central_cache(spc);
}

void gc__mcache_release_all(gc__mcache_t *c)
{
    for (int i = 0; i < GC_NUM_SPANCLASS; i++) {
        gc__span_t *s = c->alloc[i];
        if (s && s != &gc__emptyspan) {
            c->alloc[i] = &gc__emptyspan;
            gc__central_uncache(s);
        } else if (!s) {
            c->alloc[i] = &gc__emptyspan;
        }
    }
}

void gc__mcache_unused(gc__mcache_t *c, uint64_t *objs, uint64_t *bytes)
{
    for (int i = 0; i < GC_NUM_SPANCLASS; i++) {
        gc__span_t *s = c->alloc[i];
        if (s && s != &gc__emptyspan) {
            *objs += s->nelems - s->alloccount;
            *bytes += (uint64_t)(s->nelems - s->alloccount) * s->elemsize;
        }
    }
}
