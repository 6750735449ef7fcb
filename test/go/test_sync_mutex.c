/*
 * test/go/test_sync_mutex.c -- port of Go 1.19 src/sync/mutex_test.go.
 *
 * TestSemaphore, TestMutex, TestMutexMisuse (each misuse in a child
 * process: Go's fatal errors are not recoverable), TestMutexFairness.
 * The semaphore is gort's internal one (Go's test reaches it through
 * export_test.go the same way). Benchmarks live in test/bench/bench_sync.c.
 */
#include "helpers.h"

/* internal semaphore API (sync/internal.h); linkable: tests are static */
void sync__semacquire(uint32_t *addr, bool lifo, const char *reason);
void sync__semrelease(uint32_t *addr, bool handoff);

static bool T = true;

/* ---- TestSemaphore ---- */

typedef struct { uint32_t *s; int loops; chan_t *cdone; } hammer_sema_t;

static void hammer_semaphore(void *arg)
{
    hammer_sema_t *h = arg;
    for (int i = 0; i < h->loops; i++) {
        sync__semacquire(h->s, false, "semacquire");
        sync__semrelease(h->s, false);
    }
    chan_send(h->cdone, &T);
}

static int test_semaphore(int argc, char **argv)
{
    static uint32_t s = 1;
    chan_t *c = chan_make(sizeof(bool), 0);
    hammer_sema_t h = {&s, 1000, c};
    for (int i = 0; i < 10; i++)
        go(hammer_semaphore, &h);
    for (int i = 0; i < 10; i++)
        chan_recv(c, NULL);
    GT_CHECK(s == 1, "semaphore count %u, want 1", s);
    return 0;
}

Test(go_sync_mutex, TestSemaphore) { gt_run(test_semaphore); }

/* ---- TestMutex ---- */

typedef struct { sync_mutex_t *m; int loops; chan_t *cdone; } hammer_mutex_t;

static void hammer_mutex(void *arg)
{
    hammer_mutex_t *h = arg;
    for (int i = 0; i < h->loops; i++) {
        if (i % 3 == 0) {
            if (sync_mutex_trylock(h->m))
                sync_mutex_unlock(h->m);
            continue;
        }
        sync_mutex_lock(h->m);
        sync_mutex_unlock(h->m);
    }
    chan_send(h->cdone, &T);
}

static int test_mutex(int argc, char **argv)
{
    sync_mutex_t *m = gc_new(sync_mutex_t);
    sync_mutex_lock(m);
    GT_CHECK(!sync_mutex_trylock(m), "TryLock succeeded with mutex locked");
    sync_mutex_unlock(m);
    GT_CHECK(sync_mutex_trylock(m), "TryLock failed with mutex unlocked");
    sync_mutex_unlock(m);

    chan_t *c = chan_make(sizeof(bool), 0);
    hammer_mutex_t h = {m, 1000, c};
    for (int i = 0; i < 10; i++)
        go(hammer_mutex, &h);
    for (int i = 0; i < 10; i++)
        chan_recv(c, NULL);
    GT_CHECK(m->state == 0, "mutex state %d after all unlocked", m->state);
    return 0;
}

Test(go_sync_mutex, TestMutex) { gt_run(test_mutex); }

/* ---- TestMutexMisuse ---- */

static int misuse_mutex_unlock(int argc, char **argv)
{
    sync_mutex_t mu = {0};
    sync_mutex_unlock(&mu);
    printf("test completed\n");
    return 0;
}

static int misuse_mutex_unlock2(int argc, char **argv)
{
    sync_mutex_t mu = {0};
    sync_mutex_lock(&mu);
    sync_mutex_unlock(&mu);
    sync_mutex_unlock(&mu);
    printf("test completed\n");
    return 0;
}

static int misuse_rwmutex_unlock(int argc, char **argv)
{
    sync_rwmutex_t mu = {0};
    sync_rwmutex_unlock(&mu);
    printf("test completed\n");
    return 0;
}

static int misuse_rwmutex_unlock2(int argc, char **argv)
{
    sync_rwmutex_t mu = {0};
    sync_rwmutex_rlock(&mu);
    sync_rwmutex_unlock(&mu);
    printf("test completed\n");
    return 0;
}

static int misuse_rwmutex_unlock3(int argc, char **argv)
{
    sync_rwmutex_t mu = {0};
    sync_rwmutex_lock(&mu);
    sync_rwmutex_unlock(&mu);
    sync_rwmutex_unlock(&mu);
    printf("test completed\n");
    return 0;
}

