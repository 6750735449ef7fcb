/*
 * test/test_sync_pool.c -- sync.Pool, after Go 1.19's sync/pool_test.go:
 * Get after Put on one P (TestPool), New (TestPoolNew), objects released
 * after two collections, observed with finalizers (TestPoolGC), the
 * victim cache (an object survives exactly one cycle there), stealing
 * from another P, a pool in a GC object, and a stress with many
 * goroutines.
 */
#include "helpers.h"
#include "../sync/internal.h"

static sync_pool_t pool;               /* a global pool */

/* Pins the test to one P, as Go's TestPool does with LockOSThread and
 * GOMAXPROCS(1), so Put and Get meet the same per-P cache. */
static int main_pool(int argc, char **argv)
{
    runtime_gomaxprocs(1);
    GT_CHECK(sync_pool_get(&pool) == NULL, "empty pool");
    sync_pool_put(&pool, NULL);
    GT_CHECK(sync_pool_get(&pool) == NULL, "NULL is ignored");
    char *a = gc_alloc(16), *b = gc_alloc(16);
    sync_pool_put(&pool, a);
    sync_pool_put(&pool, b);
    void *g1 = sync_pool_get(&pool), *g2 = sync_pool_get(&pool);
    GT_CHECK(g1 == a && g2 == b, "private slot first, then the ring: %p %p", g1, g2);
    GT_CHECK(sync_pool_get(&pool) == NULL);
    sync_pool_put(&pool, a);
    runtime_gc();
    GT_CHECK(sync_pool_get(&pool) == a, "kept in the victim over one cycle");
    GT_CHECK(sync_pool_get(&pool) == NULL);
    sync_pool_put(&pool, a);
    runtime_gc();
    runtime_gc();
    GT_CHECK(sync_pool_get(&pool) == NULL, "gone after two cycles");
    return 0;
}
Test(sync_pool, get_put_one_p) { gt_run(main_pool); }

static _Atomic int made;
static void *make_obj(void)
{
    int *x = gc_alloc(sizeof(int));
    *x = atomic_fetch_add(&made, 1) + 1;
    return x;
}

/* TestPoolNew. */
static int main_pool_new(int argc, char **argv)
{
    runtime_gomaxprocs(1);
    sync_pool_t *p = gc_new(sync_pool_t);
    p->new_fn = make_obj;
    int *v;
    GT_CHECK((v = sync_pool_get(p)) && *v == 1);
    GT_CHECK((v = sync_pool_get(p)) && *v == 2);
    int *a = gc_alloc(sizeof(int));
    *a = 42;
    sync_pool_put(p, a);
    GT_CHECK((v = sync_pool_get(p)) == a);
    GT_CHECK((v = sync_pool_get(p)) && *v == 3);
    GT_CHECK(sync__pool_count(p, false) == 0);
    return 0;
}
Test(sync_pool, new_fn) { gt_run(main_pool_new); }

static _Atomic int fin_count;
static void fin(void *obj) { atomic_fetch_add(&fin_count, 1); }

/* Waits for at least n finalizers (they run on their own goroutine). */
static bool wait_fin(int n)
{
    for (int i = 0; i < 2000 && atomic_load(&fin_count) < n; i++)
        time_sleep(TIME_MILLISECOND);
    return atomic_load(&fin_count) >= n;
}

/* TestPoolGC and TestPoolRelease: 100 objects survive the first cycle
 * (in the victim) and are released by the second. */
static int main_pool_gc(int argc, char **argv)
{
    static sync_pool_t p;
    for (int i = 0; i < 100; i++) {
        void *x = gc_alloc(32);
        runtime_set_finalizer(x, fin);
        sync_pool_put(&p, x);
    }
    GT_CHECK(sync__pool_count(&p, false) == 100, "%lu", (unsigned long)sync__pool_count(&p, false));
    runtime_gc();
    time_sleep(20 * TIME_MILLISECOND);
    GT_CHECK(atomic_load(&fin_count) == 0, "%d released by the first cycle", atomic_load(&fin_count));
    GT_CHECK(sync__pool_count(&p, false) == 0 && sync__pool_count(&p, true) == 100);
    runtime_gc();
    GT_CHECK(wait_fin(95), "%d released after two", atomic_load(&fin_count));
    GT_CHECK(sync__pool_count(&p, true) == 0);
    return 0;
}
Test(sync_pool, released_after_two_cycles, .timeout = 30) { gt_run(main_pool_gc); }

