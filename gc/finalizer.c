/*
 * gc/finalizer.c -- runtime_set_finalizer and the finalizer goroutine.
 *
 * Owns: the table object -> finalizer (jemalloc memory, NOT a root: it
 * must not keep its objects alive), the queue of finalizers due to run (a
 * root), and the system goroutine that runs them one at a time.
 * May call: mark.c, arena lookups, sched park/ready/go_system.
 * Invariants, as Go: while an object with a finalizer is unreachable, what
 * it references is kept (the mark phase scans it without marking it); when
 * a cycle finds it unmarked, its finalizer is queued and cleared and the
 * object is marked, so it and its referents survive until the finalizer
 * ran; a later cycle frees it if it is still unreachable.
 */
#include <string.h>

#include "internal.h"

typedef struct { uintptr_t obj; void (*fn)(void *); } fin_t;

static runtime_lock_t fin_lock;
static fin_t *tab;          /* open addressing; obj 0 empty, 1 deleted */
static size_t tab_cap, tab_n, tab_used;
static fin_t *queue;        /* due to run */
static size_t q_n, q_cap;
static g_t *fing;
static bool fing_idle;
static _Atomic uint32_t fing_started;
GORT_HIDDEN extern uintptr_t *gc__zerobase;

static inline size_t hash(uintptr_t a) { return (size_t)((a >> 3) * 0x9E3779B97F4A7C15ull); }

/* Slot of obj, or of the first free slot on its probe path. */
static fin_t *tab_find(uintptr_t obj, bool insert)
{
    size_t mask = tab_cap - 1;
    fin_t *tomb = NULL;
    for (size_t i = hash(obj) & mask;; i = (i + 1) & mask) {
        fin_t *e = &tab[i];
        if (e->obj == obj)
            return e;
        if (e->obj == 1 && !tomb)
            tomb = e;
        if (e->obj == 0)
            return insert ? (tomb ? tomb : e) : NULL;
    }
}

/* Doubles (or cleans) the table. fin_lock held. */
static void tab_grow(void)
{
    fin_t *old = tab;
    size_t oldcap = tab_cap;
    tab_cap = tab_n * 4 > 64 ? tab_n * 4 : 64;
    size_t c = 64;
    while (c < tab_cap)
        c <<= 1;
    tab_cap = c;
    tab = runtime__malloc(tab_cap * sizeof *tab);
    tab_used = 0;
    for (size_t i = 0; i < oldcap; i++)
        if (old[i].obj > 1) {
            *tab_find(old[i].obj, true) = old[i];
            tab_used++;
        }
    if (old)
        runtime__free(old, oldcap * sizeof *old);
}

/* Starts the finalizer goroutine the first time a finalizer is set. */
static void fing_loop(void *arg);

static bool in_globals(uintptr_t a);

void runtime_set_finalizer(void *objp, void (*fn)(void *obj))
{
    uintptr_t obj = (uintptr_t)objp;
    if (!objp)
        runtime__throw("runtime.SetFinalizer: first argument is nil");
    gc__span_t *s = gc__span_of_heap(obj);
    if (!s) {
        if (objp == gc__zerobase || in_globals(obj))
            return;   /* zero-size and static objects are never collected */
        runtime__throw("runtime.SetFinalizer: pointer not in allocated block");
    }
    uintptr_t idx = gc__obj_index(s, obj);
    if (s->base + idx * gc__span_elemsize(s) != obj || gc__span_isfree(s, idx))
        runtime__throw("runtime.SetFinalizer: pointer not at beginning of allocated block");
    if (fn && sched__getg() && !atomic_load(&fing_started) && !atomic_exchange(&fing_started, 1))
        sched__go_system(fing_loop, NULL);   /* else the first cycle starts it */
    runtime__lock(&fin_lock);
    if (!fn) {
        fin_t *e = tab_cap ? tab_find(obj, false) : NULL;
        if (e) {
            e->obj = 1;
            tab_n--;
        }
    } else {
        if ((tab_used + 1) * 2 > tab_cap)
            tab_grow();
        fin_t *e = tab_find(obj, true);
        if (e->obj == obj) {
            runtime__unlock(&fin_lock);
            runtime__throw("runtime.SetFinalizer: finalizer already set");
        }
        if (e->obj == 0)
            tab_used++;
        e->obj = obj;
        e->fn = fn;
        tab_n++;
    }
    runtime__unlock(&fin_lock);
}

/* Is a inside a data or bss segment? (set-finalizer on a static object) */
static bool in_globals(uintptr_t a)
{
    extern char __data_start[] __attribute__((weak)), _end[] __attribute__((weak));
    return __data_start && a >= (uintptr_t)__data_start && a < (uintptr_t)_end;
}

void gc__finalizer_mark(gc__work_t *w)
{
    runtime__lock(&fin_lock);
    for (size_t i = 0; i < tab_cap; i++) {
        uintptr_t obj = tab[i].obj;
        if (obj <= 1)
            continue;
        gc__span_t *s = gc__span_of_heap(obj);
        if (s && !gc__span_noscan(s))
            gc__scan_range(w, obj, obj + gc__span_elemsize(s));
    }
    for (size_t i = 0; i < q_n; i++)
        gc__mark_ptr(w, queue[i].obj);
    runtime__unlock(&fin_lock);
}

int gc__finalizer_collect(gc__work_t *w)
{
    int queued = 0;
    runtime__lock(&fin_lock);
    for (size_t i = 0; i < tab_cap; i++) {
        uintptr_t obj = tab[i].obj;
        if (obj <= 1)
            continue;
        gc__span_t *s = gc__span_of_heap(obj);
        uintptr_t idx = gc__obj_index(s, obj);
        if (gc__is_marked(s, idx))
            continue;
        gc__set_mark(s, idx);
        w->marked_bytes += gc__span_elemsize(s);
        if (q_n == q_cap) {
            size_t cap = q_cap ? q_cap * 2 : 64;
            fin_t *n = runtime__malloc(cap * sizeof *n);
            if (queue) {
                memcpy(n, queue, q_n * sizeof *n);
                runtime__free(queue, q_cap * sizeof *n);
            }
            queue = n;
            q_cap = cap;
        }
        queue[q_n++] = tab[i];
        tab[i].obj = 1;
        tab_n--;
        queued++;
    }
    runtime__unlock(&fin_lock);
    return queued;
}

void gc__finalizer_wake(void)
{
    if (!atomic_load(&fing_started) && tab_n + q_n > 0 && !atomic_exchange(&fing_started, 1))
        sched__go_system(fing_loop, NULL);   /* first set from a foreign thread */
    runtime__lock(&fin_lock);
    if (fing_idle && q_n) {
        fing_idle = false;
        sched__ready(fing, false);
    }
    runtime__unlock(&fin_lock);
}

/* The finalizer goroutine: runs queued finalizers, oldest first. */
static void fing_loop(void *arg)
{
    (void)arg;
    fing = sched__getg();
    size_t head = 0;
    for (;;) {
        runtime__lock(&fin_lock);
        if (head >= q_n) {
            q_n = head = 0;
            fing_idle = true;
            sched__parkunlock(&fin_lock, "finalizer wait");
            continue;
        }
        fin_t e = queue[head];
        if (unlikely(gc__wb_enabled))
            gc__shade((void *)e.obj);   /* leaves a root the mark may not have read */
        queue[head++].obj = 0;
        runtime__unlock(&fin_lock);
        e.fn((void *)e.obj);
        runtime_keep_alive((void *)e.obj);
    }
}
