/*
 * test/go/test_sync_rwmutex.c -- port of Go 1.19 src/sync/rwmutex_test.go.
 *
 * TestParallelReaders, TestRWMutex (Try* checks and the reader/writer
 * hammer at GOMAXPROCS 1, 4, 10), TestRLocker (RLocker's Lock/Unlock are
 * sync_rwmutex_rlock/runlock in C).
 */
#include "helpers.h"

static bool T = true;

/* ---- TestParallelReaders ---- */

typedef struct { sync_rwmutex_t *m; chan_t *clocked, *cunlock, *cdone; } preader_t;

static void parallel_reader(void *arg)
{
    preader_t *p = arg;
    sync_rwmutex_rlock(p->m);
    chan_send(p->clocked, &T);
    chan_recv(p->cunlock, NULL);
    sync_rwmutex_runlock(p->m);
    chan_send(p->cdone, &T);
}

static void do_test_parallel_readers(int num_readers, int gomaxprocs)
{
    runtime_gomaxprocs(gomaxprocs);
    sync_rwmutex_t *m = gc_new(sync_rwmutex_t);
    preader_t p = {m, chan_make(sizeof(bool), 0), chan_make(sizeof(bool), 0),
                   chan_make(sizeof(bool), 0)};
    for (int i = 0; i < num_readers; i++)
        go(parallel_reader, &p);
    /* all RLocks must succeed together */
    for (int i = 0; i < num_readers; i++)
        chan_recv(p.clocked, NULL);
    for (int i = 0; i < num_readers; i++)
        chan_send(p.cunlock, &T);
    for (int i = 0; i < num_readers; i++)
        chan_recv(p.cdone, NULL);
    GT_CHECK(m->reader_count == 0, "reader_count %d", m->reader_count);
}

static int test_parallel_readers(int argc, char **argv)
{
    int old = runtime_gomaxprocs(-1);
    do_test_parallel_readers(1, 4);
    do_test_parallel_readers(3, 4);
    do_test_parallel_readers(4, 2);
    runtime_gomaxprocs(old);
    return 0;
}

Test(go_sync_rwmutex, TestParallelReaders) { gt_run(test_parallel_readers); }

/* ---- TestRWMutex ---- */

typedef struct {
    sync_rwmutex_t *rwm;
    int iterations;
    _Atomic int32_t *activity;
    chan_t *cdone;
} hammer_t;

static void reader(void *arg)
{
    hammer_t *h = arg;
    for (int i = 0; i < h->iterations; i++) {
        sync_rwmutex_rlock(h->rwm);
        int32_t n = atomic_fetch_add(h->activity, 1) + 1;
        GT_CHECK(n >= 1 && n < 10000, "wlock(%d)", n);
        for (volatile int j = 0; j < 100; j++) {}
        atomic_fetch_add(h->activity, -1);
        sync_rwmutex_runlock(h->rwm);
    }
    chan_send(h->cdone, &T);
}

static void writer(void *arg)
{
    hammer_t *h = arg;
    for (int i = 0; i < h->iterations; i++) {
        sync_rwmutex_lock(h->rwm);
        int32_t n = atomic_fetch_add(h->activity, 10000) + 10000;
        GT_CHECK(n == 10000, "wlock(%d)", n);
        for (volatile int j = 0; j < 100; j++) {}
        atomic_fetch_add(h->activity, -10000);
        sync_rwmutex_unlock(h->rwm);
    }
    chan_send(h->cdone, &T);
}

static void hammer_rwmutex(int gomaxprocs, int num_readers, int iterations)
{
    runtime_gomaxprocs(gomaxprocs);
    _Atomic int32_t activity = 0;
    sync_rwmutex_t *rwm = gc_new(sync_rwmutex_t);
    hammer_t h = {rwm, iterations, &activity, chan_make(sizeof(bool), 0)};
    go(writer, &h);
    int i;
    for (i = 0; i < num_readers / 2; i++)
        go(reader, &h);
    go(writer, &h);
    for (; i < num_readers; i++)
        go(reader, &h);
    for (i = 0; i < 2 + num_readers; i++)
        chan_recv(h.cdone, NULL);
    GT_CHECK(atomic_load(&activity) == 0, "activity %d", atomic_load(&activity));
}

static int test_rwmutex(int argc, char **argv)
{
    sync_rwmutex_t m = {0};
    sync_rwmutex_lock(&m);
    GT_CHECK(!sync_rwmutex_trylock(&m), "TryLock succeeded with mutex locked");
    GT_CHECK(!sync_rwmutex_tryrlock(&m), "TryRLock succeeded with mutex locked");
    sync_rwmutex_unlock(&m);

    GT_CHECK(sync_rwmutex_trylock(&m), "TryLock failed with mutex unlocked");
    sync_rwmutex_unlock(&m);

    GT_CHECK(sync_rwmutex_tryrlock(&m), "TryRLock failed with mutex unlocked");
    GT_CHECK(sync_rwmutex_tryrlock(&m), "TryRLock failed with mutex rlocked");
    GT_CHECK(!sync_rwmutex_trylock(&m), "TryLock succeeded with mutex rlocked");
    sync_rwmutex_runlock(&m);
    sync_rwmutex_runlock(&m);

    int old = runtime_gomaxprocs(-1);
    int n = 1000;
    hammer_rwmutex(1, 1, n);
    hammer_rwmutex(1, 3, n);
    hammer_rwmutex(1, 10, n);
    hammer_rwmutex(4, 1, n);
    hammer_rwmutex(4, 3, n);
    hammer_rwmutex(4, 10, n);
    hammer_rwmutex(10, 1, n);
    hammer_rwmutex(10, 3, n);
    hammer_rwmutex(10, 10, n);
    hammer_rwmutex(10, 5, n);
    runtime_gomaxprocs(old);
    return 0;
}

Test(go_sync_rwmutex, TestRWMutex, .timeout = 60) { gt_run(test_rwmutex); }

/* ---- TestRLocker ---- */

static sync_rwmutex_t rl_wl;
static chan_t *rl_wlocked, *rl_rlocked;
#define RL_N 10

static void rlocker_body(void *arg)
{
    for (int i = 0; i < RL_N; i++) {
        sync_rwmutex_rlock(&rl_wl);      /* rl.Lock() */
        sync_rwmutex_rlock(&rl_wl);      /* rl.Lock() */
        chan_send(rl_rlocked, &T);
        sync_rwmutex_lock(&rl_wl);
        chan_send(rl_wlocked, &T);
    }
}

static int test_rlocker(int argc, char **argv)
{
    rl_wlocked = chan_make(sizeof(bool), 1);
    rl_rlocked = chan_make(sizeof(bool), 1);
    go(rlocker_body, NULL);
    for (int i = 0; i < RL_N; i++) {
        chan_recv(rl_rlocked, NULL);
        sync_rwmutex_runlock(&rl_wl);    /* rl.Unlock() */
        select_case_t w[1] = {{rl_wlocked, SELECT_RECV, NULL, false}};
        GT_CHECK(chan_select(w, 1, false) < 0, "RLocker() didn't read-lock it");
        sync_rwmutex_runlock(&rl_wl);    /* rl.Unlock() */
        chan_recv(rl_wlocked, NULL);
        select_case_t r[1] = {{rl_rlocked, SELECT_RECV, NULL, false}};
        GT_CHECK(chan_select(r, 1, false) < 0, "RLocker() didn't respect the write lock");
        sync_rwmutex_unlock(&rl_wl);
    }
    return 0;
}

Test(go_sync_rwmutex, TestRLocker) { gt_run(test_rlocker); }
