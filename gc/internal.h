/*
 * gc/internal.h -- the garbage-collected heap and its collector, internals.
 *
 * Owns: arenas and the address -> span index (arena.c), size classes
 * (sizeclass.c), the page heap and scavenger (mheap.c), central span lists
 * (mcentral.c), per-P and shared caches (mcache.c), allocation (alloc.c),
 * marking and work buffers (mark.c), roots (roots.c), the write barrier
 * (barrier.c), sweeping (sweep.c), the cycle and pacer (cycle.c,
 * pacer.c), the mark workers (worker.c), finalizers (finalizer.c),
 * statistics and gctrace (stats.c), scheduler hooks (hooks.c).
 *
 * May call: runtime/internal.h (locks, throw, jemalloc), sched/internal.h
 * (stop/start the world, enumerate Gs, park/ready, system goroutines).
 *
 * Invariants (see docs/gc.md):
 *  - An in-use span maps its first and last page, and every page in each
 *    arena it covers only in part, to itself in its arena's page table;
 *    each arena it covers whole has it as that arena's `whole` span
 *    instead (so a huge span costs O(arenas), not O(pages)). A free span
 *    maps at least its first and last page. Other entries may be stale:
 *    lookups check the span's state and range.
 *  - A span is owned by exactly one of: a P's mcache (or the shared
 *    cache), a central list, the heap's free lists.
 *  - sweepgen: with h = gc__heap.sweepgen, a span with sweepgen h-2 needs
 *    sweeping, h-1 is being swept, h is swept (and h+1/h+3 are reserved
 *    for cached spans by the concurrent collector to come). h grows by 2
 *    per cycle, at mark termination.
 *  - Mark bits are set with atomic OR (parallel/concurrent marking).
 *
 * Lock order (the whole runtime's is in docs/HACKING.md): the cycle flag
 * gc__state.cycle_lock (by CAS) -> stop the world -> gc__shared_lock ->
 * fin_lock, roots_lock (both may take work_lock, and fin_lock readies the
 * finalizer goroutine) -> helper_lock, sweeper_lock -> sched.lock -> a
 * central lock or the heap lock (never both) -> wb_lock -> work_lock.
 */
#ifndef GORT_GC_INTERNAL_H
#define GORT_GC_INTERNAL_H

#include "../sched/internal.h"

/* ------------------------------------------------------------------ */
/* tuning constants                                                    */
/* ------------------------------------------------------------------ */

#define GC_PAGE_SHIFT     13
#define GC_PAGE_SIZE      ((uintptr_t)1 << GC_PAGE_SHIFT)      /* 8 KiB */
#define GC_ARENA_SHIFT    26
#define GC_ARENA_SIZE     ((uintptr_t)1 << GC_ARENA_SHIFT)     /* 64 MiB */
#define GC_ARENA_PAGES    (GC_ARENA_SIZE / GC_PAGE_SIZE)
#define GC_ADDR_BITS      47                                   /* user space */
#define GC_ARENA_L1       ((uintptr_t)1 << (GC_ADDR_BITS - GC_ARENA_SHIFT))
#define GC_ARENA_HINT     ((uintptr_t)0x00c0 << 32)            /* as Go */
/* Largest object the heap can reserve address space for: an allocation
 * above it fails at once (Go's maxAlloc idea, for 47-bit user space). */
