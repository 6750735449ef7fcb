/*
 * test/test_gc.c -- the garbage-collected heap and the collector.
 *
 * Allocation (zeroing, sizes, zero-size, large objects), survival of
 * structures reachable only from a parked goroutine's stack, a global, a
 * registered root, a channel buffer or an interior pointer (checksums
 * over many cycles), reclamation (bounded heap under a long allocating
 * loop), noscan objects, finalizers, MemStats, gctrace, GOGC=off, the
 * forced periodic GC, allocation from a thread without a P, and misuse.
 */
#include <pthread.h>
#include <regex.h>
#include <stdint.h>

#include "helpers.h"
#include "sched_helpers.h"

typedef struct node {
    struct node *next;
    uint64_t val;
    uint64_t pad[2];
} node_t;

/* Builds a list of n nodes with values seed*i + 1; returns its head. */
static __attribute__((noinline)) node_t *mklist(int n, uint64_t seed)
{
    node_t *h = NULL;
    for (int i = 0; i < n; i++) {
        node_t *x = gc_new(node_t);
        x->val = seed * (uint64_t)i + 1;
        x->pad[0] = ~x->val;
        GC_STORE(x->next, h);
        h = x;
    }
    return h;
}

/* Sum of a list's values, or 0 if a node looks corrupted. */
static __attribute__((noinline)) uint64_t sumlist(node_t *h, int *count)
{
    uint64_t sum = 0;
    int n = 0;
    for (; h; h = h->next, n++) {
        if (h->pad[0] != ~h->val)
            return 0;
        sum += h->val;
    }
    *count = n;
    return sum;
}

static uint64_t expect_sum(int n, uint64_t seed)
{
    uint64_t s = 0;
    for (int i = 0; i < n; i++)
        s += seed * (uint64_t)i + 1;
    return s;
}

/* Allocates about bytes of garbage in objects of mixed sizes. */
static __attribute__((noinline)) void churn(size_t bytes)
{
    size_t done = 0;
    for (unsigned i = 0; done < bytes; i++) {
        size_t sz = 16 + (i * 37) % 2000;
        void **p = gc_alloc(sz);
        p[0] = p;
        done += sz;
    }
}

/* Overwrites dead stack below the caller, so stale copies of pointers do
 * not keep garbage alive (conservative scanning). */
static __attribute__((noinline)) void clobber_stack(void)
{
    volatile char buf[16384];
    memset((char *)buf, 0, sizeof buf);
    __asm__ volatile("" : : "r"(buf) : "memory");   /* the stores are kept, the call too */
}

static runtime_mem_stats_t ms;   /* big: keep it off goroutine stacks */

/* ------------------------------------------------------------------ */

static int t_alloc_basic(int argc, char **argv)
{
    (void)argc; (void)argv;
    void *z1 = gc_alloc(0), *z2 = gc_alloc_noscan(0);
    GT_CHECK(z1 != NULL && z1 == z2, "zero-size objects share one address");
    static const size_t sizes[] = {1, 7, 8, 9, 16, 24, 33, 100, 1000, 1024, 1025,
                                   4096, 9000, 32768, 32769, 100000, 1 << 20};
    for (int round = 0; round < 3; round++) {
        for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
            size_t n = sizes[k];
            for (int j = 0; j < 50; j++) {
                unsigned char *p = (j & 1) ? gc_alloc_noscan(n) : gc_alloc(n);
                GT_CHECK(((uintptr_t)p & 7) == 0, "size %zu misaligned", n);
                for (size_t i = 0; i < n; i++)
                    if (p[i]) {
                        GT_CHECK(0, "size %zu not zeroed at %zu", n, i);
                        break;
                    }
                memset(p, 0xAB, n);   /* dirty it: reuse must zero again */
            }
        }
        runtime_gc();
    }
    return 0;
}
Test(gc, alloc_zeroed_all_sizes) { gt_run(t_alloc_basic); }

