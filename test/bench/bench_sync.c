/*
 * test/bench/bench_sync.c -- sync package benchmarks (Go twin:
 * test/bench/go/sync_test.go, same names, same work).
 *
 *   BenchmarkMutexUncontended    lock+unlock by one goroutine
 *   BenchmarkMutexContended4     4 goroutines lock+unlock (GOMAXPROCS=2 only)
 *   BenchmarkRWMutexRead90       4 goroutines, 9 of 10 ops RLock+RUnlock,
 *                                1 of 10 Lock+Unlock (GOMAXPROCS=2 only)
 *   BenchmarkWaitGroupFanOut     rounds of wg.Add(100), 100 goroutines that
 *                                call Done, Wait; one op = one goroutine
 *   BenchmarkOnce                Once.Do fast path
 */
#include "bench.h"

static void bench_mutex_uncontended(bench_b_t *b)
{
    /* on the goroutine's stack, as Go's non-escaping local: a static in
     * .bss could share a cache line with runtime data other threads write */
    sync_mutex_t mu = {0};
    for (int64_t i = 0; i < b->n; i++) {
        sync_mutex_lock(&mu);
        sync_mutex_unlock(&mu);
    }
}

typedef struct {
    sync_mutex_t mu;
    char pad[56];
    sync_rwmutex_t rw;
    char pad2[40];
    sync_waitgroup_t wg;
    int64_t per;
    long counter;
} __attribute__((aligned(64))) contend_t;   /* nothing else on its lines */

static void mutex_worker(void *arg)
{
    contend_t *c = arg;
    for (int64_t i = 0; i < c->per; i++) {
        sync_mutex_lock(&c->mu);
        c->counter++;
        sync_mutex_unlock(&c->mu);
    }
    sync_waitgroup_done(&c->wg);
}

static void bench_mutex_contended4(bench_b_t *b)
{
    static contend_t c;
    c.per = (b->n + 3) / 4;
    sync_waitgroup_add(&c.wg, 4);
    for (int i = 0; i < 4; i++)
        go(mutex_worker, &c);
    sync_waitgroup_wait(&c.wg);
}

static void rw_worker(void *arg)
{
    contend_t *c = arg;
    for (int64_t i = 0; i < c->per; i++) {
        if (i % 10 == 0) {
            sync_rwmutex_lock(&c->rw);
            c->counter++;
            sync_rwmutex_unlock(&c->rw);
        } else {
            sync_rwmutex_rlock(&c->rw);
            sync_rwmutex_runlock(&c->rw);
        }
    }
    sync_waitgroup_done(&c->wg);
}

static void bench_rwmutex_read90(bench_b_t *b)
{
    static contend_t c;
    c.per = (b->n + 3) / 4;
    sync_waitgroup_add(&c.wg, 4);
    for (int i = 0; i < 4; i++)
        go(rw_worker, &c);
    sync_waitgroup_wait(&c.wg);
}

static void fan_done(void *arg) { sync_waitgroup_done(arg); }

static void bench_waitgroup_fanout(bench_b_t *b)
{
    static sync_waitgroup_t wg;
    for (int64_t left = b->n; left > 0;) {
        int k = left < 100 ? (int)left : 100;
        sync_waitgroup_add(&wg, k);
        for (int i = 0; i < k; i++)
            go(fan_done, &wg);
        sync_waitgroup_wait(&wg);
        left -= k;
    }
}

static void nop(void *arg) { (void)arg; }

static void bench_once(bench_b_t *b)
{
    sync_once_t once = {0};
    for (int64_t i = 0; i < b->n; i++)
        sync_once_do(&once, nop, NULL);
}

static int run(int argc, char **argv)
{
    bench_run("BenchmarkMutexUncontended", bench_mutex_uncontended);
    if (bench_procs() == 2) {
        bench_run("BenchmarkMutexContended4", bench_mutex_contended4);
        bench_run("BenchmarkRWMutexRead90", bench_rwmutex_read90);
    }
    bench_run("BenchmarkWaitGroupFanOut", bench_waitgroup_fanout);
    bench_run("BenchmarkOnce", bench_once);
    return 0;
}

int main(int argc, char **argv) { return bench_main(run, argc, argv); }