#define GC_MAX_ALLOC      ((uintptr_t)1 << GC_ADDR_BITS)
#define GC_COMMIT_CHUNK   ((uintptr_t)4 << 20)  /* commit granule, Go's palloc chunk */
#define GC_NUM_CLASSES    68
#define GC_NUM_SPANCLASS  (GC_NUM_CLASSES * 2)
#define GC_MAX_SMALL      32768
#define GC_FREE_LISTS     128          /* exact-size free lists, in pages */
#define GC_HEAP_MIN       (4u << 20)   /* smallest heap goal (GOGC=100) */
#define GC_MARK_BUDGET    4096         /* objects a concurrent marker scans between yields */
#define GC_WORKBUF_N      509          /* pointers per work buffer */
#define GC_PREFETCH_DEPTH 8            /* objects prefetched ahead of scanning */
#define GC_MAX_MARK_HELPERS 63         /* mark threads besides the collector */
#define GC_PARALLEL_MIN_BUFS 4         /* full work buffers worth waking them for */
#define GC_WBBUF_N        256          /* pointers a P's barrier buffer holds */
#define GC_ASSIST_BUDGET  256          /* objects an assist scans between preemption points */
#define GC_IDLE_BUDGET    1024         /* objects an idle P scans before looking for work again */
#define GC_SHARE_EVERY    64           /* objects a concurrent marker scans between offers of work */
#define GC_ASSIST_MIN_ROOM (1u << 20)  /* smallest heap room an assist ratio assumes */
#define GC_MARK_ROUNDS    3            /* concurrent rounds before termination drains the rest */
#define GC_RETAIN_PCT     10           /* scavenger keeps goal + 10% */
#define GC_SCAVENGE_CHUNK (4u << 20)   /* bytes released per sysmon tick */
#define GC_FORCE_PERIOD_NS (120LL * 1000 * 1000 * 1000)  /* 2 minutes */
#define GC_SWEEP_BUDGET   100          /* full spans swept per refill */
#define GC_SWEEP_YIELD    64           /* spans a goroutine sweeps between yields */
#define GC_STACK_CLEAR    8192         /* dead stack zeroed before a cycle */
#define GC_MAX_BITWORDS   16           /* 1024 objects: class 1 (8 B) */

/* ------------------------------------------------------------------ */
/* spans                                                               */
/* ------------------------------------------------------------------ */

enum { SPAN_DEAD = 0, SPAN_FREE = 1, SPAN_INUSE = 2 };

typedef struct gc_span {
    struct gc_span *next, *prev;   /* list links (central / free lists) */
    struct gc_span_list *onlist;   /* the list holding it, or NULL */
    uintptr_t base;                /* first byte */
    uintptr_t limit;               /* base + nelems * elemsize */
    uintptr_t npages;
    uint32_t elemsize;             /* 0 for large spans: use npages */
    uint32_t nelems;
    uint32_t freeindex;            /* slots below are allocated */
    uint32_t alloccount;           /* allocated slots (exact when not cached) */
    uint64_t alloccache;           /* ~allocbits from freeindex, 64 slots */
    uint32_t divmul;               /* offset * divmul >> 32 = slot index */
    uint8_t spanclass;             /* sizeclass << 1 | noscan */
    uint8_t state;                 /* SPAN_* */
    uint8_t needzero;              /* memory may be dirty */
    uint8_t scavenged;             /* free span: pages returned to the OS */
    _Atomic uint32_t sweepgen;
    uint8_t incache;               /* owned by an mcache */
    uint64_t *allocbits;           /* nelems bits: allocated at last sweep */
    _Atomic uint64_t *markbits;    /* nelems bits: marked this cycle */
    uint32_t nbitwords;
    /* Both bitmaps live here, next to the span's other fields, so that
     * marking touches one more cache line, not another allocation:
     * [0, nbitwords) and [nbitwords, 2 * nbitwords); nelems <= 1024. */
    uint64_t bits_inline[2 * GC_MAX_BITWORDS];
} gc__span_t;

typedef struct gc_span_list { gc__span_t *first; uintptr_t n; } gc__span_list_t;

GORT_HIDDEN void gc__list_push(gc__span_list_t *l, gc__span_t *s);
GORT_HIDDEN void gc__list_remove(gc__span_list_t *l, gc__span_t *s);
GORT_HIDDEN gc__span_t *gc__list_pop(gc__span_list_t *l);

