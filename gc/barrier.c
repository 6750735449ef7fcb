/*
 * gc/barrier.c -- the write barrier and its bulk forms, runtime_keep_alive.
 *
 * Owns: gc_store, gc_memmove, gc_memclr, gc__cas_ptr, and each P's
 * buffer of pointers to shade. While no mark phase runs the barrier is
 * one predictable branch on gc__wb_enabled and a plain store. While a
 * mark runs beside the program (gc__wb_enabled) it shades the old value
 * and the new value, Go's hybrid barrier: a goroutine's stack is scanned
 * while it is stopped, before it next runs (stackscan.c), and new objects
 * are black, so a pointer a scanned goroutine holds was marked, or is
 * still reachable from a slot whose overwrite will shade it; shading the
 * new value covers the goroutines not scanned yet, whose stacks the
 * pointer may leave.
 * May call: mark.c.
 * Invariants: gc__wb_enabled is set and cleared only with the world
 * stopped: set at mark setup, before any goroutine runs beside the mark,
 * cleared at mark termination, after which no shade is pending (every
 * P's buffer and grey set is flushed to the markers, world stopped).
 */
#include <string.h>

#include "internal.h"

bool gc__wb_enabled;   /* exported: gort.h inlines the test */

/* A P's buffer of pointers to shade, as Go's wbBuf: the barrier appends
 * to it with plain stores (the P is the M's and the runtime's code is
 * never preempted), and greys the lot into the P's own grey set when it
 * fills, so no lock is taken per store. */
typedef struct {
    uint32_t n;
    bool winit;                    /* w holds buffers this cycle */
    gc__work_t w;
    uintptr_t ptr[GC_WBBUF_N];
} wbbuf_t;

static runtime_lock_t wb_lock;
static gc__work_t wb_work;   /* shared grey set of threads without a P */

/* Greys b's pointers into the P's grey set. The P's owner, or the world
 * stopped. */
static void wbbuf_drain(wbbuf_t *b)
{
    if (!b->winit) {
        gc__work_init(&b->w);
        b->winit = true;
    }
    for (uint32_t i = 0; i < b->n; i++)
        gc__mark_ptr(&b->w, b->ptr[i]);
    b->n = 0;
    gc__work_share(&b->w);   /* for the markers, when they run dry */
}

/* Hands what b holds to the markers' global list. World stopped. */
static void wbbuf_flush(wbbuf_t *b)
{
    wbbuf_drain(b);
    gc__note_marked(b->w.marked_bytes);
    gc__work_dispose(&b->w);
    b->winit = false;
}

void gc__wb_p_init(p_t *p)
{
    if (!p->gcwb) {
        wbbuf_t *b = runtime__malloc(sizeof *b);
        b->n = 0;
        b->winit = false;
        p->gcwb = b;
    }
}

void gc__wb_p_flush(p_t *p)
{
    if (p->gcwb)
        wbbuf_flush(p->gcwb);
}

void gc__wb_flush(void)
{
    int procs = atomic_load(&sched__gomaxprocs);
    for (int i = 0; i < procs; i++)
        if (sched__allp[i])
            gc__wb_p_flush(sched__allp[i]);
    runtime__lock(&wb_lock);
    if (wb_work.b1) {
        gc__note_marked(wb_work.marked_bytes);
        gc__work_dispose(&wb_work);   /* its buffers join the global list */
    }
    runtime__unlock(&wb_lock);
}

/* Greys p into the shared set (a thread without a P). */
static GORT_NOINLINE void shade_locked(uintptr_t p)
{
    runtime__lock(&wb_lock);
    if (!wb_work.b1)
        gc__work_init(&wb_work);
    gc__mark_ptr(&wb_work, p);
    runtime__unlock(&wb_lock);
}

/* Shades a and b (greys their objects) during marking: into the P's
 * buffer when they point into the heap. */
static GORT_NOINLINE void shade2(uintptr_t a, uintptr_t b)
{
    uintptr_t lo = atomic_load_explicit(&gc__heap_lo, memory_order_relaxed);
    uintptr_t len = atomic_load_explicit(&gc__heap_hi, memory_order_relaxed) - lo;
    bool ha = a - lo < len, hb = b - lo < len;
    if (!ha && !hb)
        return;
    m_t *m = sched__getm();
    wbbuf_t *buf = m && m->p ? m->p->gcwb : NULL;
    if (unlikely(buf == NULL)) {
        if (ha)
            shade_locked(a);
        if (hb)
            shade_locked(b);
        return;
    }
    if (unlikely(buf->n + 2 > GC_WBBUF_N))
        wbbuf_drain(buf);
    if (ha)
        buf->ptr[buf->n++] = a;
    if (hb)
        buf->ptr[buf->n++] = b;
}

/* Shades p during marking. */
static void shade(uintptr_t p)
{
    shade2(p, 0);
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

void (gc_store)(void *slot, const void *ptr)
{
    if (unlikely(gc__wb_enabled))
        shade2(*(uintptr_t *)slot, (uintptr_t)ptr);
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
    if (unlikely(gc__wb_enabled))
        shade2((uintptr_t)old, (uintptr_t)new);
    return __atomic_compare_exchange_n((void **)slot, &old, new, false,
                                       __ATOMIC_SEQ_CST, __ATOMIC_RELAXED);
}

GORT_NOINLINE void runtime_keep_alive(const void *obj)
{
    __asm__ volatile("" : : "r"(obj) : "memory");
}
