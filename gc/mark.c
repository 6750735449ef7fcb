/*
 * gc/mark.c -- tricolor marking: grey work buffers and conservative scans.
 *
 * Owns: the global lists of full and empty work buffers, a marker's
 * two-buffer grey set (gc__work_t, as Go's gcWork), greying an address
 * (address -> span -> slot -> atomic mark bit), scanning a range word by
 * word, and draining.
 * May call: arena lookups, runtime__malloc, runtime locks.
 * Invariants: white = mark bit clear; grey = marked and in a work buffer
 * (only scannable objects are ever grey); black = marked and scanned.
 * A free slot is never marked. Mark bits are set by atomic OR, so several
 * markers may share the heap.
 */
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <string.h>

#include "internal.h"

_Atomic uint32_t gc__phase;
_Atomic uint64_t gc__oblets;

static runtime_lock_t work_lock;
static gc__workbuf_t *work_full, *work_empty;
static _Atomic uint32_t work_nfull;   /* buffers on work_full */

/* An empty work buffer from the pool (or jemalloc). */
static gc__workbuf_t *getempty(void)
{
    runtime__lock(&work_lock);
    gc__workbuf_t *b = work_empty;
    if (b)
        work_empty = b->next;
    runtime__unlock(&work_lock);
    if (!b)
        b = runtime__malloc(sizeof *b);
    b->n = 0;
    b->next = NULL;
    return b;
}

static void putempty(gc__workbuf_t *b)
{
    runtime__lock(&work_lock);
    b->next = work_empty;
    work_empty = b;
    runtime__unlock(&work_lock);
}

static void putfull(gc__workbuf_t *b)
{
    runtime__lock(&work_lock);
    b->next = work_full;
    work_full = b;
    atomic_fetch_add_explicit(&work_nfull, 1, memory_order_relaxed);
    runtime__unlock(&work_lock);
}

static gc__workbuf_t *trygetfull(void)
{
    if (!__atomic_load_n(&work_full, __ATOMIC_RELAXED))
        return NULL;
    runtime__lock(&work_lock);
    gc__workbuf_t *b = work_full;
    if (b) {
        work_full = b->next;
        atomic_fetch_sub_explicit(&work_nfull, 1, memory_order_relaxed);
    }
    runtime__unlock(&work_lock);
    return b;
}

void gc__work_init(gc__work_t *w)
{
    w->b1 = getempty();
    w->b2 = getempty();
    w->marked_bytes = 0;
}

void gc__work_dispose(gc__work_t *w)
{
    if (w->b1->n)
        putfull(w->b1);
    else
        putempty(w->b1);
    if (w->b2->n)
        putfull(w->b2);
    else
        putempty(w->b2);
    w->b1 = w->b2 = NULL;
}

/* Slow half of push: both buffers full. */
static GORT_NOINLINE void push_slow(gc__work_t *w, uintptr_t obj)
{
    gc__workbuf_t *b = w->b1;
    w->b1 = w->b2;
    w->b2 = b;
    if (w->b1->n == GC_WORKBUF_N) {
        putfull(w->b1);
        w->b1 = getempty();
    }
    w->b1->obj[w->b1->n++] = obj;
}

static inline void push(gc__work_t *w, uintptr_t obj)
{
    gc__workbuf_t *b = w->b1;
    if (likely(b->n < GC_WORKBUF_N))
        b->obj[b->n++] = obj;
    else
        push_slow(w, obj);
}

/* Pops a grey object; false when this marker and the global list are
 * empty. */
static inline bool pop(gc__work_t *w, uintptr_t *obj)
{
    gc__workbuf_t *b = w->b1;
    if (likely(b->n)) {
        *obj = b->obj[--b->n];
        return true;
    }
    w->b1 = w->b2;
    w->b2 = b;
    b = w->b1;
    if (b->n) {
        *obj = b->obj[--b->n];
        return true;
    }
    gc__workbuf_t *f = trygetfull();
    if (!f)
        return false;
    putempty(w->b1);
    w->b1 = f;
    *obj = f->obj[--f->n];
    return true;
}

/* Greys the object holding p; p is known to lie in [heap_lo, heap_hi). */
static inline void grey(gc__work_t *w, uintptr_t p)
{
    gc__arena_t *ar = gc__arenas[p >> GC_ARENA_SHIFT];
    if (!ar)
        return;
    gc__span_t *s = gc__span_in_arena(ar, p);
    if (!s)
        return;
    uintptr_t idx = gc__obj_index(s, p);
    if (gc__span_isfree(s, idx))
        return;
    if (!gc__set_mark(s, idx))
        return;
    uintptr_t size = gc__span_elemsize(s);
    w->marked_bytes += size;
    if (!gc__span_noscan(s))   /* small objects carry their size along */
        push(w, (s->base + idx * size) | (size <= GC_MAX_SMALL ? size << GC_WORK_SIZE_SHIFT : 0));
}

