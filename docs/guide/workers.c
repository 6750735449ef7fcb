/* docs/guide/workers.c -- a worker pool: a fixed number of goroutines take
 * jobs from one channel and send results to another. */
#include <stdio.h>
#include <gort.h>

enum { WORKERS = 4, JOBS = 20 };

typedef struct { int index, n; } job_t;
typedef struct { int index; long value; } result_t;

typedef struct {
    chan_t *jobs, *results;
    sync_waitgroup_t wg;
} pool_t;

static long fib(int n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }

static void worker(void *arg)
{
    pool_t *p = arg;
    job_t j;
    while (chan_recv2(p->jobs, &j)) {                /* until jobs is closed */
        result_t r = {j.index, fib(j.n)};
        chan_send(p->results, &r);
    }
    sync_waitgroup_done(&p->wg);
}

static void close_when_done(void *arg)
{
    pool_t *p = arg;
    sync_waitgroup_wait(&p->wg);
    chan_close(p->results);
}

static void feed(void *arg)
{
    pool_t *p = arg;
    for (int i = 0; i < JOBS; i++) {
        job_t j = {i, i + 10};
        chan_send(p->jobs, &j);
    }
    chan_close(p->jobs);                             /* no more work */
}

static int app_main(int argc, char **argv)
{
    (void)argc; (void)argv;
    pool_t *p = gc_new(pool_t);
    GC_STORE(p->jobs, chan_make(sizeof(job_t), WORKERS));
    GC_STORE(p->results, chan_make(sizeof(result_t), WORKERS));
    sync_waitgroup_add(&p->wg, WORKERS);
    for (int i = 0; i < WORKERS; i++)
        go(worker, p);
    go(close_when_done, p);
    go(feed, p);       /* feed from its own goroutine: main collects meanwhile */

    long by_index[JOBS];
    result_t r;
    while (chan_recv2(p->results, &r))               /* results arrive in any order */
        by_index[r.index] = r.value;
    for (int i = 0; i < JOBS; i += 5)
        printf("fib(%d) = %ld\n", i + 10, by_index[i]);
    return 0;
}

int main(int argc, char **argv)
{
    return runtime_main(app_main, argc, argv);
}
