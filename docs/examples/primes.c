/*
 * primes.c -- goroutines and channels at work: two ways to find primes.
 *
 * 1. Go's concurrent prime sieve (from the Go tour and go/test/chan/sieve1.go):
 *    a generator goroutine sends 2, 3, 4, ... into a channel; every prime
 *    found adds a filter goroutine to the chain that drops the multiples of
 *    that prime. One goroutine per prime, all talking over unbuffered
 *    channels.
 * 2. Fan-out / fan-in: the numbers below LIMIT are cut into chunks; WORKERS
 *    goroutines take chunks from a jobs channel, count the primes in each
 *    and send the counts to a results channel; a WaitGroup closes the
 *    results channel when the last worker is done; main adds them up.
 *
 * Build (after `make install PREFIX=...`):
 *     cc -std=c11 primes.c $(pkg-config --cflags --libs gort) -o primes
 * or just `make run` in the gort tree.  Usage: primes [count [limit]]
 *
 * Memory rules shown here: structures that hold channel pointers and are
 * handed to goroutines are allocated with gc_alloc and their pointer
 * fields are written through GC_STORE (the collector's write barrier).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <gort.h>

#define DEFAULT_COUNT 25
#define DEFAULT_LIMIT 2000000
#define WORKERS       8
#define CHUNK         10000

/* ---- 1. the sieve -------------------------------------------------- */

/* Sends 2, 3, 4, ... to ch for ever. */
static void generate(void *arg)
{
    chan_t *ch = arg;
    for (int i = 2;; i++)
        chan_send(ch, &i);
}

typedef struct {
    chan_t *in, *out;
    int prime;
} filter_t;

/* Copies the values from in to out, dropping those divisible by prime. */
static void filter(void *arg)
{
    filter_t *f = arg;
    for (;;) {
        int i;
        chan_recv(f->in, &i);
        if (i % f->prime != 0)
            chan_send(f->out, &i);
    }
}

static void sieve(int count)
{
    chan_t *ch = chan_make(sizeof(int), 0);
    go(generate, ch);
    printf("first %d primes (sieve, one goroutine per prime):", count);
    for (int n = 0; n < count; n++) {
        int prime;
        chan_recv(ch, &prime);
        printf(" %d", prime);
        filter_t *f = gc_new(filter_t);
        GC_STORE(f->in, ch);
        ch = chan_make(sizeof(int), 0);
        GC_STORE(f->out, ch);
        f->prime = prime;
        go(filter, f);
    }
    printf("\n");
    /* The generator and the filters stay blocked; they end with main. */
}

/* ---- 2. fan-out / fan-in ------------------------------------------- */

typedef struct { int64_t lo, hi; } job_t;

typedef struct {
    chan_t *jobs, *results;
    sync_waitgroup_t *wg;
} worker_t;

static int is_prime(int64_t n)
{
    if (n < 2)
        return 0;
    for (int64_t d = 2; d * d <= n; d++)
        if (n % d == 0)
            return 0;
    return 1;
}

/* Counts the primes of each job until the jobs channel is closed. */
static void worker(void *arg)
{
    worker_t *w = arg;
    job_t job;
    while (chan_recv2(w->jobs, &job)) {
        int64_t count = 0;
        for (int64_t n = job.lo; n < job.hi; n++)
            count += is_prime(n);
        chan_send(w->results, &count);
    }
    sync_waitgroup_done(w->wg);
}

/* Closes the results channel once every worker is done. */
static void closer(void *arg)
{
    worker_t *w = arg;
    sync_waitgroup_wait(w->wg);
    chan_close(w->results);
}

static int64_t count_primes(int64_t limit)
{
    worker_t *w = gc_new(worker_t);
    GC_STORE(w->jobs, chan_make(sizeof(job_t), WORKERS));
    GC_STORE(w->results, chan_make(sizeof(int64_t), WORKERS));
    GC_STORE(w->wg, gc_new(sync_waitgroup_t));

    sync_waitgroup_add(w->wg, WORKERS);
    for (int i = 0; i < WORKERS; i++)
        go(worker, w);
    go(closer, w);

    /* Fan out and in at once: main sends jobs while the workers already
     * reply, so it selects on both channels and never blocks on one while
     * the other could proceed. */
    int64_t total = 0, lo = 0;
    job_t job = {0, 0};
    int sending = 1;
    for (;;) {
        select_case_t cases[2];
        int64_t count;
        int n = 0;
        if (lo < limit) {
            job.lo = lo;
            job.hi = lo + CHUNK < limit ? lo + CHUNK : limit;
            cases[n++] = (select_case_t){w->jobs, SELECT_SEND, &job, false};
        } else if (sending) {
            chan_close(w->jobs);
            sending = 0;
        }
        cases[n++] = (select_case_t){w->results, SELECT_RECV, &count, false};
        int k = chan_select(cases, n, true);
        if (cases[k].dir == SELECT_SEND) {
            lo = job.hi;
        } else if (cases[k].ok) {
            total += count;
        } else {
            break; /* results closed: every worker is done */
        }
    }
    return total;
}

/* ---- main ------------------------------------------------------------ */

static int app_main(int argc, char **argv)
{
    int count = argc > 1 ? atoi(argv[1]) : DEFAULT_COUNT;
    int64_t limit = argc > 2 ? atoll(argv[2]) : DEFAULT_LIMIT;
    if (count < 1 || limit < 2) {
        fprintf(stderr, "usage: primes [count [limit]]\n");
        return 2;
    }
    sieve(count);
    int64_t n = count_primes(limit);
    printf("primes below %lld: %lld (counted by %d goroutines, GOMAXPROCS=%d)\n",
           (long long)limit, (long long)n, WORKERS, runtime_gomaxprocs(0));
    return 0;
}

int main(int argc, char **argv)
{
    return runtime_main(app_main, argc, argv);
}
