/*
 * test/go/test_gc_go.c -- ports of Go's test/gc.go, gc1.go, gc2.go,
 * mallocfin.go, tinyfin.go and deferfin.go (Go 1.19).
 *
 * Differences from Go: gort scans stacks conservatively, so a stale word
 * may keep an object alive; the ports clear the dead stack area before
 * collecting (clobber_stack) where Go's precise scan needs nothing.
 * tinyfin: gort has no tiny allocator; the test still checks that
 * finalizers of 4-byte noscan objects run once with the right object.
 */
#include "helpers.h"

static __attribute__((noinline)) void clobber_stack(void)
{
    volatile char buf[16384];
    memset((char *)buf, 0, sizeof buf);
}

/* gc.go: allocate a 10000-byte array in a nested call, collect, ten times. */
static __attribute__((noinline)) void mk2(void) { char *b = gc_alloc(10000); b[0] = 1; }
static __attribute__((noinline)) void mk1(void) { mk2(); }

static int t_gc(int argc, char **argv)
{
    (void)argc; (void)argv;
    for (int i = 0; i < 10; i++) {
        mk1();
        runtime_gc();
    }
    return 0;
}
Test(gc_go, gc) { gt_run(t_gc); }

/* gc1.go: 1e5 allocations of 100 bytes. */
static int t_gc1(int argc, char **argv)
{
    (void)argc; (void)argv;
    for (int i = 0; i < 100000; i++) {
        char *x = gc_alloc(100);
        x[99] = (char)i;
    }
    return 0;
}
Test(gc_go, gc1) { gt_run(t_gc1); }

/* gc2.go: buffered channels are collected (bounded heap growth). */
static runtime_mem_stats_t st, memstats;

static int t_gc2(int argc, char **argv)
{
    (void)argc; (void)argv;
    enum { N = 10000 };
    runtime_read_mem_stats(&st);
    for (int i = 0; i < N; i++) {
        chan_t *c = chan_make(sizeof(int), 10);
        (void)c;
        if (i % 100 == 0) {
            clobber_stack();
            for (int j = 0; j < 4; j++) {
                runtime_gc();
                runtime_gosched();
                runtime_gc();
                runtime_gosched();
            }
        }
    }
    runtime_read_mem_stats(&memstats);
    int64_t obj = (int64_t)memstats.heap_objects - (int64_t)st.heap_objects;
    GT_CHECK(obj <= N / 5, "too many objects left: %lld", (long long)obj);
    return 0;
}
Test(gc_go, gc2) { gt_run(t_gc2); }

/* mallocfin.go: an A referencing a B, both with finalizers: A's runs
 * first, B's only later (B is kept while A's finalizer may use it). */
enum { MF_N = 250 };
typedef struct mf_b { int n; } mf_b_t;
typedef struct mf_a { mf_b_t *b; int n; } mf_a_t;
static _Atomic int final[MF_N];
static _Atomic int nfinal, mf_fail;

static void finalA(void *p)
{
    mf_a_t *a = p;
    if (atomic_load(&final[a->n]) != 0)
        atomic_store(&mf_fail, 1);
    atomic_store(&final[a->n], 1);
}

static void finalB(void *p)
{
    mf_b_t *b = p;
    if (atomic_load(&final[b->n]) != 1)
        atomic_store(&mf_fail, 2);
    atomic_store(&final[b->n], 2);
    atomic_fetch_add(&nfinal, 1);
}

static void nofinalB(void *p) { (void)p; atomic_store(&mf_fail, 3); }

static __attribute__((noinline)) void mallocfin_setup(void)
{
    for (int i = 0; i < MF_N; i++) {
        mf_b_t *b = gc_new(mf_b_t);
        b->n = i;
        mf_a_t *a = gc_new(mf_a_t);
        GC_STORE(a->b, b);
        a->n = i;
        mf_b_t *c = gc_new(mf_b_t);
        runtime_set_finalizer(c, nofinalB);
        runtime_set_finalizer(b, finalB);
        runtime_set_finalizer(a, finalA);
        runtime_set_finalizer(c, NULL);
    }
}

