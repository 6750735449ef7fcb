/*
 * test/test_sync_map.c -- sync.Map, after Go 1.19's sync/map_test.go and
 * map_bench_test.go: a random sequence of every operation checked against
 * a plain model, LoadOrStore/Swap/CompareAndSwap/CompareAndDelete
 * semantics, Range calling the map's own functions, Range concurrent with
 * stores, keys that are only ever stored and deleted (dirty stays small),
 * the bench_test workloads run as checked behaviour from 2 Ps, loads of
 * stable keys from every P at once, and values kept alive across GCs.
 */
#include "helpers.h"
#include "../sync/internal.h"

static sync_map_t gm;                  /* a global map: scanned as a root */

static void key_of(char *buf, size_t n, long i)
{
    snprintf(buf, n, "key-%ld", i);
}

#define KL(b) (b), strlen(b)

/* Fresh map for a test (the previous one becomes garbage). */
static void reset(sync_map_t *m)
{
    gc_memclr(m, sizeof *m);
}

/* TestMapMatchesRWMutex in miniature: random ops against a model. */
#define MODEL_KEYS 64
static int main_model(int argc, char **argv)
{
    reset(&gm);
    intptr_t model[MODEL_KEYS];
    bool present[MODEL_KEYS] = {false};
    uint32_t seed = 12345;
    char k[32];
    for (int step = 0; step < 200000; step++) {
        seed = seed * 1664525 + 1013904223;
        int i = (seed >> 8) % MODEL_KEYS, op = (seed >> 20) % 8;
        intptr_t nv = (seed >> 4) & 0xff;
        key_of(k, sizeof k, i);
        void *v = NULL;
        bool ok;
        switch (op) {
        case 0:
        case 1:
            ok = sync_map_load(&gm, KL(k), &v);
            GT_CHECK(ok == present[i] && (!ok || (intptr_t)v == model[i]), "load %d", i);
            break;
        case 2:
            sync_map_store(&gm, KL(k), (void *)nv);
            present[i] = true, model[i] = nv;
            break;
        case 3:
            ok = sync_map_load_or_store(&gm, KL(k), (void *)nv, &v);
            GT_CHECK(ok == present[i] && (intptr_t)v == (ok ? model[i] : nv));
            if (!ok)
                present[i] = true, model[i] = nv;
            break;
        case 4:
            ok = sync_map_load_and_delete(&gm, KL(k), &v);
            GT_CHECK(ok == present[i] && (!ok || (intptr_t)v == model[i]));
            present[i] = false;
            break;
        case 5:
            ok = sync_map_swap(&gm, KL(k), (void *)nv, &v);
            GT_CHECK(ok == present[i] && (!ok || (intptr_t)v == model[i]));
            present[i] = true, model[i] = nv;
            break;
        case 6: {
            intptr_t old = (seed & 1) && present[i] ? model[i] : nv;
            ok = sync_map_compare_and_swap(&gm, KL(k), (void *)old, (void *)(nv + 1));
            GT_CHECK(ok == (present[i] && model[i] == old));
            if (ok)
                model[i] = nv + 1;
            break;
        }
        default: {
            intptr_t old = (seed & 1) && present[i] ? model[i] : nv;
            ok = sync_map_compare_and_delete(&gm, KL(k), (void *)old);
            GT_CHECK(ok == (present[i] && model[i] == old));
            if (ok)
                present[i] = false;
        }
        }
    }
    return 0;
}
Test(sync_map, matches_model) { gt_run(main_model); }

static bool count_fn(const void *key, size_t len, void *value, void *arg)
{
    (*(int *)arg)++;
    return true;
}

