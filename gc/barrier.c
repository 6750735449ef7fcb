/*
 * gc/barrier.c -- the write barrier and its bulk forms, runtime_keep_alive.
 *
 * Owns: gc_store, gc_memmove, gc_memclr, gc__cas_ptr. While no mark phase runs the
 * barrier is one predictable branch on gc__wb_enabled and a plain store.
 * With gc__wb_enabled it shades the old value and the new value (Go's
 * hybrid barrier), for a mark that runs beside goroutines; the collector
 * marks with the world stopped and leaves it false.
 * May call: mark.c.
 * Invariants: gc__wb_enabled is set only with the world stopped, before
 * any goroutine can run with the mark phase on.
 */
#include <string.h>

#include "internal.h"

GORT_HIDDEN bool gc__wb_enabled;
static runtime_lock_t wb_lock;
static gc__work_t wb_work;   /* shared grey set for barrier shades */

/* Shades p (greys its object) during marking. */
static GORT_NOINLINE void shade(uintptr_t p)
{
    runtime__lock(&wb_lock);
    if (!wb_work.b1)
        gc__work_init(&wb_work);
    gc__mark_ptr(&wb_work, p);
    runtime__unlock(&wb_lock);
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