static inline bool gc__span_noscan(const gc__span_t *s) { return s->spanclass & 1; }
static inline int gc__span_sizeclass(const gc__span_t *s) { return s->spanclass >> 1; }
static inline uintptr_t gc__span_elemsize(const gc__span_t *s)
{
    return s->elemsize ? s->elemsize : s->npages << GC_PAGE_SHIFT;
}
static inline bool gc__span_isfree(const gc__span_t *s, uintptr_t idx)
{
    return idx >= s->freeindex && !((s->allocbits[idx >> 6] >> (idx & 63)) & 1);
}

/* ------------------------------------------------------------------ */
/* size classes (sizeclass.c)                                          */
/* ------------------------------------------------------------------ */

GORT_HIDDEN extern const uint16_t gc__class_size[GC_NUM_CLASSES];
GORT_HIDDEN extern const uint8_t gc__class_npages[GC_NUM_CLASSES];
GORT_HIDDEN extern uint8_t gc__size_to_class8[1024 / 8 + 1];
GORT_HIDDEN extern uint8_t gc__size_to_class128[(GC_MAX_SMALL - 1024) / 128 + 1];
GORT_HIDDEN void gc__sizeclass_init(void);

static inline int gc__size_class(size_t size)
{
    if (size <= 1024)
        return gc__size_to_class8[(size + 7) >> 3];
    return gc__size_to_class128[(size - 1024 + 127) >> 7];
}

/* ------------------------------------------------------------------ */
/* arenas (arena.c)                                                    */
/* ------------------------------------------------------------------ */

typedef struct {
    gc__span_t *spans[GC_ARENA_PAGES];   /* page -> span */
    gc__span_t *whole;                   /* in-use span covering every page, or NULL */
} gc__arena_t;

/* L1 index: arena number -> metadata (NULL if not heap). mmap'd. */
GORT_HIDDEN extern gc__arena_t **gc__arenas;
/* [lo, hi) covers every arena: a cheap first filter for scanning. */
GORT_HIDDEN extern _Atomic uintptr_t gc__heap_lo, gc__heap_hi;

/* Reserves address space (PROT_NONE) for at least size bytes, arena-aligned
 * and an arena multiple; returns the base, or 0 if the address space has
 * no room that large. Heap lock held. */
GORT_HIDDEN uintptr_t gc__arena_reserve(uintptr_t size);
/* Commits reserved [a, a+n) as read-write memory; a refusal by the kernel
 * (ENOMEM: more than RAM and swap can back under its overcommit policy)
 * is Go's "fatal error: runtime: out of memory". Heap lock held. */
GORT_HIDDEN void gc__arena_commit(uintptr_t a, uintptr_t n);
/* Registers reserved [base, base+size): page tables, heap bounds. */
GORT_HIDDEN void gc__arena_register(uintptr_t base, uintptr_t size);
GORT_HIDDEN void gc__arena_init(void);

/* Page map entry of address a, any state: the span holding a's page when
 * that page is mapped (see the invariants above), else NULL or a stale
 * span; callers check state and range. */
static inline gc__span_t *gc__span_lookup(uintptr_t a)
{
    if (a >> GC_ADDR_BITS)
        return NULL;
    gc__arena_t *ar = gc__arenas[a >> GC_ARENA_SHIFT];
    if (!ar)
        return NULL;
    return ar->spans[(a >> GC_PAGE_SHIFT) & (GC_ARENA_PAGES - 1)];
}

/* In-use span whose objects cover a, in a's arena ar: the page map, and on
 * a miss the arena's whole span (the interior of a huge span). */
static inline gc__span_t *gc__span_in_arena(gc__arena_t *ar, uintptr_t a)
{
    gc__span_t *s = ar->spans[(a >> GC_PAGE_SHIFT) & (GC_ARENA_PAGES - 1)];
    if (!s || s->state != SPAN_INUSE || a < s->base || a >= s->limit) {
        s = ar->whole;
        if (!s || a < s->base || a >= s->limit)
            return NULL;
    }
    return s;
}

