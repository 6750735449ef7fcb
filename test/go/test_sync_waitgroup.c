/*
 * test/go/test_sync_waitgroup.c -- port of Go 1.19
 * src/sync/waitgroup_test.go: TestWaitGroup, TestWaitGroupMisuse,
 * TestWaitGroupRace, TestWaitGroupAlign.
 */
#include "helpers.h"

static bool T = true;

/* ---- TestWaitGroup ---- */

typedef struct { sync_waitgroup_t *wg1, *wg2; chan_t *exited; } wgpair_t;

static void wg_member(void *arg)
{
    wgpair_t *p = arg;
    sync_waitgroup_done(p->wg1);
    sync_waitgroup_wait(p->wg2);
    chan_send(p->exited, &T);
}

static void test_wait_group1(sync_waitgroup_t *wg1, sync_waitgroup_t *wg2)
{
    int n = 16;
    sync_waitgroup_add(wg1, n);
    sync_waitgroup_add(wg2, n);
    wgpair_t p = {wg1, wg2, chan_make(sizeof(bool), (size_t)n)};
    for (int i = 0; i != n; i++)
        go(wg_member, &p);
    sync_waitgroup_wait(wg1);
    for (int i = 0; i != n; i++) {
        select_case_t cs[1] = {{p.exited, SELECT_RECV, NULL, false}};
        GT_CHECK(chan_select(cs, 1, false) < 0, "WaitGroup released group too soon");
        sync_waitgroup_done(wg2);
    }
    for (int i = 0; i != n; i++)
        chan_recv(p.exited, NULL);   /* blocks if the barrier fails to unlock someone */
}

static int test_wait_group(int argc, char **argv)
{
    sync_waitgroup_t *wg1 = gc_new(sync_waitgroup_t);
    sync_waitgroup_t *wg2 = gc_new(sync_waitgroup_t);
    /* the same groups several times: the barrier must reset properly */
    for (int i = 0; i != 8; i++)
        test_wait_group1(wg1, wg2);
    return 0;
}

Test(go_sync_waitgroup, TestWaitGroup) { gt_run(test_wait_group); }

/* ---- TestWaitGroupMisuse ---- */

static const char *misuse_recovered;
static bool misuse_returned;

static void misuse_recover(void *arg) { misuse_recovered = go_recover(); }

static void misuse_body(void *arg)
{
    go_defer(misuse_recover, NULL);
    sync_waitgroup_t wg = {0};
    sync_waitgroup_add(&wg, 1);
    sync_waitgroup_done(&wg);
    sync_waitgroup_done(&wg);
    misuse_returned = true;          /* t.Fatal("Should panic") */
}

static int test_wait_group_misuse(int argc, char **argv)
{
    go_call(misuse_body, NULL);
    GT_CHECK(!misuse_returned, "Should panic");
    GT_CHECK(misuse_recovered != NULL &&
             strcmp(misuse_recovered, "sync: negative WaitGroup counter") == 0,
             "Unexpected panic: %s", misuse_recovered ? misuse_recovered : "(nil)");
    return 0;
}

Test(go_sync_waitgroup, TestWaitGroupMisuse) { gt_run(test_wait_group_misuse); }

/* ---- TestWaitGroupRace ---- */

typedef struct { sync_waitgroup_t wg; _Atomic int32_t n; } wgrace_t;

static void wgrace_member(void *arg)
{
    wgrace_t *r = arg;
    atomic_fetch_add(&r->n, 1);
    sync_waitgroup_done(&r->wg);
}

static int test_wait_group_race(int argc, char **argv)
{
    for (int i = 0; i < 1000; i++) {
        wgrace_t *r = gc_new(wgrace_t);
        sync_waitgroup_add(&r->wg, 1);
        go(wgrace_member, r);
        sync_waitgroup_add(&r->wg, 1);
        go(wgrace_member, r);
        sync_waitgroup_wait(&r->wg);
        GT_CHECK(atomic_load(&r->n) == 2, "Spurious wakeup from Wait");
        if (atomic_load(&r->n) != 2)
            break;
    }
    return 0;
}

Test(go_sync_waitgroup, TestWaitGroupRace) { gt_run(test_wait_group_race); }

/* ---- TestWaitGroupAlign ---- */

typedef struct { char x; sync_waitgroup_t wg; } wgalign_t;

static void wgalign_done(void *arg) { sync_waitgroup_done(&((wgalign_t *)arg)->wg); }

static int test_wait_group_align(int argc, char **argv)
{
    wgalign_t x = {0};
    sync_waitgroup_add(&x.wg, 1);
    go(wgalign_done, &x);
    sync_waitgroup_wait(&x.wg);
    return 0;
}

Test(go_sync_waitgroup, TestWaitGroupAlign) { gt_run(test_wait_group_align); }