static int t_distinct(int argc, char **argv)
{
    (void)argc; (void)argv;
    enum { N = 20000 };
    uintptr_t **objs = gc_alloc(N * sizeof *objs);
    for (int i = 0; i < N; i++) {
        uintptr_t *p = gc_alloc(8 + (size_t)(i % 5) * 8);
        *p = (uintptr_t)i;
        GC_STORE(objs[i], p);
    }
    runtime_gc();
    for (int i = 0; i < N; i++)
        GT_CHECK(*objs[i] == (uintptr_t)i, "object %d overwritten", i);
    return 0;
}
Test(gc, objects_distinct_and_kept) { gt_run(t_distinct); }

/* ------------------------------------------------------------------ */

static int t_stack_survives(int argc, char **argv)
{
    (void)argc; (void)argv;
    node_t *h = mklist(20000, 3);
    for (int i = 0; i < 10; i++) {
        churn(2 << 20);
        runtime_gc();
        int n = 0;
        GT_CHECK(sumlist(h, &n) == expect_sum(20000, 3) && n == 20000, "cycle %d", i);
    }
    runtime_keep_alive(h);
    return 0;
}
Test(gc, stack_roots_survive) { gt_run(t_stack_survives); }

typedef struct {
    gt_gate_t ready, go;
    _Atomic int ok;
} parked_t;

static void parked_body(void *arg)
{
    parked_t *pk = arg;
    node_t *h = mklist(5000, 7);
    gt_gate_open(&pk->ready);
    gt_gate_wait(&pk->go);
    int n = 0;
    atomic_store(&pk->ok, sumlist(h, &n) == expect_sum(5000, 7) && n == 5000 ? 1 : 2);
}

static int t_parked(int argc, char **argv)
{
    (void)argc; (void)argv;
    static parked_t pk[8];
    for (int i = 0; i < 8; i++)
        go(parked_body, &pk[i]);
    for (int i = 0; i < 8; i++)
        gt_gate_wait(&pk[i].ready);
    for (int i = 0; i < 5; i++) {
        churn(4 << 20);
        clobber_stack();
        runtime_gc();
    }
    for (int i = 0; i < 8; i++)
        gt_gate_open(&pk[i].go);
    for (int i = 0; i < 8; i++) {
        gt_yield_until(&pk[i].ok, 5000);
        GT_CHECK(atomic_load(&pk[i].ok) == 1, "goroutine %d: list damaged", i);
    }
    return 0;
}
Test(gc, parked_goroutine_stack_survives) { gt_run(t_parked); }

static node_t *global_list;

static int t_global(int argc, char **argv)
{
    (void)argc; (void)argv;
    GC_STORE(global_list, mklist(10000, 11));
    clobber_stack();
    for (int i = 0; i < 5; i++) {
        churn(4 << 20);
        runtime_gc();
        int n = 0;
        GT_CHECK(sumlist(global_list, &n) == expect_sum(10000, 11) && n == 10000);
    }
    return 0;
}
Test(gc, global_roots_survive) { gt_run(t_global); }

static int fin_count_root;
static void fin_root(void *obj) { (void)obj; __atomic_add_fetch(&fin_count_root, 1, __ATOMIC_SEQ_CST); }

static int t_registered_root(int argc, char **argv)
{
    (void)argc; (void)argv;
    enum { K = 64 };
    node_t **tab = malloc(K * sizeof *tab);   /* outside the GC heap */
    memset(tab, 0, K * sizeof *tab);
    gc_add_roots(tab, tab + K);
    for (int i = 0; i < K; i++) {
        GC_STORE(tab[i], mklist(100, (uint64_t)i));
        runtime_set_finalizer(tab[i], fin_root);
    }
    clobber_stack();
    for (int c = 0; c < 4; c++) {
        churn(2 << 20);
        runtime_gc();
        for (int i = 0; i < K; i++) {
            int n = 0;
            GT_CHECK(sumlist(tab[i], &n) == expect_sum(100, (uint64_t)i) && n == 100);
        }
    }
    GT_CHECK(__atomic_load_n(&fin_count_root, __ATOMIC_SEQ_CST) == 0, "rooted object finalized");
    /* Unregistered, the lists become garbage: their heads get finalized. */
    gc_remove_roots(tab, tab + K);
    int64_t end = time_now() + 10 * TIME_SECOND;   /* finalizers run in their own goroutine */
    while (__atomic_load_n(&fin_count_root, __ATOMIC_SEQ_CST) < K * 9 / 10 && time_now() < end) {
        clobber_stack();
        runtime_gc();
        time_sleep(2 * TIME_MILLISECOND);
    }
    GT_CHECK(__atomic_load_n(&fin_count_root, __ATOMIC_SEQ_CST) >= K * 9 / 10,
             "only %d of %d unrooted objects finalized", fin_count_root, K);
    free(tab);
    return 0;
}
Test(gc, registered_roots) { gt_run(t_registered_root); }

