/*
 * test/race_program.c -- a gort program for the ThreadSanitizer build:
 * "race" has two goroutines on two Ps write one plain counter with no
 * synchronisation (TSan must report it); "clean" does the same work
 * ordered by gort's own synchronisation -- a mutex taken under
 * contention, a buffer handed over a channel, a WaitGroup, a goroutine's
 * start -- and TSan must report nothing. test/test_sanitize.c runs it.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include <gort.h>

enum { ROUNDS = 200000, BUF_WORDS = 64, HANDOFFS = 1000 };

static volatile long counter;   /* volatile: one access per round, not one add */
static sync_mutex_t mu;
static sync_waitgroup_t wg;
static chan_t *handoff;
static long started_value;
static atomic_int arrived;

/* Waits for the other racer, so that they write at the same time on two
 * Ps: a relaxed count orders nothing, while TSan sees goroutines that
 * take turns on one thread as ordered by the switch. The wait is bounded
 * (a loop is never preempted under TSan): an idle P steals the other
 * racer long before. */
static void rendezvous(void)
{
    atomic_fetch_add_explicit(&arrived, 1, memory_order_relaxed);
    for (long i = 0; i < 2000000000L && atomic_load_explicit(&arrived, memory_order_relaxed) < 2; i++)
        ;
}

/* Increments the counter with no synchronisation. */
static void racy(void *arg)
{
    (void)arg;
    rendezvous();
    for (int i = 0; i < ROUNDS; i++)
        counter++;
    sync_waitgroup_done(&wg);
}

/* Increments the counter under the mutex. */
static void locked(void *arg)
{
    (void)arg;
    for (int i = 0; i < ROUNDS; i++) {
        sync_mutex_lock(&mu);
        counter++;
        sync_mutex_unlock(&mu);
    }
    sync_waitgroup_done(&wg);
}

/* Fills fresh buffers with plain stores and sends them away. */
static void producer(void *arg)
{
    (void)arg;
    for (long n = 0; n < HANDOFFS; n++) {
        long *buf = gc_alloc(BUF_WORDS * sizeof(long));
        for (int i = 0; i < BUF_WORDS; i++)
            buf[i] = n + i;
        chan_send(handoff, &buf);
    }
    sync_waitgroup_done(&wg);
}

/* Reads the value main wrote before starting it. */
static void reader(void *arg)
{
    *(long *)arg = started_value;
    sync_waitgroup_done(&wg);
}

/* The clean variant; returns 0 if every value arrived intact. */
static int run_clean(void)
{
    handoff = chan_make(sizeof(long *), 4);
    sync_waitgroup_add(&wg, 3);
    go(locked, NULL);
    go(locked, NULL);
    go(producer, NULL);
    long bad = 0;
    for (long n = 0; n < HANDOFFS; n++) {
        long *buf;
        chan_recv(handoff, &buf);
        for (int i = 0; i < BUF_WORDS; i++)
            bad += buf[i] != n + i;
    }
    sync_waitgroup_wait(&wg);
    long seen = 0;
    started_value = 42;
    sync_waitgroup_add(&wg, 1);
    go(reader, &seen);
    sync_waitgroup_wait(&wg);
    printf("counter=%ld bad=%ld seen=%ld\n", counter, bad, seen);
    return counter == 2L * ROUNDS && bad == 0 && seen == 42 ? 0 : 1;
}

static int app_main(int argc, char **argv)
{
    runtime_gomaxprocs(2);
    if (argc > 1 && strcmp(argv[1], "clean") == 0)
        return run_clean();
    sync_waitgroup_add(&wg, 2);
    go(racy, NULL);
    go(racy, NULL);
    sync_waitgroup_wait(&wg);
    printf("counter=%ld\n", counter);
    return 0;
}

int main(int argc, char **argv) { return runtime_main(app_main, argc, argv); }
