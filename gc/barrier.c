/*
 * gc/barrier.c -- the write barrier and its bulk forms, runtime_keep_alive.
 *
 * Owns: gc_store, gc_memmove, gc_memclr, gc__cas_ptr. While no mark phase runs the
 * barrier is one predictable branch on gc__wb_enabled and a plain store.
 * While a mark runs beside the program (gc__wb_enabled) it shades the old
 * value and the new value, Go's hybrid barrier: every stack was scanned
 * at mark setup and new objects are black, so a pointer a goroutine
 * holds was marked, or is still reachable from a heap slot whose
 * overwrite will shade it.
 * May call: mark.c.
 * Invariants: gc__wb_enabled is set and cleared only with the world
 * stopped: set at mark setup, before any goroutine runs beside the mark,
 * cleared at mark termination, after which no shade is pending (the
 * barrier's grey set is flushed to the markers).
 */
#include <string.h>

#include "internal.h"

GORT_HIDDEN bool gc__wb_enabled;
static runtime_lock_t wb_lock;
static gc__work_t wb_work;   /* shared grey set for barrier shades */

void gc__wb_flush(void)
{
    runtime__lock(&wb_lock);
    if (wb_work.b1) {
        gc__work_dispose(&wb_work);   /* its buffers join the global list */
        wb_work.marked_bytes = 0;
    }
    runtime__unlock(&wb_lock);
}

/* Shades p (greys its object) during marking. */
static GORT_NOINLINE void shade(uintptr_t p)
{
    runtime__lock(&wb_lock);
    if (!wb_work.b1)
        gc__work_init(&wb_work);
    gc__mark_ptr(&wb_work, p);
    runtime__unlock(&wb_lock);
}

void gc__shade(const void *p)
{
    shade((uintptr_t)p);
}

/* Shades every word of [lo, lo+n). */
static GORT_NOINLINE void shade_range(const void *lo, size_t n)
{
    const uintptr_t *w = lo;
    for (size_t i = 0; i < n / sizeof(uintptr_t); i++)
        shade(w[i]);
}

void gc_store(void *slot, const void *ptr)
{
    if (unlikely(gc__wb_enabled)) {
        shade(*(uintptr_t *)slot);
        shade((uintptr_t)ptr);
    }
    *(const void **)slot = ptr;
}

void gc_memmove(void *dst, const void *src, size_t n)
{
    if (unlikely(gc__wb_enabled)) {
        shade_range(dst, n);
        shade_range(src, n);
    }
    memmove(dst, src, n);
}

void gc_memclr(void *dst, size_t n)
{
    if (unlikely(gc__wb_enabled))
        shade_range(dst, n);
    memset(dst, 0, n);
}

bool gc__cas_ptr(void *slot, void *old, void *new)
{
    if (unlikely(gc__wb_enabled)) {
        shade((uintptr_t)old);
        shade((uintptr_t)new);
    }
    return __atomic_compare_exchange_n((void **)slot, &old, new, false,
                                       __ATOMIC_SEQ_CST, __ATOMIC_RELAXED);
}

GORT_NOINLINE void runtime_keep_alive(const void *obj)
{
    __asm__ volatile("" : : "r"(obj) : "memory");
}