static int t_interior(int argc, char **argv)
{
    (void)argc; (void)argv;
    /* Only interior pointers remain, into a small and a large object. */
    uint64_t *small = gc_alloc_noscan(1000 * 8);
    uint64_t *large = gc_alloc_noscan(200000 * 8);
    for (int i = 0; i < 1000; i++)
        small[i] = (uint64_t)i * 31;
    for (int i = 0; i < 200000; i++)
        large[i] = (uint64_t)i * 17;
    uint64_t *volatile si = small + 999;
    uint64_t *volatile li = large + 150000;
    small = large = NULL;
    for (int c = 0; c < 5; c++) {
        churn(4 << 20);
        clobber_stack();
        runtime_gc();
        /* Reuse after a wrong free would overwrite the patterns. */
        churn(4 << 20);
    }
    uint64_t *s = si - 999, *l = li - 150000;
    for (int i = 0; i < 1000; i++)
        if (s[i] != (uint64_t)i * 31) {
            GT_CHECK(0, "small object damaged at %d", i);
            break;
        }
    for (int i = 0; i < 200000; i++)
        if (l[i] != (uint64_t)i * 17) {
            GT_CHECK(0, "large object damaged at %d", i);
            break;
        }
    return 0;
}
Test(gc, interior_pointers_keep_objects) { gt_run(t_interior); }

static int t_chanbuf(int argc, char **argv)
{
    (void)argc; (void)argv;
    chan_t *c = chan_make(sizeof(node_t *), 8);
    for (int i = 0; i < 8; i++) {
        node_t *h = mklist(500, (uint64_t)i + 100);
        chan_send(c, &h);
    }
    clobber_stack();
    for (int k = 0; k < 4; k++) {
        churn(4 << 20);
        runtime_gc();
    }
    for (int i = 0; i < 8; i++) {
        node_t *h = NULL;
        chan_recv(c, &h);
        int n = 0;
        GT_CHECK(sumlist(h, &n) == expect_sum(500, (uint64_t)i + 100) && n == 500, "elem %d", i);
    }
    return 0;
}
Test(gc, channel_buffer_survives) { gt_run(t_chanbuf); }

/* ------------------------------------------------------------------ */

static int t_barrier_forms(int argc, char **argv)
{
    (void)argc; (void)argv;
    node_t **a = gc_alloc(64 * sizeof *a), **b = gc_alloc(64 * sizeof *b);
    for (int i = 0; i < 64; i++)
        GC_STORE(a[i], mklist(10, (uint64_t)i + 1));
    gc_memmove(b, a, 64 * sizeof *a);          /* b now holds the only copies */
    gc_memmove(a + 1, a, 63 * sizeof *a);      /* overlapping */
    GT_CHECK(a[1] == b[0] && a[63] == b[62]);
    gc_memclr(a, 64 * sizeof *a);
    for (int i = 0; i < 64; i++)
        GT_CHECK(a[i] == NULL);
    gc_store(&b[63], NULL);
    clobber_stack();
    for (int c = 0; c < 3; c++) {
        churn(2 << 20);
        runtime_gc();
    }
    for (int i = 0; i < 63; i++) {
        int n = 0;
        GT_CHECK(sumlist(b[i], &n) == expect_sum(10, (uint64_t)i + 1) && n == 10, "list %d", i);
    }
    GT_CHECK(b[63] == NULL);
    runtime_keep_alive(b);
    return 0;
}
Test(gc, store_memmove_memclr) { gt_run(t_barrier_forms); }

