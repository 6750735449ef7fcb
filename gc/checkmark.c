/*
 * gc/checkmark.c -- GODEBUG=gccheckmark=1: after each mark, mark again
 * with the world stopped and report what the first mark missed.
 *
 * At mark termination, once the concurrent mark is complete, every
 * in-use span's mark bits are set aside and cleared, and the heap is
 * marked again from the roots with the world stopped (no barrier can
 * matter then). An object this second mark reaches that the first one
 * did not is one the concurrent mark would have freed while reachable:
 * almost always a pointer stored without gc_store. It is reported, with
 * the object or root that points at it, and the program ends with Go's
 * "fatal error: checkmark found unmarked object". Otherwise the two sets
 * are merged (the first holds black allocations and floating garbage the
 * second does not) and the cycle goes on.
 *
 * May call: mark.c, roots.c, finalizer.c, the fatal path. Context: the
 * cycle's goroutine, world stopped, gc__shared_lock held.
 */
#include <string.h>

#include "internal.h"

typedef struct {
    gc__span_t *s;
    uint64_t *saved;                /* the first mark's bits */
} ck_span_t;

static ck_span_t *spans;
static size_t nspans, capspans;

/* Calls fn for every in-use span (at its first page). */
static void for_each_span(void (*fn)(gc__span_t *s, void *arg), void *arg)
{
    uintptr_t lo = atomic_load(&gc__heap_lo), hi = atomic_load(&gc__heap_hi);
    for (uintptr_t a = lo >> GC_ARENA_SHIFT; a < (hi + GC_ARENA_SIZE - 1) >> GC_ARENA_SHIFT; a++) {
        gc__arena_t *ar = gc__arenas[a];
        if (ar == NULL)
            continue;
        for (uintptr_t pg = 0; pg < GC_ARENA_PAGES; pg++) {
            gc__span_t *s = ar->spans[pg];
            uintptr_t base = (a << GC_ARENA_SHIFT) + (pg << GC_PAGE_SHIFT);
            if (s && s->state == SPAN_INUSE && s->base == base)
                fn(s, arg);
        }
    }
}

/* Sets s's mark bits aside and clears them. */
static void save_bits(gc__span_t *s, void *arg)
{
    (void)arg;
    if (nspans == capspans) {
        size_t ncap = capspans ? 2 * capspans : 1024;
        ck_span_t *n = runtime__malloc(ncap * sizeof *n);
        memcpy(n, spans, nspans * sizeof *n);
        runtime__free(spans, capspans * sizeof *spans);
        spans = n;
        capspans = ncap;
    }
    uint64_t *saved = runtime__malloc(s->nbitwords * sizeof(uint64_t));
    for (uint32_t i = 0; i < s->nbitwords; i++)
        saved[i] = atomic_exchange_explicit(&s->markbits[i], 0, memory_order_relaxed);
    spans[nspans++] = (ck_span_t){s, saved};
}

/* The second mark, from the roots, world stopped; self_lo bounds the
 * collector's own stack (gc__stackscan_recheck). */
static void remark(uintptr_t self_lo)
{
    gc__work_t w;
    gc__work_init(&w);
    gc__mark_roots(&w);
    gc__stackscan_recheck(&w, self_lo);
    gc__finalizer_mark(&w);
    gc__drain(&w);
    gc__work_dispose(&w);
}

/* Prints the first word of [lo, hi) that points into [obj, obj+size). */
static bool report_referrer(uintptr_t lo, uintptr_t hi, uintptr_t obj, uintptr_t size,
                            const char *what)
{
    for (uintptr_t a = (lo + 7) & ~(uintptr_t)7; a + 8 <= hi; a += 8) {
        uintptr_t v = *(volatile uintptr_t *)a;
        if (v - obj < size) {
            runtime__printf("runtime: found obj at *(%#lx+%#lx) (%s)\n", (unsigned long)lo,
                            (unsigned long)(a - lo), what);
            return true;
        }
    }
    return false;
}

/* Looks for who points at obj: the objects both marks reached. */
static void find_referrer(uintptr_t obj, uintptr_t size)
{
    for (size_t i = 0; i < nspans; i++) {
        gc__span_t *s = spans[i].s;
        if (gc__span_noscan(s))
            continue;
        uintptr_t es = gc__span_elemsize(s);
        for (uint32_t k = 0; k < s->nelems; k++)
            if (gc__is_marked(s, k) && (spans[i].saved[k >> 6] >> (k & 63) & 1) &&
                report_referrer(s->base + k * es, s->base + (k + 1) * es, obj, size,
                                "a heap object the concurrent mark had marked"))
                return;
    }
    runtime__printf("runtime: no marked object points at it: a root (a global, a "
                    "registered root or a stack) does\n");
}

/* Reports the objects of e that the second mark reached and the first
 * did not; returns how many. */
static int compare(ck_span_t *e)
{
    gc__span_t *s = e->s;
    int missed = 0;
    uintptr_t es = gc__span_elemsize(s);
    for (uint32_t i = 0; i < s->nbitwords; i++) {
        uint64_t now = atomic_load_explicit(&s->markbits[i], memory_order_relaxed);
        uint64_t miss = now & ~e->saved[i];
        while (miss && missed < 4) {
            uint32_t k = i * 64 + (uint32_t)__builtin_ctzll(miss);
            miss &= miss - 1;
            uintptr_t obj = s->base + k * es;
            runtime__printf("runtime: checkmarks found unexpected unmarked object obj=%#lx "
                            "size=%lu span=[%#lx,%#lx) %s\n", (unsigned long)obj,
                            (unsigned long)es, (unsigned long)s->base,
                            (unsigned long)s->limit, gc__span_noscan(s) ? "noscan" : "scan");
            find_referrer(obj, es);
            missed++;
        }
        missed += __builtin_popcountll(miss);
    }
    return missed;
}

GORT_NOINLINE void gc__checkmark(void)
{
    /* The caller's stack pointer at the call (the frame pointer is kept,
     * -fno-omit-frame-pointer): above it, the cycle's frames that were
     * live when the concurrent mark scanned this stack. */
    uintptr_t self_lo = (uintptr_t)__builtin_frame_address(0) + 2 * sizeof(void *);
    nspans = 0;
    for_each_span(save_bits, NULL);
    remark(self_lo);
    int missed = 0;
    for (size_t i = 0; i < nspans; i++)
        missed += compare(&spans[i]);
    if (missed > 0) {
        runtime__fatal_begin();
        runtime__fatal_error("checkmark found unmarked object");
    }
    for (size_t i = 0; i < nspans; i++) {
        gc__span_t *s = spans[i].s;
        for (uint32_t k = 0; k < s->nbitwords; k++)
            atomic_fetch_or_explicit(&s->markbits[k], spans[i].saved[k], memory_order_relaxed);
        runtime__free(spans[i].saved, s->nbitwords * sizeof(uint64_t));
    }
    gc__stackcopy_clear();
}