/* Zero value, NULL values, binary keys, out-parameters left NULL. */
static int main_basics(int argc, char **argv)
{
    sync_map_t m = {0};
    void *v = (void *)1;
    GT_CHECK(!sync_map_load(&m, "a", 1, &v) && v == (void *)1);
    GT_CHECK(!sync_map_load_and_delete(&m, "a", 1, NULL));
    GT_CHECK(!sync_map_compare_and_swap(&m, "a", 1, NULL, NULL), "non-existing key");
    GT_CHECK(!sync_map_compare_and_delete(&m, "a", 1, NULL));
    sync_map_delete(&m, "a", 1);
    int n = 0;
    sync_map_range(&m, count_fn, &n);
    GT_CHECK(n == 0);
    sync_map_store(&m, "a", 1, NULL);
    GT_CHECK(sync_map_load(&m, "a", 1, &v) && v == NULL, "a NULL value is a value");
    GT_CHECK(sync_map_compare_and_swap(&m, "a", 1, NULL, (void *)2));
    GT_CHECK(sync_map_load(&m, "a", 1, NULL));
    GT_CHECK(!sync_map_load(&m, "a\0", 2, NULL), "length is part of the key");
    sync_map_store(&m, "a\0b", 3, (void *)3);
    sync_map_store(&m, "", 0, (void *)4);
    GT_CHECK(sync_map_load(&m, "a\0b", 3, &v) && v == (void *)3);
    GT_CHECK(sync_map_load(&m, "", 0, &v) && v == (void *)4);
    char key[8] = "abc";
    sync_map_store(&m, key, 3, (void *)5);
    strcpy(key, "xyz");
    GT_CHECK(sync_map_load(&m, "abc", 3, &v) && v == (void *)5, "key copied");
    GT_CHECK(sync_map_load_or_store(&m, "abc", 3, (void *)6, NULL));
    GT_CHECK(!sync_map_load_or_store(&m, "new", 3, (void *)7, &v) && v == (void *)7);
    n = 0;
    sync_map_range(&m, count_fn, &n);
    GT_CHECK(n == 5, "%d", n);
    GT_CHECK(sync_map_swap(&m, "new", 3, (void *)8, &v) && v == (void *)7);
    GT_CHECK(!sync_map_swap(&m, "newer", 5, (void *)9, &v));
    GT_CHECK(sync_map_load_and_delete(&m, "newer", 5, &v) && v == (void *)9);
    GT_CHECK(!sync_map_load(&m, "newer", 5, NULL));
    return 0;
}
Test(sync_map, basics) { gt_run(main_basics); }

typedef struct { sync_map_t *m; int seen; } nest_t;

static bool nested_fn(const void *key, size_t len, void *value, void *arg)
{
    nest_t *n = arg;
    void *v;
    n->seen++;
    GT_CHECK(sync_map_load(n->m, key, len, &v) && v == value);
    sync_map_store(n->m, key, len, (void *)((intptr_t)value + 1000));
    GT_CHECK(sync_map_load_or_store(n->m, key, len, NULL, &v) &&
             v == (void *)((intptr_t)value + 1000));
    sync_map_store(n->m, "extra", 5, (void *)1);
    sync_map_delete(n->m, "extra", 5);
    sync_map_delete(n->m, key, len);
    return true;
}

/* TestMapRangeNestedCall: fn may call every other function. */
static int main_nested(int argc, char **argv)
{
    reset(&gm);
    char k[32];
    for (long i = 0; i < 5; i++) {
        key_of(k, sizeof k, i);
        sync_map_store(&gm, KL(k), (void *)i);
    }
    nest_t n = {&gm, 0};
    sync_map_range(&gm, nested_fn, &n);
    GT_CHECK(n.seen == 5, "%d", n.seen);
    int left = 0;
    sync_map_range(&gm, count_fn, &left);
    GT_CHECK(left == 0, "%d", left);
    return 0;
}
Test(sync_map, range_nested_call) { gt_run(main_nested); }

#define CR_N 64
static _Atomic bool cr_stop;
static sync_waitgroup_t cr_wg;

static void cr_writer(void *arg)
{
    intptr_t g = (intptr_t)arg;
    char k[32];
    for (intptr_t n = 1; !atomic_load(&cr_stop); n++) {
        for (long i = 1; i < CR_N; i++) {
            key_of(k, sizeof k, i);
            sync_map_store(&gm, KL(k), (void *)(n * i));
        }
        if (n % 16 == 0)
            runtime_gosched();
    }
    (void)g;
    sync_waitgroup_done(&cr_wg);
}

typedef struct { int seen; } cr_t;

static bool cr_fn(const void *key, size_t len, void *value, void *arg)
{
    char buf[40];
    memcpy(buf, key, len);
    buf[len] = 0;
    long i = strtol(buf + 4, NULL, 10);
    GT_CHECK(i > 0 && (intptr_t)value % i == 0, "key %ld value %ld", i, (long)(intptr_t)value);
    ((cr_t *)arg)->seen++;
    return true;
}