static int t_reclaim(int argc, char **argv)
{
    (void)argc; (void)argv;
    runtime_read_mem_stats(&ms);
    uint32_t gc0 = ms.num_gc;
    uint64_t maxalloc = 0;
    static node_t *ring[256];
    for (int i = 0; i < 4000000; i++) {   /* 128 MB through 32-byte objects */
        node_t *x = gc_new(node_t);
        x->next = x;
        GC_STORE(ring[i & 255], x);
        if (i % 500000 == 0) {
            runtime_read_mem_stats(&ms);
            if (ms.heap_alloc > maxalloc)
                maxalloc = ms.heap_alloc;
        }
    }
    runtime_read_mem_stats(&ms);
    GT_CHECK(ms.num_gc > gc0 + 5, "only %u cycles", ms.num_gc - gc0);
    GT_CHECK(maxalloc < 32u << 20, "heap_alloc reached %lu bytes", (unsigned long)maxalloc);
    GT_CHECK(ms.heap_sys < 64u << 20, "heap_sys %lu bytes", (unsigned long)ms.heap_sys);
    GT_CHECK(ms.frees > 3000000, "frees %lu", (unsigned long)ms.frees);
    return 0;
}
Test(gc, unreachable_memory_reclaimed)
{
    GT_SKIP_UNDER("thread", "it counts collector cycles, which need the collector's "
                  "goroutine let in beside a tight allocation loop by asynchronous "
                  "preemption, off under TSan");
    gt_run(t_reclaim);
}

static _Atomic int noscan_target_freed;
static void fin_target(void *o) { (void)o; atomic_store(&noscan_target_freed, 1); }

static __attribute__((noinline)) uintptr_t *noscan_setup(void)
{
    uintptr_t *holder = gc_alloc_noscan(64);
    node_t *target = gc_new(node_t);
    runtime_set_finalizer(target, fin_target);
    holder[3] = (uintptr_t)target;   /* the only copy, in a noscan object */
    return holder;
}

static int t_noscan(int argc, char **argv)
{
    (void)argc; (void)argv;
    uintptr_t *holder = noscan_setup();
    int64_t end = time_now() + 10 * TIME_SECOND;   /* the finalizer runs in its own goroutine */
    while (!atomic_load(&noscan_target_freed) && time_now() < end) {
        clobber_stack();
        runtime_gc();
        time_sleep(TIME_MILLISECOND);
    }
    GT_CHECK(atomic_load(&noscan_target_freed), "a noscan object kept its target alive");
    GT_CHECK(holder[3] != 0);
    return 0;
}
Test(gc, noscan_objects_not_scanned) { gt_run(t_noscan); }

/* ------------------------------------------------------------------ */

typedef struct fobj { struct fobj *ref; uint64_t tag; } fobj_t;
static _Atomic int fin_ok, fin_bad;

static void fin_check(void *p)
{
    fobj_t *o = p;
    /* The object and what it references are intact when it runs. */
    if (o->tag == 0xF00D && o->ref && o->ref->tag == 0xBEEF)
        atomic_fetch_add(&fin_ok, 1);
    else
        atomic_fetch_add(&fin_bad, 1);
}

static __attribute__((noinline)) void fin_setup(int n)
{
    for (int i = 0; i < n; i++) {
        fobj_t *o = gc_new(fobj_t);
        o->tag = 0xF00D;
        GC_STORE(o->ref, gc_new(fobj_t));
        o->ref->tag = 0xBEEF;
        runtime_set_finalizer(o, fin_check);
    }
}