void gc__mark_ptr(gc__work_t *w, uintptr_t p)
{
    uintptr_t lo = atomic_load_explicit(&gc__heap_lo, memory_order_relaxed);
    uintptr_t hi = atomic_load_explicit(&gc__heap_hi, memory_order_relaxed);
    if (p - lo < hi - lo)
        grey(w, p);
}

/* Scans [lo, hi) word by word (the hot loop of marking). */
static inline __attribute__((always_inline)) GORT_NO_SANITIZE void
scan_block(gc__work_t *w, uintptr_t lo, uintptr_t hi)
{
    uintptr_t hlo = atomic_load_explicit(&gc__heap_lo, memory_order_relaxed);
    uintptr_t hlen = atomic_load_explicit(&gc__heap_hi, memory_order_relaxed) - hlo;
    lo = (lo + 7) & ~(uintptr_t)7;
    for (uintptr_t a = lo; a + 8 <= hi; a += 8) {
        uintptr_t v = *(volatile uintptr_t *)a;
        if (v - hlo < hlen)
            grey(w, v);
    }
}

/* Scans the piece of a large object that starts at p: the whole object
 * is GC_OBLET_BYTES pieces, of which the one at its base queues the
 * others, so that markers and assists share it and stop between pieces.
 * Returns the piece's cost in budget units. */
static GORT_NOINLINE GORT_NO_SANITIZE int scan_large(gc__work_t *w, uintptr_t p)
{
    gc__span_t *s = gc__span_in_arena(gc__arenas[p >> GC_ARENA_SHIFT], p);
    uintptr_t end = s->base + gc__span_elemsize(s);
    uintptr_t hi = end - p > GC_OBLET_BYTES ? p + GC_OBLET_BYTES : end;
    if (p == s->base && hi < end) {
        uint64_t n = 0;
        for (uintptr_t q = hi; q < end; q += GC_OBLET_BYTES, n++)
            push(w, q);
        atomic_fetch_add_explicit(&gc__oblets, n, memory_order_relaxed);
    }
    scan_block(w, p, hi);
    return GC_OBLET_COST;
}

/* Scans a work buffer entry: a small object with its size in the top
 * bits, else a piece of a large object. Returns its cost in budget units
 * (1 for a small object). */
static inline __attribute__((always_inline)) int scan_entry(gc__work_t *w, uintptr_t obj)
{
    uintptr_t size = obj >> GC_WORK_SIZE_SHIFT;
    if (unlikely(!size))
        return scan_large(w, obj);
    obj &= ((uintptr_t)1 << GC_WORK_SIZE_SHIFT) - 1;
    scan_block(w, obj, obj + size);
    return 1;
}

GORT_NO_SANITIZE void gc__scan_range(gc__work_t *w, uintptr_t lo, uintptr_t hi)
{
    scan_block(w, lo, hi);
}

/* Parallel marking state (one mark phase at a time, world stopped). */
static int mark_nproc = 1;            /* markers taking part */
static _Atomic int mark_nwait;        /* markers out of work */

/* Shares work with idle markers: gives a buffer to the global list. */
static GORT_NOINLINE void balance(gc__work_t *w)
{
    if (w->b2->n) {
        putfull(w->b2);
        w->b2 = getempty();
    } else if (w->b1->n > 8) {
        gc__workbuf_t *b = getempty();
        uintptr_t half = w->b1->n / 2;
        memcpy(b->obj, w->b1->obj + w->b1->n - half, half * sizeof(uintptr_t));
        b->n = half;
        w->b1->n -= half;
        putfull(b);
    }
}

/* Drains w's own work until it and the global list are empty. */
static void drain_local(gc__work_t *w)
{
    /* A small FIFO between popping and scanning: each object is prefetched
     * GC_PREFETCH_DEPTH objects before it is scanned, hiding the miss. */
    uintptr_t q[GC_PREFETCH_DEPTH];
    unsigned head = 0, n = 0;
    for (;;) {
        uintptr_t obj;
        while (n < GC_PREFETCH_DEPTH && pop(w, &obj)) {
            __builtin_prefetch((void *)(obj & (((uintptr_t)1 << GC_WORK_SIZE_SHIFT) - 1)));
            q[(head + n++) % GC_PREFETCH_DEPTH] = obj;
        }
        if (n == 0)
            return;
        obj = q[head];
        head = (head + 1) % GC_PREFETCH_DEPTH;
        n--;
        scan_entry(w, obj);
        if (mark_nproc > 1 && !__atomic_load_n(&work_full, __ATOMIC_RELAXED) &&
            atomic_load_explicit(&mark_nwait, memory_order_relaxed) > 0)
            balance(w);
    }
}

