/*
 * test/go/test_sync_once.c -- port of Go 1.19 src/sync/once_test.go:
 * TestOnce, TestOncePanic.
 */
#include "helpers.h"

static bool T = true;

/* ---- TestOnce ---- */

typedef struct { sync_once_t *once; int *o; chan_t *c; } once_run_t;

static void increment(void *o) { (*(int *)o)++; }

static void run(void *arg)
{
    once_run_t *r = arg;
    sync_once_do(r->once, increment, r->o);
    int v = *r->o;
    GT_CHECK(v == 1, "once failed inside run: %d is not 1", v);
    chan_send(r->c, &T);
}

static int test_once(int argc, char **argv)
{
    int *o = gc_new(int);
    sync_once_t *once = gc_new(sync_once_t);
    once_run_t r = {once, o, chan_make(sizeof(bool), 0)};
    enum { N = 10 };
    for (int i = 0; i < N; i++)
        go(run, &r);
    for (int i = 0; i < N; i++)
        chan_recv(r.c, NULL);
    GT_CHECK(*o == 1, "once failed outside run: %d is not 1", *o);
    return 0;
}

Test(go_sync_once, TestOnce) { gt_run(test_once); }

/* ---- TestOncePanic ---- */

static sync_once_t panic_once;
static const char *panic_recovered;

static void panic_recover(void *arg) { panic_recovered = go_recover(); }
static void panicking(void *arg) { go_panic("failed"); }
static void panic_frame(void *arg)
{
    go_defer(panic_recover, NULL);
    sync_once_do(&panic_once, panicking, NULL);
}
static void called_twice(void *arg) { GT_CHECK(false, "Once.Do called twice"); }

static int test_once_panic(int argc, char **argv)
{
    go_call(panic_frame, NULL);
    GT_CHECK(panic_recovered != NULL, "Once.Do did not panic");
    sync_once_do(&panic_once, called_twice, NULL);
    return 0;
}

Test(go_sync_once, TestOncePanic) { gt_run(test_once_panic); }