static int t_finalizer(int argc, char **argv)
{
    (void)argc; (void)argv;
    fin_setup(200);
    int64_t end = time_now() + 10 * TIME_SECOND;   /* finalizers run in their own goroutine */
    while (atomic_load(&fin_ok) < 180 && time_now() < end) {
        clobber_stack();
        runtime_gc();
        churn(1 << 20);   /* would reuse the referents if freed early */
        time_sleep(TIME_MILLISECOND);
    }
    GT_CHECK(atomic_load(&fin_ok) >= 180, "%d finalizers ran", atomic_load(&fin_ok));
    GT_CHECK(atomic_load(&fin_bad) == 0, "%d finalizers saw freed memory", atomic_load(&fin_bad));
    /* Objects finalized, then unreachable, are freed: the heap goes down. */
    runtime_gc();
    runtime_gc();
    runtime_read_mem_stats(&ms);
    GT_CHECK(ms.heap_objects < 100000, "heap_objects %lu", (unsigned long)ms.heap_objects);
    return 0;
}
Test(gc, finalizers_run_once_with_referents_intact) { gt_run(t_finalizer); }

static _Atomic int fin_cleared_ran;
static void fin_never(void *p) { (void)p; atomic_store(&fin_cleared_ran, 1); }

static __attribute__((noinline)) void fin_clear_setup(void)
{
    for (int i = 0; i < 50; i++) {
        void *o = gc_alloc(32);
        runtime_set_finalizer(o, fin_never);
        runtime_set_finalizer(o, NULL);
    }
}

static int t_finalizer_clear(int argc, char **argv)
{
    (void)argc; (void)argv;
    fin_clear_setup();
    for (int i = 0; i < 3; i++) {
        clobber_stack();
        runtime_gc();
        time_sleep(2 * TIME_MILLISECOND);
    }
    GT_CHECK(!atomic_load(&fin_cleared_ran), "cleared finalizer ran");
    return 0;
}
Test(gc, finalizer_cleared_does_not_run) { gt_run(t_finalizer_clear); }

/* ------------------------------------------------------------------ */

static void **stats_keep;   /* a global root, cleared to drop the objects */

static __attribute__((noinline)) void stats_alloc(void)
{
    GC_STORE(stats_keep, gc_alloc(1000 * sizeof(void *)));
    for (int i = 0; i < 1000; i++)
        GC_STORE(stats_keep[i], gc_alloc(48));
}

static int t_memstats(int argc, char **argv)
{
    (void)argc; (void)argv;
    runtime_gc();
    static runtime_mem_stats_t a, b;
    runtime_read_mem_stats(&a);
    stats_alloc();
    runtime_read_mem_stats(&b);
    GT_CHECK(b.mallocs - a.mallocs == 1001, "mallocs +%lu", (unsigned long)(b.mallocs - a.mallocs));
    GT_CHECK(b.total_alloc - a.total_alloc == 1000 * 48 + 8192,
             "total_alloc +%lu", (unsigned long)(b.total_alloc - a.total_alloc));
    GT_CHECK(b.heap_objects == b.mallocs - b.frees);
    GT_CHECK(b.heap_alloc >= a.heap_alloc + 1000 * 48);
    GT_CHECK(b.heap_sys >= b.heap_alloc);
    GT_CHECK(b.num_gc == a.num_gc && b.num_gc >= 1);
    GT_CHECK(b.num_forced_gc >= 1);
    GT_CHECK(b.next_gc >= 4u << 20, "next_gc %lu", (unsigned long)b.next_gc);
    GT_CHECK(b.last_gc > 0 && b.last_gc <= (uint64_t)time_now());
    GT_CHECK(b.pause_total_ns > 0 && b.pause_ns[(b.num_gc + 255) % 256] > 0);
    GT_CHECK(b.stack_inuse > 0);
    GC_STORE(stats_keep, NULL);
    clobber_stack();
    runtime_gc();
    runtime_read_mem_stats(&b);
    /* A stale register or stack word may pin an object or two. */
    GT_CHECK(b.frees - a.frees >= 995, "frees +%lu", (unsigned long)(b.frees - a.frees));
    GT_CHECK(b.heap_alloc <= a.heap_alloc + 1024, "heap_alloc %lu -> %lu", (unsigned long)a.heap_alloc,
             (unsigned long)b.heap_alloc);
    GT_CHECK(b.gc_cpu_fraction >= 0 && b.gc_cpu_fraction < 1);
    return 0;
}
Test(gc, mem_stats_true_figures) { gt_run(t_memstats); }