/* TestConcurrentRange: every value Range sees is one some store wrote. */
static int main_concurrent_range(int argc, char **argv)
{
    runtime_gomaxprocs(2);
    reset(&gm);
    char k[32];
    for (long i = 1; i < CR_N; i++) {
        key_of(k, sizeof k, i);
        sync_map_store(&gm, KL(k), (void *)i);
    }
    sync_waitgroup_add(&cr_wg, 2);
    go(cr_writer, (void *)1);
    go(cr_writer, (void *)2);
    for (int round = 0; round < 2000; round++) {
        cr_t c = {0};
        sync_map_range(&gm, cr_fn, &c);
        GT_CHECK(c.seen == CR_N - 1, "round %d saw %d", round, c.seen);
    }
    atomic_store(&cr_stop, true);
    sync_waitgroup_wait(&cr_wg);
    return 0;
}
Test(sync_map, concurrent_range, .timeout = 60) { gt_run(main_concurrent_range); }

/* Unique keys stored and deleted, with no loads: dirty stays small. */
static int main_store_delete(int argc, char **argv)
{
    reset(&gm);
    sync_map_store(&gm, "anchor", 6, NULL);
    sync_map_range(&gm, count_fn, &(int){0});     /* anchor now in the snapshot */
    char k[32];
    for (long i = 0; i < 100000; i++) {
        key_of(k, sizeof k, i);
        sync_map_store(&gm, KL(k), (void *)i);
        sync_map_delete(&gm, KL(k));
    }
    intptr_t d = sync__map_dirty_len(&gm);
    GT_CHECK(d <= 2, "dirty holds %ld entries", (long)d);
    runtime_gc();
    runtime_mem_stats_t ms;
    runtime_read_mem_stats(&ms);
    GT_CHECK(ms.heap_alloc < (64u << 20), "heap %lu", (unsigned long)ms.heap_alloc);
    return 0;
}
Test(sync_map, store_delete_stays_small) { gt_run(main_store_delete); }

/* Misses promote dirty to the snapshot (no lock on later loads). */
static int main_promote(int argc, char **argv)
{
    reset(&gm);
    char k[32];
    for (long i = 0; i < 100; i++) {
        key_of(k, sizeof k, i);
        sync_map_store(&gm, KL(k), (void *)i);
    }
    GT_CHECK(sync__map_dirty_len(&gm) == 100);
    for (long i = 0; i < 100; i++) {
        key_of(k, sizeof k, i);
        void *v;
        GT_CHECK(sync_map_load(&gm, KL(k), &v) && (long)(intptr_t)v == i);
    }
    GT_CHECK(sync__map_dirty_len(&gm) == -1, "promoted after len(dirty) misses");
    GT_CHECK(gm.misses == 0);
    return 0;
}
Test(sync_map, misses_promote_dirty) { gt_run(main_promote); }

#define BW 4
#define BN 20000
static sync_waitgroup_t bwg;
static _Atomic long bad;

static void load_mostly_hits(void *arg)
{
    char k[32];
    uint32_t s = (uint32_t)(intptr_t)arg * 7 + 1;
    for (int i = 0; i < BN; i++) {
        s = s * 1664525 + 1013904223;
        long j = (s >> 8) % 1024;   /* half of them hit */
        key_of(k, sizeof k, j);
        void *v;
        bool ok = sync_map_load(&gm, KL(k), &v);
        if (ok != (j < 512) || (ok && (long)(intptr_t)v != j))
            atomic_fetch_add(&bad, 1);
    }
    sync_waitgroup_done(&bwg);
}

static void load_or_store_collision(void *arg)
{
    for (int i = 0; i < BN; i++) {
        void *v;
        sync_map_load_or_store(&gm, "collide", 7, (void *)7, &v);
        if (v != (void *)7)
            atomic_fetch_add(&bad, 1);
    }
    sync_waitgroup_done(&bwg);
}

static void load_and_delete_balanced(void *arg)
{
    char k[32];
    intptr_t g = (intptr_t)arg;
    for (long i = 0; i < BN; i++) {
        key_of(k, sizeof k, 1000000 + g * BN + i);
        if (i & 1) {
            sync_map_store(&gm, KL(k), (void *)i);
            void *v;
            if (!sync_map_load_and_delete(&gm, KL(k), &v) || v != (void *)i)
                atomic_fetch_add(&bad, 1);
        } else if (sync_map_load_and_delete(&gm, KL(k), NULL)) {
            atomic_fetch_add(&bad, 1);
        }
    }
    sync_waitgroup_done(&bwg);
}