static int misuse_rwmutex_runlock(int argc, char **argv)
{
    sync_rwmutex_t mu = {0};
    sync_rwmutex_runlock(&mu);
    printf("test completed\n");
    return 0;
}

static int misuse_rwmutex_runlock2(int argc, char **argv)
{
    sync_rwmutex_t mu = {0};
    sync_rwmutex_lock(&mu);
    sync_rwmutex_runlock(&mu);
    printf("test completed\n");
    return 0;
}

static int misuse_rwmutex_runlock3(int argc, char **argv)
{
    sync_rwmutex_t mu = {0};
    sync_rwmutex_rlock(&mu);
    sync_rwmutex_runlock(&mu);
    sync_rwmutex_runlock(&mu);
    printf("test completed\n");
    return 0;
}

static const struct {
    const char *name;
    int (*f)(int, char **);
    const char *fatal;           /* the exact fatal error line */
} misuse_tests[] = {
    {"Mutex.Unlock", misuse_mutex_unlock, "fatal error: sync: unlock of unlocked mutex"},
    {"Mutex.Unlock2", misuse_mutex_unlock2, "fatal error: sync: unlock of unlocked mutex"},
    {"RWMutex.Unlock", misuse_rwmutex_unlock, "fatal error: sync: Unlock of unlocked RWMutex"},
    {"RWMutex.Unlock2", misuse_rwmutex_unlock2, "fatal error: sync: Unlock of unlocked RWMutex"},
    {"RWMutex.Unlock3", misuse_rwmutex_unlock3, "fatal error: sync: Unlock of unlocked RWMutex"},
    {"RWMutex.RUnlock", misuse_rwmutex_runlock, "fatal error: sync: RUnlock of unlocked RWMutex"},
    {"RWMutex.RUnlock2", misuse_rwmutex_runlock2, "fatal error: sync: RUnlock of unlocked RWMutex"},
    {"RWMutex.RUnlock3", misuse_rwmutex_runlock3, "fatal error: sync: RUnlock of unlocked RWMutex"},
};

Test(go_sync_mutex, TestMutexMisuse)
{
    static gt_result_t r;
    for (size_t i = 0; i < sizeof misuse_tests / sizeof misuse_tests[0]; i++) {
        gt_child(&r, misuse_tests[i].f, NULL, 10000);
        cr_expect(r.status != 0 && strstr(r.out, "unlocked") != NULL,
                  "%s: did not find failure with message about unlocked lock: "
                  "status %d\n%s", misuse_tests[i].name, r.status, r.out);
        cr_expect(r.status == 2, "%s: exit status %d, want 2 (as Go)",
                  misuse_tests[i].name, r.status);
        cr_expect(strstr(r.out, misuse_tests[i].fatal) != NULL,
                  "%s: want \"%s\" in:\n%s", misuse_tests[i].name,
                  misuse_tests[i].fatal, r.out);
        cr_expect(strstr(r.out, "test completed") == NULL,
                  "%s: misuse went unnoticed", misuse_tests[i].name);
    }
}

/* ---- TestMutexFairness ---- */

static sync_mutex_t fair_mu;
static chan_t *fair_stop, *fair_done;

static void fair_hog(void *arg)
{
    for (;;) {
        sync_mutex_lock(&fair_mu);
        time_sleep(100 * TIME_MICROSECOND);
        sync_mutex_unlock(&fair_mu);
        select_case_t cs[1] = {{fair_stop, SELECT_RECV, NULL, false}};
        if (chan_select(cs, 1, false) == 0)
            return;
    }
}

static void fair_polite(void *arg)
{
    for (int i = 0; i < 10; i++) {
        time_sleep(100 * TIME_MICROSECOND);
        sync_mutex_lock(&fair_mu);
        sync_mutex_unlock(&fair_mu);
    }
    chan_send(fair_done, &T);
}

static int test_mutex_fairness(int argc, char **argv)
{
    fair_stop = chan_make(sizeof(bool), 0);
    fair_done = chan_make(sizeof(bool), 1);
    go(fair_hog, NULL);
    go(fair_polite, NULL);
    select_case_t cs[2] = {
        {fair_done, SELECT_RECV, NULL, false},
        {time_after(10 * TIME_SECOND), SELECT_RECV, NULL, false},
    };
    int k = chan_select(cs, 2, true);
    GT_CHECK(k == 0, "can't acquire Mutex in 10 seconds");
    chan_close(fair_stop);
    return 0;
}

Test(go_sync_mutex, TestMutexFairness, .timeout = 30) { gt_run(test_mutex_fairness); }