/* In-use span whose objects cover a, or NULL. */
static inline gc__span_t *gc__span_of_heap(uintptr_t a)
{
    if (a >> GC_ADDR_BITS)
        return NULL;
    gc__arena_t *ar = gc__arenas[a >> GC_ARENA_SHIFT];
    return ar ? gc__span_in_arena(ar, a) : NULL;
}

static inline uintptr_t gc__obj_index(const gc__span_t *s, uintptr_t a)
{
    return (uintptr_t)(((uint64_t)(a - s->base) * s->divmul) >> 32);
}

/* ------------------------------------------------------------------ */
/* page heap (mheap.c)                                                 */
/* ------------------------------------------------------------------ */

typedef struct {
    runtime_lock_t lock;
    _Atomic uint32_t sweepgen;
    gc__span_list_t free[GC_FREE_LISTS];  /* by npages; [0] unused */
    gc__span_list_t freelarge;            /* >= GC_FREE_LISTS pages */
    uintptr_t cur, end;                  /* bump region of the last arena */
    uintptr_t committed;                 /* [.., committed) of it is read-write */
    gc__span_t *spanfree;                 /* recycled span descriptors */
    /* statistics, bytes (heap lock) */
    uint64_t sys;                        /* pages handed to the heap */
    uint64_t inuse;                      /* pages in in-use spans */
    uint64_t released;                   /* free pages returned to the OS */
    uint64_t freebytes;                  /* pages in free spans */
} gc__heap_t;

GORT_HIDDEN extern gc__heap_t gc__heap;

/* Allocates an in-use span of npages (state set, page map filled,
 * sweepgen current). Throws out of memory. Heap lock not held. */
GORT_HIDDEN gc__span_t *gc__heap_alloc(uintptr_t npages);
/* Go's failure to grow the heap by npages: "runtime: out of memory: cannot
 * allocate N-byte block (M in use)", then "fatal error: out of memory". */
GORT_HIDDEN _Noreturn void gc__heap_cannot_allocate(uintptr_t npages);
/* Returns span s to the free pages (coalescing). Heap lock not held. */
GORT_HIDDEN void gc__heap_free(gc__span_t *s);
/* Returns up to nbytes of free pages to the OS; returns bytes released. */
GORT_HIDDEN uint64_t gc__heap_scavenge(uint64_t nbytes);
/* Sets up s's object layout for a size class (0: one large object). */
GORT_HIDDEN void gc__span_init_class(gc__span_t *s, int spanclass);
/* Loads alloccache with the 64 slots from freeindex (rounded down). */
GORT_HIDDEN void gc__span_refill_cache(gc__span_t *s, uint32_t from);

/* ------------------------------------------------------------------ */
/* central lists (mcentral.c)                                          */
/* ------------------------------------------------------------------ */

typedef struct {
    runtime_lock_t lock;
    int spanclass;
    /* [sweepgen/2 % 2] is swept, the other unswept */
    gc__span_list_t partial[2];
    gc__span_list_t full[2];
} gc__central_t;

GORT_HIDDEN extern gc__central_t gc__central[GC_NUM_SPANCLASS];

static inline gc__span_list_t *gc__partial_swept(gc__central_t *c, uint32_t sg) { return &c->partial[(sg >> 1) & 1]; }
static inline gc__span_list_t *gc__partial_unswept(gc__central_t *c, uint32_t sg) { return &c->partial[((sg >> 1) & 1) ^ 1]; }
static inline gc__span_list_t *gc__full_swept(gc__central_t *c, uint32_t sg) { return &c->full[(sg >> 1) & 1]; }
static inline gc__span_list_t *gc__full_unswept(gc__central_t *c, uint32_t sg) { return &c->full[((sg >> 1) & 1) ^ 1]; }