static int t_gctrace(int argc, char **argv)
{
    (void)argc; (void)argv;
    churn(1 << 20);
    runtime_gc();
    return 0;
}
Test(gc, gctrace_line)
{
    static gt_result_t r;
    const char *env[] = {"GODEBUG=gctrace=1", NULL};
    gt_child(&r, t_gctrace, env, 10000);
    cr_assert_eq(r.status, 0, "%s", r.out);
    gt_assert_match(r.out,
                    "gc 1 @[0-9]+\\.[0-9]{3}s [0-9]+%: [0-9.]+\\+[0-9.]+\\+[0-9.]+ ms clock, "
                    "[0-9.]+\\+0/[0-9.]+/0\\+[0-9.]+ ms cpu, [0-9]+->[0-9]+->[0-9]+ MB, "
                    "[0-9]+ MB goal, [0-9]+ MB stacks, [0-9]+ MB globals, [0-9]+ P \\(forced\\)\n",
                    "gctrace line");
}

static int t_gogc_off(int argc, char **argv)
{
    (void)argc; (void)argv;
    churn(64 << 20);
    runtime_read_mem_stats(&ms);
    if (ms.num_gc != 0)
        return 10 + (int)ms.num_gc;
    int old = runtime_set_gc_percent(100);
    if (old != -1)
        return 3;
    churn(64 << 20);
    runtime_read_mem_stats(&ms);
    return ms.num_gc > 0 ? 0 : 4;
}
Test(gc, gogc_off_disables)
{
    static gt_result_t r;
    const char *env[] = {"GOGC=off", NULL};
    gt_child(&r, t_gogc_off, env, 20000);
    cr_assert_eq(r.status, 0, "status %d: %s", r.status, r.out);
}

static int t_set_percent(int argc, char **argv)
{
    (void)argc; (void)argv;
    GT_CHECK(runtime_set_gc_percent(-5) == 100);
    runtime_read_mem_stats(&ms);
    uint32_t n0 = ms.num_gc;
    churn(32 << 20);
    runtime_read_mem_stats(&ms);
    GT_CHECK(ms.num_gc == n0, "GC ran while disabled");
    GT_CHECK(runtime_set_gc_percent(50) == -1);
    churn(32 << 20);
    runtime_read_mem_stats(&ms);
    GT_CHECK(ms.num_gc > n0, "no GC after re-enabling");
    GT_CHECK(runtime_set_gc_percent(100) == 50);
    return 0;
}
Test(gc, set_gc_percent) { gt_run(t_set_percent); }

static int t_forced(int argc, char **argv)
{
    (void)argc; (void)argv;
    gc_alloc(100);   /* starts the helper goroutine */
    runtime_read_mem_stats(&ms);
    uint32_t n0 = ms.num_gc;
    /* Two periods of 100 ms; 8 s at most (the parent waits 10 s). */
    int64_t end = time_now() + 8 * TIME_SECOND;
    do {
        time_sleep(10 * TIME_MILLISECOND);
        runtime_read_mem_stats(&ms);
    } while (ms.num_gc < n0 + 2 && time_now() < end);
    if (ms.num_gc < n0 + 2)
        return 1;
    if (ms.num_forced_gc != 0)
        return 2;   /* periodic cycles are not user-forced, as Go */
    return 0;
}
Test(gc, periodic_forced_gc)
{
    static gt_result_t r;
    const char *env[] = {"GORT_FORCEGC_PERIOD_MS=100", NULL};
    gt_child(&r, t_forced, env, 10000);
    cr_assert_eq(r.status, 0, "status %d: %s", r.status, r.out);
}

/* ------------------------------------------------------------------ */