void gc__work_share(gc__work_t *w)
{
    if (!__atomic_load_n(&work_full, __ATOMIC_RELAXED) && (w->b2->n || w->b1->n > 8))
        balance(w);
}

bool gc__work_pending(void)
{
    return __atomic_load_n(&work_full, __ATOMIC_SEQ_CST) != NULL;
}

bool gc__drain_some(gc__work_t *w, int budget)
{
    uintptr_t obj;
    for (int i = 0, done = 0; done < budget; i++) {
        if (!pop(w, &obj))
            return true;
        done += scan_entry(w, obj);
        if ((i & (GC_SHARE_EVERY - 1)) == 0 &&
            atomic_load_explicit(&sched__gomaxprocs, memory_order_relaxed) > 1) {
            gc__work_share(w);   /* keep the global list fed for other markers */
            /* A stop of the world waits for this P: the marker (on g0 or
             * in runtime code, where no signal stops it) ends its turn. */
            if (atomic_load_explicit(&sched__sched.gcwaiting, memory_order_relaxed))
                return false;
        }
    }
    return false;
}

/* Marks until no marker has grey objects left (termination: every marker
 * waits and the global list is empty). */
static void drain_shared(gc__work_t *w)
{
    for (;;) {
        drain_local(w);
        atomic_fetch_add(&mark_nwait, 1);
        for (int spins = 0;; spins++) {
            if (__atomic_load_n(&work_full, __ATOMIC_SEQ_CST)) {
                atomic_fetch_sub(&mark_nwait, 1);
                break;
            }
            if (atomic_load(&mark_nwait) == mark_nproc &&
                !__atomic_load_n(&work_full, __ATOMIC_SEQ_CST))
                return;
            if (spins < 100)
                __builtin_ia32_pause();
            else
                sched_yield();
        }
    }
}

/* ------------------------------------------------------------------ */
/* mark helper threads: plain threads (no M, no P) that mark with the   */
/* collector while the world is stopped, one per extra P                */
/* ------------------------------------------------------------------ */

typedef struct {
    pthread_t th;
    runtime_note_t go;
    gc__work_t w;
} helper_t;

static helper_t *helpers[GC_MAX_MARK_HELPERS];   /* never freed */
static int nhelpers;
static _Atomic int helpers_running;
static runtime_note_t helpers_done;

/* A helper thread: marks each time the collector wakes it. */
static void *helper_main(void *arg)
{
    helper_t *h = arg;
    for (;;) {
        runtime__notesleep(&h->go);
        runtime__noteclear(&h->go);
        drain_shared(&h->w);
        if (atomic_fetch_sub(&helpers_running, 1) == 1)
            runtime__notewakeup(&helpers_done);
    }
    return NULL;
}

void gc__drain(gc__work_t *w)
{
    int procs = atomic_load(&sched__gomaxprocs);
    int want = procs - 1 < GC_MAX_MARK_HELPERS ? procs - 1 : GC_MAX_MARK_HELPERS;
    while (nhelpers < want) {   /* the pool grows, never shrinks */
        helper_t *h = runtime__malloc(sizeof *h);
        gc__work_init(&h->w);
        sigset_t all, old;   /* signals belong to Ms, never to helpers */
        sigfillset(&all);
        pthread_sigmask(SIG_SETMASK, &all, &old);
        int err = pthread_create(&h->th, NULL, helper_main, h);
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        if (err != 0) {
            gc__work_dispose(&h->w);
            runtime__free(h, sizeof *h);
            break;
        }
        helpers[nhelpers++] = h;
    }
    int use = want < nhelpers ? want : nhelpers;
    /* Waking helper threads costs more than a little work (a mark
     * termination that finds the concurrent mark's leftovers). */
    if (atomic_load_explicit(&work_nfull, memory_order_relaxed) < GC_PARALLEL_MIN_BUFS)
        use = 0;
    if (use <= 0) {
        mark_nproc = 1;
        drain_local(w);
        return;
    }
    mark_nproc = use + 1;
    atomic_store(&mark_nwait, 0);
    runtime__noteclear(&helpers_done);
    atomic_store(&helpers_running, use);
    balance(w);
    for (int i = 0; i < use; i++)
        runtime__notewakeup(&helpers[i]->go);
    drain_shared(w);
    runtime__notesleep(&helpers_done);
    for (int i = 0; i < use; i++) {
        w->marked_bytes += helpers[i]->w.marked_bytes;
        helpers[i]->w.marked_bytes = 0;
    }
    mark_nproc = 1;
}
