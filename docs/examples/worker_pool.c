/*
 * worker_pool.c -- a bounded worker pool: 100 jobs, at most 4 goroutines
 * working at any time. A buffered channel of capacity 4 is the semaphore
 * (Go's `sem := make(chan struct{}, 4)`): a job's goroutine takes a slot
 * before working and gives it back when done.
 */
#include <stdio.h>
#include <gort.h>

#define JOBS  100
#define LIMIT 4

static chan_t *sem;                  /* capacity LIMIT: the free slots */
static sync_waitgroup_t wg;
static sync_mutex_t mu;
static int running, peak;
static long total;

static void job(void *arg)
{
    long n = (long)arg;
    chan_send(sem, NULL);            /* take a slot (blocks when LIMIT run) */
    sync_mutex_lock(&mu);
    if (++running > peak)
        peak = running;
    sync_mutex_unlock(&mu);

    time_sleep(TIME_MILLISECOND);    /* the work */

    sync_mutex_lock(&mu);
    running--;
    total += n * n;
    sync_mutex_unlock(&mu);
    chan_recv(sem, NULL);            /* give the slot back */
    sync_waitgroup_done(&wg);
}

static int app_main(int argc, char **argv)
{
    (void)argc; (void)argv;
    GC_STORE(sem, chan_make(0, LIMIT));
    for (long i = 1; i <= JOBS; i++) {
        sync_waitgroup_add(&wg, 1);
        go(job, (void *)i);
    }
    sync_waitgroup_wait(&wg);
    printf("jobs: %d, sum of squares: %ld, at most %d at a time (limit %d)\n",
           JOBS, total, peak, LIMIT);
    return peak <= LIMIT ? 0 : 1;
}

int main(int argc, char **argv) { return runtime_main(app_main, argc, argv); }