/* A swept span of class spc with at least one free slot, for a cache. */
GORT_HIDDEN gc__span_t *gc__central_cache(int spc);
/* Pops a span of unswept list l and claims it (sweepgen h-2 -> h-1). */
GORT_HIDDEN gc__span_t *gc__central_claim(gc__span_list_t *l, uint32_t sg);
/* Gives a cached span back to its central lists. */
GORT_HIDDEN void gc__central_uncache(gc__span_t *s);
/* Puts a freshly swept span back on the swept list that fits it. */
GORT_HIDDEN void gc__central_put_swept(gc__span_t *s);

/* ------------------------------------------------------------------ */
/* caches (mcache.c)                                                   */
/* ------------------------------------------------------------------ */

typedef struct gc_mcache {
    gc__span_t *alloc[GC_NUM_SPANCLASS];
} gc__mcache_t;

GORT_HIDDEN extern gc__span_t gc__emptyspan;
GORT_HIDDEN extern gc__mcache_t gc__shared_cache;       /* threads without a P */
GORT_HIDDEN extern runtime_lock_t gc__shared_lock;

GORT_HIDDEN gc__mcache_t *gc__mcache_new(void);
/* Replaces c's span of class spc with one that has a free slot. */
GORT_HIDDEN void gc__mcache_refill(gc__mcache_t *c, int spc);
/* Gives every span of c back to the central lists. */
GORT_HIDDEN void gc__mcache_release_all(gc__mcache_t *c);
/* Unused slot count/bytes of c's spans (for exact statistics). */
GORT_HIDDEN void gc__mcache_unused(gc__mcache_t *c, uint64_t *objs, uint64_t *bytes);

/* ------------------------------------------------------------------ */
/* sweeping (sweep.c)                                                  */
/* ------------------------------------------------------------------ */

/* Sweeps s, which the caller claimed (sweepgen h-2 -> h-1). With
 * preserve, the caller keeps s (it is neither listed nor freed); returns
 * false if s was freed to the heap. */
GORT_HIDDEN bool gc__sweep_span(gc__span_t *s, bool preserve);
/* Sweeps one unswept span of any class; false when none is left. */
GORT_HIDDEN bool gc__sweep_one(void);
/* Sweeps everything left (world stopped, or any context). */
GORT_HIDDEN void gc__finish_sweep(void);
GORT_HIDDEN void gc__sweeper_wake(void);
/* Proportional sweeping: sweeps as much as the heap growth since the
 * last cycle asks, so sweeping ends before the next trigger. */
GORT_HIDDEN void gc__sweep_credit(void);
/* Mark termination: every in-use span becomes unswept. World stopped. */
GORT_HIDDEN void gc__sweep_setup(void);
GORT_HIDDEN void gc__bgsweep(void *arg);

/* ------------------------------------------------------------------ */
/* marking (mark.c)                                                    */
/* ------------------------------------------------------------------ */

/* A work buffer entry: a small object's base with its size in the top
 * 16 bits; or, with 0 there, the start of a GC_OBLET_BYTES piece of a
 * large object (its base for the first piece, which queues the others:
 * Go's oblets). A piece costs GC_OBLET_COST objects of a marker's budget
 * (its words as 64-byte objects). */
#define GC_WORK_SIZE_SHIFT 48
#define GC_OBLET_BYTES     ((uintptr_t)128 << 10)
#define GC_OBLET_COST      ((int)(GC_OBLET_BYTES / 64))

typedef struct gc_workbuf {
    struct gc_workbuf *next;
    uintptr_t n;
    uintptr_t obj[GC_WORKBUF_N];
} gc__workbuf_t;

/* A marker's grey set: two buffers, as Go's gcWork. */
typedef struct {
    gc__workbuf_t *b1, *b2;
    uint64_t marked_bytes;
} gc__work_t;

