/*
 * gc/sweep.c -- sweeping: unmarked objects become free slots.
 *
 * Owns: sweeping one span (its mark bits become its alloc bits), the
 * sweep cursor over the central unswept lists, proportional sweeping by
 * allocators, the background sweeper goroutine, and finishing the sweep
 * before the next mark.
 * May call: mcentral.c, mheap.c, sched park/ready/gosched.
 * Invariants: only the claimer of a span (sweepgen h-1) touches its bits;
 * a swept span's mark bits are all clear; every span is swept before the
 * next cycle marks (gc__finish_sweep with the world stopped).
 */
#include <string.h>

#include "internal.h"

static _Atomic int sweep_cursor;            /* next span class to look at */
static _Atomic uint64_t pages_swept;        /* cumulative */
static uint64_t pages_basis, live_basis;    /* at the last mark termination */
static _Atomic(double) pages_per_byte;      /* 0: no proportional sweeping */

static runtime_lock_t sweeper_lock;
static g_t *sweeper_g;
static bool sweeper_idle;

bool gc__sweep_span(gc__span_t *s, bool preserve)
{
    uint32_t sg = atomic_load(&gc__heap.sweepgen);
    if (atomic_load_explicit(&s->sweepgen, memory_order_relaxed) != sg - 1)
        runtime__throw("gc: sweeping a span that is not claimed");
    atomic_fetch_add_explicit(&pages_swept, s->npages, memory_order_relaxed);
    if (s->incache)
        runtime__throwf("gc: sweeping cached span %#lx", (unsigned long)s->base);
    uint64_t elemsize = gc__span_elemsize(s);
    uint32_t nalloc = 0;
    for (uint32_t i = 0; i < s->nbitwords; i++)
        nalloc += (uint32_t)__builtin_popcountll(atomic_load_explicit(&s->markbits[i], memory_order_relaxed));
    if (nalloc > s->alloccount)
        runtime__throwf("gc: span %#lx marks %u objects but holds %u",
                        (unsigned long)s->base, nalloc, s->alloccount);
    uint64_t nfreed = s->alloccount - nalloc;
    if (nfreed) {
        atomic_fetch_add_explicit(&gc__state.nfree, nfreed, memory_order_relaxed);
        atomic_fetch_add_explicit(&gc__state.total_free, nfreed * elemsize, memory_order_relaxed);
    }
    if (nalloc == 0 && !preserve) {
        atomic_store_explicit(&s->sweepgen, sg, memory_order_release);
        gc__heap_free(s);
        return false;
    }
    /* The mark bits become the alloc bits; the old alloc bits, cleared,
     * the next cycle's mark bits. */
    uint64_t *old = s->allocbits;
    s->allocbits = (uint64_t *)s->markbits;
    s->markbits = (_Atomic uint64_t *)old;
    memset(old, 0, (size_t)s->nbitwords * sizeof(uint64_t));
    s->freeindex = 0;
    s->alloccount = nalloc;
    gc__span_refill_cache(s, 0);
    if (nfreed)
        s->needzero = 1;
    atomic_store_explicit(&s->sweepgen, sg, memory_order_release);
    if (!preserve)
        gc__central_put_swept(s);
    return true;
}

bool gc__sweep_one(void)
{
    uint32_t sg = atomic_load(&gc__heap.sweepgen);
    for (int i = atomic_load(&sweep_cursor); i < GC_NUM_SPANCLASS; i++) {
        gc__central_t *c = &gc__central[i];
        runtime__lock(&c->lock);
        gc__span_t *s = gc__central_claim(gc__partial_unswept(c, sg), sg);
        if (!s)
            s = gc__central_claim(gc__full_unswept(c, sg), sg);
        runtime__unlock(&c->lock);
        if (s) {
            gc__sweep_span(s, false);
            return true;
        }
        int want = i;
        atomic_compare_exchange_strong(&sweep_cursor, &want, i + 1);
    }
    return false;
}

void gc__finish_sweep(void)
{
    while (gc__sweep_one()) {}
}

void gc__sweep_setup(void)
{
    atomic_store(&sweep_cursor, 0);
    pages_basis = atomic_load(&pages_swept);
    live_basis = atomic_load(&gc__state.heap_live);
    uint64_t trigger = atomic_load(&gc__state.trigger);
    uint64_t dist = trigger > live_basis ? trigger - live_basis : 0;
    if (dist < (1u << 20))
        dist = 1u << 20;
    uint64_t pages = gc__heap.inuse >> GC_PAGE_SHIFT;
    atomic_store(&pages_per_byte, (double)pages / (double)dist);
}

void gc__sweep_credit(void)
{
    double ppb = atomic_load_explicit(&pages_per_byte, memory_order_relaxed);
    if (ppb == 0)
        return;
    uint64_t live = atomic_load_explicit(&gc__state.heap_live, memory_order_relaxed);
    if (live <= live_basis)
        return;
    uint64_t target = (uint64_t)((double)(live - live_basis) * ppb);
    while (atomic_load_explicit(&pages_swept, memory_order_relaxed) - pages_basis < target) {
        if (!gc__sweep_one()) {
            atomic_store(&pages_per_byte, 0.0);
            break;
        }
    }
}

/* The background sweeper goroutine: sweeps while there is work, yielding
 * often, then parks until the next cycle. */
void gc__bgsweep(void *arg)
{
    (void)arg;
    sweeper_g = sched__getg();
    for (;;) {
        int n = 0;
        while (gc__sweep_one())
            if (++n % 16 == 0)
                sched__gosched();
        runtime__lock(&sweeper_lock);
        sweeper_idle = true;
        sched__parkunlock(&sweeper_lock, "GC sweep wait");
    }
}

void gc__sweeper_wake(void)
{
    runtime__lock(&sweeper_lock);
    if (sweeper_idle && sweeper_g) {
        sweeper_idle = false;
        sched__ready(sweeper_g, false);
    }
    runtime__unlock(&sweeper_lock);
}
