/*
 * test/go/test_sync_cond.c -- port of Go 1.19 src/sync/cond_test.go:
 * TestCondSignal, TestCondSignalGenerations, TestCondBroadcast, TestRace,
 * TestCondSignalStealing, TestCondCopy.
 */
#include "helpers.h"

static bool T = true;

/* A non-blocking receive: true if a value was received. */
static bool try_recv(chan_t *c, void *elem)
{
    select_case_t cs[1] = {{c, SELECT_RECV, elem, false}};
    return chan_select(cs, 1, false) == 0;
}

/* ---- TestCondSignal ---- */

/* A cond with its mutex, and the channels its waiters report on: running
 * (before they wait) and awake (after). */
typedef struct { sync_mutex_t m; sync_cond_t c; chan_t *running, *awake; } condenv_t;

static condenv_t *new_condenv(size_t running_elem, size_t awake_elem, size_t n)
{
    condenv_t *e = gc_new(condenv_t);
    e->c.l = &e->m;
    e->running = chan_make(running_elem, n);
    e->awake = chan_make(awake_elem, n);
    return e;
}

/* Signals (or broadcasts) e's cond with its mutex held. */
static void notify_locked(condenv_t *e, bool broadcast)
{
    sync_mutex_lock(&e->m);
    if (broadcast)
        sync_cond_broadcast(&e->c);
    else
        sync_cond_signal(&e->c);
    sync_mutex_unlock(&e->m);
}

/* Reports running, waits once, reports awake with *woke. */
static void wait_once(condenv_t *e, const void *woke)
{
    sync_mutex_lock(&e->m);
    chan_send(e->running, &T);
    sync_cond_wait(&e->c);
    chan_send(e->awake, woke);
    sync_mutex_unlock(&e->m);
}

static void signal_waiter(void *arg) { wait_once(arg, &T); }

static int test_cond_signal(int argc, char **argv)
{
    int n = 2;
    condenv_t *e = new_condenv(sizeof(bool), sizeof(bool), (size_t)n);
    for (int i = 0; i < n; i++)
        go(signal_waiter, e);
    for (int i = 0; i < n; i++)
        chan_recv(e->running, NULL);    /* wait for everyone to run */
    while (n > 0) {
        GT_CHECK(!try_recv(e->awake, NULL), "goroutine not asleep");
        notify_locked(e, false);
        chan_recv(e->awake, NULL);      /* deadlocks if no goroutine wakes up */
        GT_CHECK(!try_recv(e->awake, NULL), "too many goroutines awake");
        n--;
    }
    sync_cond_signal(&e->c);
    return 0;
}

Test(go_sync_cond, TestCondSignal) { gt_run(test_cond_signal); }

/* ---- TestCondSignalGenerations ---- */

typedef struct { condenv_t *e; int i; } genarg_t;

static void gen_waiter(void *arg)
{
    genarg_t *a = arg;
    wait_once(a->e, &a->i);
}

static int test_cond_signal_generations(int argc, char **argv)
{
    enum { N = 100 };
    condenv_t *e = new_condenv(sizeof(bool), sizeof(int), N);
    genarg_t *args = gc_alloc(sizeof(genarg_t) * N);
    for (int i = 0; i < N; i++) {
        args[i].e = e;
        args[i].i = i;
        go(gen_waiter, &args[i]);
        if (i > 0) {
            int a;
            chan_recv(e->awake, &a);
            GT_CHECK(a == i - 1, "wrong goroutine woke up: want %d, got %d", i - 1, a);
        }
        chan_recv(e->running, NULL);
        notify_locked(e, false);
    }
    return 0;
}

Test(go_sync_cond, TestCondSignalGenerations) { gt_run(test_cond_signal_generations); }

/* ---- TestCondBroadcast ---- */

typedef struct { condenv_t *e; int g; bool *exit; } bcarg_t;

static void bc_waiter(void *arg)
{
    bcarg_t *a = arg;
    condenv_t *e = a->e;
    sync_mutex_lock(&e->m);
    while (!*a->exit) {
        chan_send(e->running, &a->g);
        sync_cond_wait(&e->c);
        chan_send(e->awake, &a->g);
    }
    sync_mutex_unlock(&e->m);
}

static int test_cond_broadcast(int argc, char **argv)
{
    enum { N = 200 };
    condenv_t *e = new_condenv(sizeof(int), sizeof(int), N);
    bool *exit_ = gc_new(bool);
    bcarg_t *args = gc_alloc(sizeof(bcarg_t) * N);
    for (int i = 0; i < N; i++) {
        args[i] = (bcarg_t){e, i, exit_};
        go(bc_waiter, &args[i]);
    }
    bool *seen = gc_alloc(N);
    for (int i = 0; i < N; i++) {
        for (int j = 0; j < N; j++)
            chan_recv(e->running, NULL);   /* deadlocks unless N are running */
        if (i == N - 1) {
            sync_mutex_lock(&e->m);
            *exit_ = true;
            sync_mutex_unlock(&e->m);
        }
        GT_CHECK(!try_recv(e->awake, NULL), "goroutine not asleep");
        notify_locked(e, true);
        memset(seen, 0, N);
        for (int j = 0; j < N; j++) {
            int g;
            chan_recv(e->awake, &g);
            GT_CHECK(!seen[g], "goroutine woke up twice");
            seen[g] = true;
        }
    }
    GT_CHECK(!try_recv(e->running, NULL), "goroutine did not exit");
    sync_cond_broadcast(&e->c);
    return 0;
}