GORT_HIDDEN extern _Atomic uint32_t gc__phase;     /* GC_PHASE_* */
/* Pieces of large objects queued beside their first piece, ever (a count
 * for tests). */
GORT_HIDDEN extern _Atomic uint64_t gc__oblets;
enum { GC_PHASE_OFF = 0, GC_PHASE_MARK = 1, GC_PHASE_MARKTERM = 2 };

/* Marks with the world running: scans at most budget grey objects of w
 * and the global list (fewer once a stop of the world is pending); true
 * when none was left. */
GORT_HIDDEN bool gc__drain_some(gc__work_t *w, int budget);
/* checkmark.c (GODEBUG=gccheckmark=1): world stopped after a concurrent
 * mark, marks again from the roots and ends the program with Go's fatal
 * error if that reaches an object the concurrent mark missed. */
GORT_HIDDEN void gc__checkmark(void);
/* stackscan.c: mark setup (world stopped) opens the cycle's stack scans
 * and scans the calling G's stack into w; the walk (collecting G) scans
 * every other G of the snapshot and ends them; the recheck is
 * checkmark's look at the stacks (world stopped), each only from where
 * this cycle's scan of it began; the calling G's own only from self_lo up
 * (the frames that were live at its scan). */
GORT_HIDDEN void gc__stackscan_setup(gc__work_t *w);
GORT_HIDDEN void gc__stackscan_walk(gc__work_t *w, bool world_runs);
GORT_HIDDEN void gc__stackscan_recheck(gc__work_t *w, uintptr_t self_lo);
/* stackcopy.c: under TSan with gccheckmark, each scan keeps a copy of
 * the range it read (any M) and the recheck reads the copies (world
 * stopped); scan returns false if g has none; clear empties the table
 * (world stopped). */
GORT_HIDDEN bool gc__stackcopy_enabled(void);
GORT_HIDDEN void gc__stackcopy_save(const g_t *g, uintptr_t lo, uintptr_t hi);
GORT_HIDDEN bool gc__stackcopy_scan(gc__work_t *w, const g_t *g);
GORT_HIDDEN void gc__stackcopy_clear(void);
/* Bytes greyed by markers outside the cycle's own (stack scans on the way
 * to run, the barrier), added to the cycle's marked total. */
GORT_HIDDEN void gc__note_marked(uint64_t bytes);
/* Gives a buffer of w's grey objects to the global list if it is empty,
 * for assists and idle markers to take. */
GORT_HIDDEN void gc__work_share(gc__work_t *w);
/* Are grey objects waiting on the global list? */
GORT_HIDDEN bool gc__work_pending(void);
/* G, on the allocation slow path past the trigger while a cycle runs:
 * marks a budget of the cycle's grey objects; past the heap goal, parks
 * ("GC assist wait") until the mark is over. */
GORT_HIDDEN void gc__assist(uint64_t allocated);
/* The mark workers (worker.c), world stopped: on for a mark at procs Ps;
 * off, returning the time they marked. */
/* The split of 25% of procs: whole dedicated workers and each P's
 * fractional share of its time. */
GORT_HIDDEN void gc__workers_split(int32_t procs, int32_t *dedicated, double *fractional);
GORT_HIDDEN void gc__workers_start(int32_t procs);
GORT_HIDDEN int64_t gc__workers_stop(void);
/* Bytes the mark workers marked, ever: [0] fractional, [1] dedicated (a
 * count for tests). */
GORT_HIDDEN extern _Atomic uint64_t gc__worker_marked[2];
/* Objects are allocated black (a mark is running beside the program). */
GORT_HIDDEN extern _Atomic bool gc__black_alloc;
/* gc__wb_enabled, the barrier's switch, is declared in gort.h (its test is inline). */
/* Marks a freshly allocated object of s, slot idx, while gc__black_alloc. */
GORT_HIDDEN void gc__mark_new(gc__span_t *s, uintptr_t idx);
/* barrier.c: the barrier's grey objects go to the global list (world
 * stopped, at mark termination). */