/* Victim hits move nothing back; a Put after a cycle goes to the primary. */
static int main_victim(int argc, char **argv)
{
    runtime_gomaxprocs(1);
    static sync_pool_t p;
    for (int i = 0; i < 10; i++)
        sync_pool_put(&p, gc_alloc(8));
    runtime_gc();
    GT_CHECK(sync__pool_count(&p, true) == 10);
    void *x = sync_pool_get(&p);
    GT_CHECK(x != NULL && sync__pool_count(&p, true) == 9);
    sync_pool_put(&p, x);
    GT_CHECK(sync__pool_count(&p, false) == 1);
    int got = 0;
    while (sync_pool_get(&p))
        got++;
    GT_CHECK(got == 10, "%d", got);
    GT_CHECK(p.victim_size == 0, "an empty victim is marked so");
    return 0;
}
Test(sync_pool, victim_cache) { gt_run(main_victim); }

static sync_pool_t steal_pool;
static chan_t *steal_done;

static void putter(void *arg)
{
    for (int i = 0; i < 50; i++)
        sync_pool_put(&steal_pool, gc_alloc(8));
    int one = 1;
    chan_send(steal_done, &one);
    /* Hold the other P so the main goroutine stays on its own. */
    chan_recv(steal_done, NULL);
}

/* Get takes from another P's ring when its own is empty. */
static int main_steal(int argc, char **argv)
{
    runtime_gomaxprocs(2);
    GC_STORE(steal_done, chan_make(sizeof(int), 0));
    go(putter, NULL);
    chan_recv(steal_done, NULL);
    int got = 0;
    while (sync_pool_get(&steal_pool))
        got++;
    int one = 1;
    chan_send(steal_done, &one);
    GT_CHECK(got >= 49, "got %d of 50", got);
    return 0;
}
Test(sync_pool, steal_from_other_p) { gt_run(main_steal); }

#define SG 64
#define SN 5000
static sync_pool_t stress_pool;
static sync_waitgroup_t swg;
static _Atomic long stress_bad;

static void *stress_new(void) { return gc_alloc(sizeof(long)); }

static void stress_g(void *arg)
{
    long id = (long)(intptr_t)arg;
    for (int i = 0; i < SN; i++) {
        long *x = sync_pool_get(&stress_pool);
        if (x == NULL || *x != 0)
            atomic_fetch_add(&stress_bad, 1);
        *x = id;             /* owned: nobody else may see it now */
        if (i % 7 == 0)
            runtime_gosched();
        if (*x != id)
            atomic_fetch_add(&stress_bad, 1);
        *x = 0;
        sync_pool_put(&stress_pool, x);
    }
    sync_waitgroup_done(&swg);
}

/* TestPoolStress: many goroutines, collections meanwhile; no object is
 * handed to two goroutines at once. */
static int main_stress(int argc, char **argv)
{
    runtime_gomaxprocs(4);
    stress_pool.new_fn = stress_new;
    sync_waitgroup_add(&swg, SG);
    for (intptr_t i = 1; i <= SG; i++)
        go(stress_g, (void *)i);
    for (int i = 0; i < 10; i++) {
        runtime_gc();
        time_sleep(TIME_MILLISECOND);
    }
    sync_waitgroup_wait(&swg);
    GT_CHECK(atomic_load(&stress_bad) == 0, "%ld", atomic_load(&stress_bad));
    return 0;
}
Test(sync_pool, stress, .timeout = 60) { gt_run(main_stress); }