static node_t *foreign_list;   /* a global: a root */
static unsigned char *foreign_big[20];
static _Atomic int foreign_done;

static void *foreign_thread(void *arg)
{
    (void)arg;
    for (int i = 0; i < 20000; i++) {
        node_t *x = gc_new(node_t);   /* no P: the shared cache */
        x->val = (uint64_t)i + 1;
        x->pad[0] = ~x->val;
        x->next = foreign_list;
        gc_store(&foreign_list, x);
        if (i % 16 == 0)
            gc_alloc(3000);   /* garbage */
        if (i % 1000 == 0) {   /* large objects: their own spans */
            unsigned char *b = gc_alloc_noscan(40000);
            memset(b, (int)(i / 1000) + 1, 40000);
            gc_store(&foreign_big[i / 1000], b);
        }
    }
    atomic_store(&foreign_done, 1);
    return NULL;
}

static int t_foreign(int argc, char **argv)
{
    (void)argc; (void)argv;
    pthread_t th;
    GT_CHECK(pthread_create(&th, NULL, foreign_thread, NULL) == 0);
    int cycles = 0;
    while (!atomic_load(&foreign_done)) {
        runtime_gc();
        cycles++;
        churn(256 << 10);
    }
    runtime_entersyscall();
    pthread_join(th, NULL);
    runtime_exitsyscall();
    runtime_gc();
    int n = 0;
    GT_CHECK(sumlist(foreign_list, &n) == expect_sum(20000, 1) && n == 20000,
             "foreign list damaged (n=%d, %d cycles)", n, cycles);
    for (int k = 0; k < 20; k++)
        GT_CHECK(foreign_big[k][0] == k + 1 && foreign_big[k][39999] == k + 1, "large object %d", k);
    return 0;
}
Test(gc, alloc_from_thread_without_p) { gt_run(t_foreign); }

/* ------------------------------------------------------------------ */

static int64_t rss_bytes(void) { return (int64_t)gt_status_kib("VmRSS:") * 1024; }

static __attribute__((noinline)) void scav_fill(void)
{
    for (int i = 0; i < 96; i++) {
        char *p = gc_alloc_noscan(1 << 20);
        memset(p, 1, 1 << 20);   /* resident */
    }
}

static int t_scavenge(int argc, char **argv)
{
    (void)argc; (void)argv;
    int old = runtime_set_gc_percent(-1);   /* all 96 MB resident at once */
    scav_fill();
    int64_t before = rss_bytes();
    runtime_set_gc_percent(old);
    clobber_stack();
    runtime_gc();
    int64_t after = before;
    for (int i = 0; i < 500 && before - after < (64 << 20); i++) {   /* 10 s at most */
        time_sleep(20 * TIME_MILLISECOND);   /* sysmon's scavenger runs meanwhile */
        after = rss_bytes();
    }
    GT_CHECK(before - after >= (64 << 20), "RSS %ld -> %ld: free pages not returned",
             (long)before, (long)after);
    /* Returned pages are reused, and come back zeroed. */
    unsigned char *p = gc_alloc_noscan(8 << 20);
    GT_CHECK(p[0] == 0 && p[(8 << 20) - 1] == 0);
    return 0;
}
Test(gc, scavenger_returns_free_pages)
{
    GT_SKIP_UNDER("any", "it measures resident memory, which the sanitizer's "
                  "shadow and allocator inflate");
    gt_run(t_scavenge);
}

/* ------------------------------------------------------------------ */

typedef struct tree { struct tree *l, *r; } tree_t;

static tree_t *tree_make(int d)
{
    tree_t *t = gc_new(tree_t);
    if (d > 0) {
        GC_STORE(t->l, tree_make(d - 1));
        GC_STORE(t->r, tree_make(d - 1));
    }
    return t;
}

static int tree_check(tree_t *t) { return t->l ? 1 + tree_check(t->l) + tree_check(t->r) : 1; }

static gt_count_t stress_done;