GORT_HIDDEN void gc__wb_flush(void);
/* A P's barrier buffer: made with the P; flushed (world stopped) when the
 * P goes away. */
GORT_HIDDEN void gc__wb_p_init(p_t *p);
GORT_HIDDEN void gc__wb_p_flush(p_t *p);

/* Greys the object containing address p, if p points into the heap. */
GORT_HIDDEN void gc__mark_ptr(gc__work_t *w, uintptr_t p);
/* Conservatively scans [lo, hi) word by word. */
GORT_HIDDEN void gc__scan_range(gc__work_t *w, uintptr_t lo, uintptr_t hi);
/* Marks and scans until no grey object is left; with GOMAXPROCS > 1,
 * helper threads mark in parallel (the world is stopped). */
GORT_HIDDEN void gc__drain(gc__work_t *w);
GORT_HIDDEN void gc__work_init(gc__work_t *w);
GORT_HIDDEN void gc__work_dispose(gc__work_t *w);
/* Is the object at base (in s, slot idx) marked? */
static inline bool gc__is_marked(gc__span_t *s, uintptr_t idx)
{
    return (atomic_load_explicit(&s->markbits[idx >> 6], memory_order_relaxed) >> (idx & 63)) & 1;
}
/* Sets the mark bit of slot idx; true if it was clear. */
static inline bool gc__set_mark(gc__span_t *s, uintptr_t idx)
{
    uint64_t bit = (uint64_t)1 << (idx & 63);
    _Atomic uint64_t *word = &s->markbits[idx >> 6];
    if (atomic_load_explicit(word, memory_order_relaxed) & bit)
        return false;
    return !(atomic_fetch_or_explicit(word, bit, memory_order_relaxed) & bit);
}

/* ------------------------------------------------------------------ */
/* roots (roots.c)                                                     */
/* ------------------------------------------------------------------ */

GORT_HIDDEN void gc__roots_init(void);
/* Greys globals, registered roots and timers (beside the program). */
GORT_HIDDEN void gc__mark_roots(gc__work_t *w);
GORT_HIDDEN extern uint64_t gc__globals_bytes, gc__stack_scan_bytes;

/* ------------------------------------------------------------------ */
/* finalizers (finalizer.c)                                            */
/* ------------------------------------------------------------------ */

/* Mark phase: greys what finalizable objects reference and the queue. */
GORT_HIDDEN void gc__finalizer_mark(gc__work_t *w);
/* After marking: queues finalizers of unmarked objects (marking them). */
GORT_HIDDEN int gc__finalizer_collect(gc__work_t *w);
/* Readies the finalizer goroutine if finalizers are queued. G context. */
GORT_HIDDEN void gc__finalizer_wake(void);

/* ------------------------------------------------------------------ */
/* cycle (cycle.c) and pacer (pacer.c)                                 */
/* ------------------------------------------------------------------ */

typedef struct {
    _Atomic uint64_t heap_live;     /* bytes in cached spans + marked */
    _Atomic uint64_t trigger;       /* start a cycle at heap_live >= trigger */
    _Atomic uint64_t next_gc;
    uint64_t heap_marked;   /* bytes the last mark scanned: the next mark's work */
    uint64_t heap_black;    /* and those allocated black beside it: the goal counts both, as Go */
    _Atomic int32_t gcpercent;
    _Atomic uint32_t cycle_lock;    /* a cycle is running */
    _Atomic uint32_t num_gc;
    uint32_t num_forced_gc;
    _Atomic int64_t last_gc;        /* nanotime at the end of the last cycle */
    int64_t force_period;
    int64_t init_time;
    uint64_t pause_total;
    uint64_t pause_ns[256];
    uint64_t gc_cpu_ns;             /* total STW cpu (pause * procs) */
    /* cumulative counters */
    _Atomic uint64_t nmalloc, total_alloc, nfree, total_free;
} gc__state_t;