Test(go_sync_cond, TestCondBroadcast) { gt_run(test_cond_broadcast); }

/* ---- TestRace ---- */

typedef struct { sync_mutex_t mu; sync_cond_t c; int x; chan_t *done; } raceenv_t;

static void race1(void *arg)
{
    raceenv_t *r = arg;
    sync_mutex_lock(r->c.l);
    r->x = 1;
    sync_cond_wait(&r->c);
    GT_CHECK(r->x == 2, "want 2");
    r->x = 3;
    sync_cond_signal(&r->c);
    sync_mutex_unlock(r->c.l);
    chan_send(r->done, &T);
}

/* Holds the lock except while yielding, until step (called with the lock
 * held) says the goroutine is done; then reports on done. */
static void race_poll(raceenv_t *r, bool (*step)(raceenv_t *))
{
    sync_mutex_lock(r->c.l);
    while (!step(r)) {
        sync_mutex_unlock(r->c.l);
        runtime_gosched();
        sync_mutex_lock(r->c.l);
    }
    sync_mutex_unlock(r->c.l);
    chan_send(r->done, &T);
}

static bool race2_step(raceenv_t *r)
{
    if (r->x != 1)
        return false;
    r->x = 2;
    sync_cond_signal(&r->c);
    return true;
}

static bool race3_step(raceenv_t *r)
{
    if (r->x == 2) {
        sync_cond_wait(&r->c);
        GT_CHECK(r->x == 3, "want 3");
        return true;
    }
    return r->x == 3;
}

static void race2(void *arg) { race_poll(arg, race2_step); }
static void race3(void *arg) { race_poll(arg, race3_step); }

static int test_race(int argc, char **argv)
{
    raceenv_t *r = gc_new(raceenv_t);
    r->c.l = &r->mu;
    r->done = chan_make(sizeof(bool), 0);
    go(race1, r);
    go(race2, r);
    go(race3, r);
    chan_recv(r->done, NULL);
    chan_recv(r->done, NULL);
    chan_recv(r->done, NULL);
    return 0;
}

Test(go_sync_cond, TestRace) { gt_run(test_race); }

/* ---- TestCondSignalStealing ---- */

typedef struct { sync_mutex_t m; sync_cond_t cond; chan_t *ch; bool done; } stealenv_t;

static void steal_first(void *arg)
{
    stealenv_t *s = arg;
    sync_mutex_lock(&s->m);
    chan_send(s->ch, &T);
    sync_cond_wait(&s->cond);
    sync_mutex_unlock(&s->m);
    chan_send(s->ch, &T);
}

static void steal_broadcast(void *arg)
{
    sync_cond_broadcast(&((stealenv_t *)arg)->cond);
}

static void steal_second(void *arg)
{
    stealenv_t *s = arg;
    sync_mutex_lock(&s->m);
    while (!s->done)
        sync_cond_wait(&s->cond);
    sync_mutex_unlock(&s->m);
}

static int test_cond_signal_stealing(int argc, char **argv)
{
    for (int iters = 0; iters < 1000; iters++) {
        stealenv_t *s = gc_new(stealenv_t);
        s->cond.l = &s->m;
        s->ch = chan_make(0, 0);
        go(steal_first, s);
        chan_recv(s->ch, NULL);
        sync_mutex_lock(&s->m);
        sync_mutex_unlock(&s->m);
        /* The waiter is inside cond.Wait now. Race a broadcast with a new
         * waiter: the new one may or may not be notified, the first must. */
        go(steal_broadcast, s);
        go(steal_second, s);
        select_case_t cs[2] = {
            {s->ch, SELECT_RECV, NULL, false},
            {time_after(2 * TIME_SECOND), SELECT_RECV, NULL, false},
        };
        int k = chan_select(cs, 2, true);
        GT_CHECK(k == 0, "First waiter didn't get broadcast.");
        if (k != 0)
            return 0;
        sync_mutex_lock(&s->m);
        s->done = true;
        sync_mutex_unlock(&s->m);
        sync_cond_broadcast(&s->cond);
    }
    return 0;
}

Test(go_sync_cond, TestCondSignalStealing, .timeout = 60) { gt_run(test_cond_signal_stealing); }

/* ---- TestCondCopy ---- */

static const char *copy_err;
static void copy_recover(void *arg) { copy_err = go_recover(); }

static void copy_body(void *arg)
{
    go_defer(copy_recover, NULL);
    sync_mutex_t *mu = gc_new(sync_mutex_t);
    sync_cond_t c = {.l = mu};
    sync_cond_signal(&c);
    sync_cond_t c2;
    memcpy(&c2, &c, sizeof c);          /* c2 := c */
    sync_cond_signal(&c2);
}

static int test_cond_copy(int argc, char **argv)
{
    go_call(copy_body, NULL);
    GT_CHECK(copy_err != NULL && strcmp(copy_err, "sync.Cond is copied") == 0,
             "got %s, expect sync.Cond is copied", copy_err ? copy_err : "(nil)");
    return 0;
}

Test(go_sync_cond, TestCondCopy) { gt_run(test_cond_copy); }
