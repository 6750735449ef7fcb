/*
 * test/bench/bench_context.c -- context, sync.Map and sync.Pool; the Go
 * twins are in test/bench/go/context_test.go (same names, same work).
 *
 *   BenchmarkContextWithCancel  WithCancel(long-lived parent) + cancel
 *   BenchmarkContextValue10     Value of the outermost key through 10 layers
 *   BenchmarkContextSelect      select on ctx.Done() and a ready channel
 *   BenchmarkMapLoadStable      Load of a stable key, one goroutine per P
 *                               (b.RunParallel): ns/op halves from 1 to 2 Ps
 *                               when loads scale
 *   BenchmarkMapLoadStore90     9 Loads to 1 Store of 128 stable keys, per P
 *   BenchmarkPoolGetPut         Get then Put, one goroutine per P
 */
#include "bench.h"

static void bench_with_cancel(bench_b_t *b)
{
    context_t *parent = context_with_cancel(context_background());
    for (int64_t i = 0; i < b->n; i++)
        context_cancel(context_with_cancel(parent));
    context_cancel(parent);
}

static int vkeys[10];

static void bench_value10(bench_b_t *b)
{
    context_t *ctx = context_background();
    for (int i = 0; i < 10; i++)
        ctx = context_with_value(ctx, &vkeys[i], &vkeys[i]);
    void *sink = NULL;
    for (int64_t i = 0; i < b->n; i++)
        sink = context_value(ctx, &vkeys[0]);
    if (sink != &vkeys[0])
        abort();
}

static void bench_select(bench_b_t *b)
{
    context_t *ctx = context_with_cancel(context_background());
    chan_t *c = chan_make(sizeof(int), 1);
    int v = 1, got;
    select_case_t cs[2] = {{context_done(ctx), SELECT_RECV, NULL, false},
                           {c, SELECT_RECV, &got, false}};
    for (int64_t i = 0; i < b->n; i++) {
        chan_send(c, &v);
        if (chan_select(cs, 2, true) != 1)
            abort();
    }
    context_cancel(ctx);
}

/* RunParallel: procs goroutines share b->n operations. */
typedef struct {
    void (*fn)(int64_t n, int id);
    int64_t per;
    sync_waitgroup_t wg;
} par_t;

static par_t par;

static void par_worker(void *arg)
{
    par.fn(par.per, (int)(intptr_t)arg);
    sync_waitgroup_done(&par.wg);
}

static void run_parallel(bench_b_t *b, void (*fn)(int64_t, int))
{
    int procs = bench_procs();
    par.fn = fn;
    par.per = (b->n + procs - 1) / procs;
    sync_waitgroup_add(&par.wg, procs);
    for (intptr_t i = 0; i < procs; i++)
        go(par_worker, (void *)i);
    sync_waitgroup_wait(&par.wg);
}

static sync_map_t smap;
static char mkeys[128][16];

static void map_fill(void)
{
    for (int i = 0; i < 128; i++) {
        snprintf(mkeys[i], sizeof mkeys[i], "key%03d", i);
        sync_map_store(&smap, mkeys[i], strlen(mkeys[i]), (void *)(intptr_t)i);
    }
    for (int i = 0; i < 128; i++)     /* misses promote dirty to the snapshot */
        sync_map_load(&smap, mkeys[i], strlen(mkeys[i]), NULL);
}

static void load_stable(int64_t n, int id)
{
    void *v;
    for (int64_t i = 0; i < n; i++)
        if (!sync_map_load(&smap, "key007", 6, &v))
            abort();
}

static void bench_map_load(bench_b_t *b)
{
    if (smap.read == NULL)
        map_fill();
    run_parallel(b, load_stable);
}

static void load_store90(int64_t n, int id)
{
    uint32_t s = (uint32_t)id * 2654435761u + 1;
    for (int64_t i = 0; i < n; i++) {
        s = s * 1664525 + 1013904223;
        const char *k = mkeys[(s >> 8) & 127];
        if (i % 10 == 9)
            sync_map_store(&smap, k, 6, (void *)(intptr_t)i);
        else
            sync_map_load(&smap, k, 6, NULL);
    }
}

static void bench_map_load_store(bench_b_t *b)
{
    if (smap.read == NULL)
        map_fill();
    run_parallel(b, load_store90);
}

static sync_pool_t pool;
static void *pool_new(void) { return gc_alloc(64); }

static void pool_get_put(int64_t n, int id)
{
    for (int64_t i = 0; i < n; i++)
        sync_pool_put(&pool, sync_pool_get(&pool));
}

static void bench_pool(bench_b_t *b)
{
    pool.new_fn = pool_new;
    run_parallel(b, pool_get_put);
}

static int run(int argc, char **argv)
{
    bench_run("BenchmarkContextWithCancel", bench_with_cancel);
    bench_run("BenchmarkContextValue10", bench_value10);
    bench_run("BenchmarkContextSelect", bench_select);
    bench_run("BenchmarkMapLoadStable", bench_map_load);
    bench_run("BenchmarkMapLoadStore90", bench_map_load_store);
    bench_run("BenchmarkPoolGetPut", bench_pool);
    return 0;
}

int main(int argc, char **argv) { return bench_main(run, argc, argv); }