GORT_HIDDEN extern gc__state_t gc__state;

/* Slow allocation path, having allocated bytes since the last call (a
 * span's worth, or a large object): starts a cycle if the heap reached
 * the trigger, or while one marks, pays for the bytes with an assist. */
GORT_HIDDEN void gc__maybe_start(uint64_t allocated);
/* Runs one full stop-the-world cycle; forced by the user when user. */
GORT_HIDDEN bool gc__cycle(bool user);   /* false: another cycle runs (user: waits for it) */
GORT_HIDDEN void gc__pacer_set(uint64_t marked);
/* What one mark beside the program saw, for the pacer's cons/mark. */
typedef struct {
    uint64_t triggered, live;   /* heap_live when the cycle started and when its mark ended */
    uint64_t heap_work, stack_work, globals_work;   /* bytes scanned */
    int64_t mark_ns, bg_ns, assist_ns, idle_ns;     /* the mark's clock; its CPU by kind */
    int procs;
} gc__pacer_obs_t;
/* pacer.c: learns the cons/mark ratio from a finished mark. World stopped. */
GORT_HIDDEN void gc__pacer_observe(const gc__pacer_obs_t *o);
/* pacer.c: the trigger for a cycle that marked `marked` and aims at goal. */
GORT_HIDDEN uint64_t gc__pacer_trigger(uint64_t marked, uint64_t goal);
/* pacer.c: the controller's cons/mark estimate. */
GORT_HIDDEN double gc__pacer_consmark(void);
/* pacer.c: the heap goal the memory limit allows (UINT64_MAX: none). */
GORT_HIDDEN uint64_t gc__pacer_limit_goal(void);
/* pacer.c: reads GOMEMLIMIT's value at boot. */
GORT_HIDDEN void gc__pacer_init(void);
/* pacer.c: a cycle ran from start to end (nanotime). */
GORT_HIDDEN void gc__limiter_note(int64_t start, int64_t end);
/* pacer.c: false while the CPU limiter holds back a limit-paced cycle. */
GORT_HIDDEN bool gc__limiter_allows(void);
/* Starts the helper and sweeper goroutines once. Goroutine context. */
GORT_HIDDEN void gc__bg_start(void);

/* ------------------------------------------------------------------ */
/* statistics (stats.c)                                                */
/* ------------------------------------------------------------------ */

typedef struct {
    int64_t t0, t1, t2, t3;         /* start, mark start, mark end, end */
    int64_t checkmark_ns;           /* of the pause, spent checking (not pacing) */
    int64_t reround_ns;             /* stops that found more to mark beside the program */
    int64_t assist_ns, bg_ns, idle_ns; /* marking by mutators, the cycle's goroutine, idle Ps */
    uint64_t heap0, heap1, heap2, goal;
    int procs;
    bool user;
} gc__trace_t;
GORT_HIDDEN void gc__trace_print(const gc__trace_t *t);

/* ------------------------------------------------------------------ */
/* barrier forms for lock-free code (barrier.c)                        */
/* ------------------------------------------------------------------ */

/* Compare-and-swap of the pointer at slot (old -> new, sequentially
 * consistent) with gc_store's barrier: for lock-free structures in GC
 * memory (sync.Map's entries, sync.Pool's lists). */
GORT_HIDDEN bool gc__cas_ptr(void *slot, void *old, void *new);

/* ------------------------------------------------------------------ */
/* cycle hooks (cycle.c)                                               */
/* ------------------------------------------------------------------ */

/* Registers fn to run at the start of every cycle, with the world
 * stopped, after sweep termination and before marking; fn must not
 * allocate or block. At most 4; callers serialise registration. */
GORT_HIDDEN void gc__on_cycle_start(void (*fn)(void));

#endif /* GORT_GC_INTERNAL_H */