static int t_mallocfin(int argc, char **argv)
{
    (void)argc; (void)argv;
    runtime_gomaxprocs(4);
    mallocfin_setup();
    /* Go's loop stops after MF_N rounds; this one after 10 s, for a loaded
     * machine (the finalizers run in their own goroutine). */
    int64_t end = time_now() + 10 * TIME_SECOND;
    while (time_now() < end) {
        clobber_stack();
        runtime_gc();
        runtime_gosched();
        time_sleep(TIME_MILLISECOND);
        if (atomic_load(&nfinal) >= MF_N * 8 / 10)
            break;
    }
    GT_CHECK(atomic_load(&nfinal) >= MF_N * 8 / 10, "not enough finalizing: %d/%d",
             atomic_load(&nfinal), MF_N);
    GT_CHECK(atomic_load(&mf_fail) == 0, "finalizer order broken (%d)", atomic_load(&mf_fail));
    return 0;
}
Test(gc_go, mallocfin) { gt_run(t_mallocfin); }

/* tinyfin.go: finalizers of small noscan objects see their own value. */
enum { TF_N = 100 };
static chan_t *finalized;

static void tinyfin(void *p)
{
    int32_t v = *(int32_t *)p;
    chan_send(finalized, &v);
}

static __attribute__((noinline)) void tinyfin_setup(void)
{
    for (int i = 0; i < TF_N; i++) {
        int32_t *x = gc_alloc_noscan(sizeof(int32_t));
        *x = i;
        runtime_set_finalizer(x, tinyfin);
    }
}

static int t_tinyfin(int argc, char **argv)
{
    (void)argc; (void)argv;
    GC_STORE(finalized, chan_make(sizeof(int32_t), TF_N));
    tinyfin_setup();
    clobber_stack();
    runtime_gc();
    int count = 0;
    static bool done[TF_N];
    chan_t *timeout = time_after(5 * TIME_SECOND);
    while (count <= TF_N / 10 * 9) {
        int32_t x = 0;
        int64_t t;
        select_case_t cs[2] = {{timeout, SELECT_RECV, &t, false}, {finalized, SELECT_RECV, &x, false}};
        if (chan_select(cs, 2, true) == 0) {
            GT_CHECK(0, "timeout, %d finalized so far", count);
            break;
        }
        if (x < 0 || x >= TF_N) {
            GT_CHECK(0, "corrupted: got %d", x);
            break;
        }
        GT_CHECK(!done[x], "already finalized: %d", x);
        done[x] = true;
        count++;
    }
    return 0;
}
Test(gc_go, tinyfin) { gt_run(t_tinyfin); }

/* deferfin.go: an object referenced only by a deferred call's argument
 * is finalized once its goroutine has exited. */
static _Atomic int df_count;
static sync_waitgroup_t df_wg;

static void df_fin(void *p) { (void)p; atomic_fetch_sub(&df_count, 1); }
static void df_check(void *p) { GT_CHECK(*(char **)p == NULL, "oops"); }
static void df_done(void *p) { (void)p; sync_waitgroup_done(&df_wg); }

static void df_body(void *arg)
{
    (void)arg;
    go_defer(df_done, NULL);
    char **v = gc_alloc(sizeof(char *));
    runtime_set_finalizer(v, df_fin);
    go_defer(df_check, v);
}

static int t_deferfin(int argc, char **argv)
{
    (void)argc; (void)argv;
    enum { N = 10 };
    atomic_store(&df_count, N);
    sync_waitgroup_add(&df_wg, N);
    for (int i = 0; i < N; i++)
        go(df_body, NULL);
    sync_waitgroup_wait(&df_wg);
    int64_t end = time_now() + 10 * TIME_SECOND;   /* Go tries 10 times; 10 s here */
    while (atomic_load(&df_count) != 0 && time_now() < end) {
        time_sleep(10 * TIME_MILLISECOND);
        clobber_stack();
        runtime_gc();
    }
    GT_CHECK(atomic_load(&df_count) == 0, "%d out of %d finalizers are not called",
             atomic_load(&df_count), N);
    return 0;
}
Test(gc_go, deferfin) { gt_run(t_deferfin); }