static void stress_worker(void *arg)
{
    intptr_t id = (intptr_t)arg;
    tree_t *keep = tree_make(12);
    for (int i = 0; i < 150; i++) {
        tree_t *t = tree_make(10 + (int)((id + i) % 3));
        int want = (1 << (11 + (int)((id + i) % 3))) - 1;
        GT_CHECK(tree_check(t) == want, "worker %ld round %d", (long)id, i);
        if (i % 10 == 0)
            runtime_gosched();
    }
    GT_CHECK(tree_check(keep) == (1 << 13) - 1, "long-lived tree damaged");
    gt_count_done(&stress_done);
}

static int t_stress(int argc, char **argv)
{
    (void)argc; (void)argv;
    if (!getenv("GT_PROCS1")) runtime_gomaxprocs(2);
    gt_count_init(&stress_done, 6);
    for (intptr_t i = 0; i < 6; i++)
        go(stress_worker, (void *)i);
    gt_count_wait(&stress_done);
    runtime_read_mem_stats(&ms);
    /* ~70 MB allocated against a goal of the live heap plus the program's
     * globals (a few MB with Criterion's): several cycles ran meanwhile. */
    GT_CHECK(ms.num_gc >= 3, "only %u cycles", ms.num_gc);
    return 0;
}
Test(gc, concurrent_allocating_goroutines)
{
    GT_SKIP_UNDER("thread", "it counts collector cycles, which need the collector's "
                  "goroutine let in beside a tight allocation loop by asynchronous "
                  "preemption, off under TSan");
    gt_run(t_stress);
}

/* ------------------------------------------------------------------ */

static __attribute__((noinline)) void huge_one(void)
{
    size_t n = (size_t)100 << 20;   /* larger than an arena */
    unsigned char *p = gc_alloc_noscan(n);
    GT_CHECK(p[0] == 0 && p[n / 2] == 0 && p[n - 1] == 0);
    p[0] = p[n - 1] = 1;
}

static int t_huge(int argc, char **argv)
{
    (void)argc; (void)argv;
    for (int i = 0; i < 4; i++) {
        huge_one();
        clobber_stack();
        runtime_gc();
    }
    /* At most one may be kept by a stale stack word; none leaks. */
    runtime_read_mem_stats(&ms);
    GT_CHECK(ms.heap_alloc < 110u << 20, "huge objects not freed: %lu", (unsigned long)ms.heap_alloc);
    GT_CHECK(ms.heap_sys < 320u << 20, "freed huge spans not reused: %lu", (unsigned long)ms.heap_sys);
    return 0;
}
Test(gc, huge_objects) { gt_run(t_huge); }

static int t_oom(int argc, char **argv)
{
    (void)argc; (void)argv;
    gc_alloc((size_t)1 << 60);
    return 0;
}
Test(gc, out_of_memory_is_fatal)
{
    static gt_result_t r;
    gt_child(&r, t_oom, NULL, 10000);
    cr_assert_eq(r.status, 2, "status %d: %s", r.status, r.out);
    cr_assert(strstr(r.out, "fatal error: out of memory"), "%s", r.out);
}

static int t_fin_bad(int argc, char **argv)
{
    (void)argc; (void)argv;
    char *p = gc_alloc(64);
    runtime_set_finalizer(p + 8, fin_never);
    return 0;
}
static int t_fin_notheap(int argc, char **argv)
{
    (void)argc; (void)argv;
    int local;
    runtime_set_finalizer(&local, fin_never);
    return 0;
}
Test(gc, set_finalizer_misuse)
{
    static gt_result_t r;
    gt_child(&r, t_fin_bad, NULL, 10000);
    cr_assert_eq(r.status, 2, "%s", r.out);
    cr_assert(strstr(r.out, "fatal error: runtime.SetFinalizer: pointer not at beginning of allocated block"), "%s", r.out);
    gt_child(&r, t_fin_notheap, NULL, 10000);
    cr_assert_eq(r.status, 2, "%s", r.out);
    cr_assert(strstr(r.out, "fatal error: runtime.SetFinalizer: pointer not in allocated block"), "%s", r.out);
}