static void swap_collision(void *arg)
{
    for (int i = 0; i < BN; i++) {
        void *v;
        if (!sync_map_swap(&gm, "collide", 7, (void *)(intptr_t)(i + 1), &v) || v == NULL)
            atomic_fetch_add(&bad, 1);
        sync_map_compare_and_swap(&gm, "collide", 7, (void *)(intptr_t)(i + 1), (void *)3);
    }
    sync_waitgroup_done(&bwg);
}

/* Runs BW goroutines of fn on 2 Ps; none may see a wrong result. */
static void run_workers(void (*fn)(void *))
{
    atomic_store(&bad, 0);
    sync_waitgroup_add(&bwg, BW);
    for (intptr_t i = 0; i < BW; i++)
        go(fn, (void *)i);
    sync_waitgroup_wait(&bwg);
    GT_CHECK(atomic_load(&bad) == 0, "%ld bad results", atomic_load(&bad));
}

/* map_bench_test.go's workloads, checked. */
static int main_bench_workloads(int argc, char **argv)
{
    runtime_gomaxprocs(2);
    reset(&gm);
    char k[32];
    for (long i = 0; i < 512; i++) {
        key_of(k, sizeof k, i);
        sync_map_store(&gm, KL(k), (void *)i);
    }
    run_workers(load_mostly_hits);
    sync_map_store(&gm, "collide", 7, (void *)7);
    run_workers(load_or_store_collision);
    run_workers(load_and_delete_balanced);
    sync_map_store(&gm, "collide", 7, (void *)1);
    run_workers(swap_collision);
    return 0;
}
Test(sync_map, bench_workloads_checked, .timeout = 60) { gt_run(main_bench_workloads); }

static _Atomic long stable_loads;

static void stable_loader(void *arg)
{
    char k[32];
    long n = 0;
    for (int r = 0; r < 200; r++)
        for (long i = 0; i < 100; i++) {
            key_of(k, sizeof k, i);
            void *v;
            if (sync_map_load(&gm, KL(k), &v) && (long)(intptr_t)v == i)
                n++;
        }
    atomic_fetch_add(&stable_loads, n);
    sync_waitgroup_done(&bwg);
}

/* Stable keys loaded from every P at once, with a GC in the middle. */
static int main_stable(int argc, char **argv)
{
    int procs = runtime_num_cpu() < 4 ? 4 : runtime_num_cpu();
    runtime_gomaxprocs(procs);
    reset(&gm);
    char k[32];
    for (long i = 0; i < 100; i++) {
        key_of(k, sizeof k, i);
        sync_map_store(&gm, KL(k), (void *)i);
    }
    sync_map_range(&gm, count_fn, &(int){0});    /* promote */
    sync_waitgroup_add(&bwg, procs);
    for (int i = 0; i < procs; i++)
        go(stable_loader, NULL);
    runtime_gc();
    sync_waitgroup_wait(&bwg);
    GT_CHECK(atomic_load(&stable_loads) == (long)procs * 200 * 100);
    GT_CHECK(sync__map_dirty_len(&gm) == -1, "loads of read keys take no lock");
    return 0;
}
Test(sync_map, stable_loads_every_p, .timeout = 60) { gt_run(main_stable); }

static _Atomic int finalized;
static void fin(void *obj) { atomic_fetch_add(&finalized, 1); }

/* GC values stay alive while in the map and go once deleted. */
static int main_gc_values(int argc, char **argv)
{
    reset(&gm);
    char k[32];
    for (long i = 0; i < 1000; i++) {
        long *obj = gc_alloc(64);
        *obj = i;
        runtime_set_finalizer(obj, fin);
        key_of(k, sizeof k, i);
        sync_map_store(&gm, KL(k), obj);
    }
    for (int r = 0; r < 3; r++) {
        runtime_gc();
        time_sleep(TIME_MILLISECOND);
    }
    GT_CHECK(atomic_load(&finalized) == 0, "%d finalized while stored", atomic_load(&finalized));
    for (long i = 0; i < 1000; i++) {
        key_of(k, sizeof k, i);
        void *v;
        GT_CHECK(sync_map_load(&gm, KL(k), &v) && *(long *)v == i);
    }
    reset(&gm);
    for (int r = 0; r < 20 && atomic_load(&finalized) < 900; r++) {
        runtime_gc();
        time_sleep(5 * TIME_MILLISECOND);
    }
    GT_CHECK(atomic_load(&finalized) >= 900, "only %d released", atomic_load(&finalized));
    return 0;
}
Test(sync_map, gc_values, .timeout = 60) { gt_run(main_gc_values); }
