/*
 * test/test_sync.c -- unit tests of the sync package beyond Go's own:
 * semaphore queue order and hand-off, the mutex's starvation mode step by
 * step, Go's wait reasons, panics and fatal errors with Go's texts, Once
 * under contention, and use from a thread that is not a goroutine.
 *
 * White-box where it must be: it reads the state words and, for wait
 * reasons, the G descriptors (sched/internal.h). Deterministic orderings
 * are checked at GOMAXPROCS=1, where a readied G runs only when the
 * running one blocks or yields.
 */

#include "helpers.h"
#include "sched_helpers.h"
#include "../sched/internal.h"
#include "../sync/internal.h"

#define MUTEX_LOCKED   1
#define MUTEX_WOKEN    2
#define MUTEX_STARVING 4
#define MUTEX_WAITER_SHIFT 3

/* Yields until addr has n semaphore waiters (bounded). */
static void wait_waiters(const void *addr, int n)
{
    for (int i = 0; i < 100000 && sync__semwaiters(addr) != n; i++)
        runtime_gosched();
    GT_CHECK(sync__semwaiters(addr) == n, "waiters %d, want %d",
             sync__semwaiters(addr), n);
}

/* ---- semaphore order ---- */

static uint32_t osem;
static int order[8], norder;

typedef struct { int id; bool lifo; } semarg_t;

static void sem_waiter(void *arg)
{
    semarg_t *a = arg;
    sync__semacquire(&osem, a->lifo, "semacquire");
    order[norder++] = a->id;
}

static int test_sema_order(int argc, char **argv)
{
    runtime_gomaxprocs(1);
    static semarg_t args[5] = {{0, false}, {1, false}, {2, false}, {3, true}, {4, false}};
    /* 0,1,2 FIFO; 3 LIFO jumps to the head; 4 FIFO at the tail */
    for (int i = 0; i < 5; i++) {
        go(sem_waiter, &args[i]);
        wait_waiters(&osem, i + 1);
    }
    for (int i = 0; i < 5; i++) {
        sync__semrelease(&osem, false);
        wait_waiters(&osem, 4 - i);
        while (norder < i + 1)
            runtime_gosched();
    }
    int want[5] = {3, 0, 1, 2, 4};
    for (int i = 0; i < 5; i++)
        GT_CHECK(order[i] == want[i], "wake %d: got %d want %d", i, order[i], want[i]);
    GT_CHECK(osem == 0, "count %u left", osem);
    return 0;
}

Test(sync, sema_order) { gt_run(test_sema_order); }

/* ---- semaphore: release races with a newcomer ---- */

static uint32_t rsem;
static _Atomic int rdone;

static void rsem_waiter(void *arg)
{
    sync__semacquire(&rsem, false, "semacquire");
    atomic_store(&rdone, 1);
}

static int test_sema_barging(int argc, char **argv)
{
    runtime_gomaxprocs(1);
    go(rsem_waiter, NULL);
    wait_waiters(&rsem, 1);
    /* Without hand-off the count stays in the word: we barge in and take
     * it before the woken waiter runs; it must queue again, not be lost. */
    sync__semrelease(&rsem, false);
    GT_CHECK(rsem == 1, "count %u after plain release", rsem);
    sync__semacquire(&rsem, false, "semacquire");
    runtime_gosched();
    runtime_gosched();
    GT_CHECK(atomic_load(&rdone) == 0, "waiter ran without a count");
    wait_waiters(&rsem, 1);
    /* With hand-off the count goes to the waiter, which runs at once. */
    sync__semrelease(&rsem, true);
    GT_CHECK(rsem == 0, "count %u after hand-off", rsem);
    for (int i = 0; i < 1000 && !atomic_load(&rdone); i++)
        runtime_gosched();
    GT_CHECK(atomic_load(&rdone) == 1, "hand-off waiter did not run");
    return 0;
}

Test(sync, sema_barging_and_handoff) { gt_run(test_sema_barging); }

/* ---- mutex starvation mode, step by step ---- */

static sync_mutex_t smu;
static _Atomic int sgot;

static void starve_waiter(void *arg)
{
    sync_mutex_lock(&smu);
    atomic_store(&sgot, 1);
    sync_mutex_unlock(&smu);
}

static int test_mutex_starvation(int argc, char **argv)
{
    runtime_gomaxprocs(1);
    sync_mutex_lock(&smu);
    go(starve_waiter, NULL);
    wait_waiters(&smu.sema, 1);
    GT_CHECK(smu.state == (MUTEX_LOCKED | 1 << MUTEX_WAITER_SHIFT), "state %d", smu.state);
    time_sleep(3 * TIME_MILLISECOND);       /* the waiter waits > 1 ms */
    sync_mutex_unlock(&smu);                /* normal mode: wake it, WOKEN */
    GT_CHECK(smu.state == MUTEX_WOKEN, "state %d after wake", smu.state);
    sync_mutex_lock(&smu);                  /* barge in before it runs */
    wait_waiters(&smu.sema, 1);             /* it lost, requeued, starving */
    GT_CHECK(smu.state == (MUTEX_LOCKED | MUTEX_STARVING | 1 << MUTEX_WAITER_SHIFT),
             "state %d after starving waiter requeued", smu.state);
    GT_CHECK(atomic_load(&sgot) == 0, "waiter got a held lock");
    sync_mutex_unlock(&smu);                /* hand-off to the waiter */
    for (int i = 0; i < 1000 && !atomic_load(&sgot); i++)
        runtime_gosched();
    GT_CHECK(atomic_load(&sgot) == 1, "waiter did not get the handed-off lock");
    GT_CHECK(smu.state == 0, "state %d: last waiter must leave starvation mode", smu.state);
    return 0;
}

Test(sync, mutex_starvation_mode) { gt_run(test_mutex_starvation); }

/* In starvation mode newcomers must not take the lock, not even TryLock. */
static sync_mutex_t tmu;
static void starve_waiter2(void *arg) { sync_mutex_lock(&tmu); sync_mutex_unlock(&tmu); }

static int test_trylock_starving(int argc, char **argv)
{
    runtime_gomaxprocs(1);
    sync_mutex_lock(&tmu);
    go(starve_waiter2, NULL);
    wait_waiters(&tmu.sema, 1);
    time_sleep(3 * TIME_MILLISECOND);
    sync_mutex_unlock(&tmu);
    sync_mutex_lock(&tmu);
    wait_waiters(&tmu.sema, 1);
    GT_CHECK(tmu.state & MUTEX_STARVING, "state %d not starving", tmu.state);
    /* pretend the unlock happened but the hand-off has not been taken */
    int32_t saved = tmu.state;
    __atomic_store_n(&tmu.state, saved & ~MUTEX_LOCKED, __ATOMIC_SEQ_CST);
    GT_CHECK(!sync_mutex_trylock(&tmu), "TryLock took a starving mutex");
    __atomic_store_n(&tmu.state, saved, __ATOMIC_SEQ_CST);
    sync_mutex_unlock(&tmu);
    wait_waiters(&tmu.sema, 0);
    for (int i = 0; i < 100 && tmu.state != 0; i++)
        runtime_gosched();
    GT_CHECK(tmu.state == 0, "state %d", tmu.state);
    return 0;
}

Test(sync, trylock_fails_when_starving) { gt_run(test_trylock_starving); }

/* ---- wait reasons ---- */

static sync_mutex_t wr_mu;
static sync_rwmutex_t wr_rw, wr_rw2;
static sync_waitgroup_t wr_wg;
static sync_mutex_t wr_cmu;
static sync_cond_t wr_cond = {.l = &wr_cmu};
static uint32_t wr_sem;
static _Atomic(g_t *) wr_g[6];

static void wr_mutex(void *a) { wr_g[0] = sched__getg(); sync_mutex_lock(&wr_mu); sync_mutex_unlock(&wr_mu); }
static void wr_rlock(void *a) { wr_g[1] = sched__getg(); sync_rwmutex_rlock(&wr_rw); sync_rwmutex_runlock(&wr_rw); }
static void wr_wlock(void *a) { wr_g[2] = sched__getg(); sync_rwmutex_lock(&wr_rw2); sync_rwmutex_unlock(&wr_rw2); }
static void wr_wait(void *a) { wr_g[3] = sched__getg(); sync_waitgroup_wait(&wr_wg); }
static void wr_cwait(void *a)
{
    wr_g[4] = sched__getg();
    sync_mutex_lock(&wr_cmu);
    sync_cond_wait(&wr_cond);
    sync_mutex_unlock(&wr_cmu);
}
static void wr_sema(void *a) { wr_g[5] = sched__getg(); sync__semacquire(&wr_sem, false, "semacquire"); }

static int test_wait_reasons(int argc, char **argv)
{
    static const char *want[6] = {"sync.Mutex.Lock", "sync.RWMutex.RLock",
                                  "sync.RWMutex.Lock", "sync.WaitGroup.Wait",
                                  "sync.Cond.Wait", "semacquire"};
    sync_mutex_lock(&wr_mu);
    sync_rwmutex_lock(&wr_rw);          /* readers wait */
    sync_rwmutex_rlock(&wr_rw2);        /* a writer waits for us */
    sync_waitgroup_add(&wr_wg, 1);
    void (*fns[6])(void *) = {wr_mutex, wr_rlock, wr_wlock, wr_wait, wr_cwait, wr_sema};
    for (int i = 0; i < 6; i++)
        go(fns[i], NULL);
    for (int i = 0; i < 6; i++) {
        g_t *g = NULL;
        /* Until it has parked (a loaded machine may not run it for a
         * while), with a 15 s hang guard. */
        for (int64_t end = gt_ms() + 15000; gt_ms() < end;) {
            g = atomic_load(&wr_g[i]);
            if (g && atomic_load(&g->status) == G_WAITING)
                break;
            time_sleep(TIME_MILLISECOND / 10);
        }
        GT_CHECK(g && atomic_load(&g->status) == G_WAITING, "goroutine %d not parked", i);
        if (g && atomic_load(&g->status) == G_WAITING)
            GT_CHECK(g->waitreason && strcmp(g->waitreason, want[i]) == 0,
                     "wait reason \"%s\", want \"%s\"",
                     g->waitreason ? g->waitreason : "(null)", want[i]);
    }
    sync_mutex_unlock(&wr_mu);
    sync_rwmutex_unlock(&wr_rw);
    sync_rwmutex_runlock(&wr_rw2);
    sync_waitgroup_done(&wr_wg);
    sync_mutex_lock(&wr_cmu);
    sync_cond_broadcast(&wr_cond);
    sync_mutex_unlock(&wr_cmu);
    sync__semrelease(&wr_sem, false);
    return 0;
}

Test(sync, wait_reasons) { gt_run(test_wait_reasons); }

/* ---- panics and fatal errors in a child (Go's texts, exit status 2) ---- */

static int wg_negative(int argc, char **argv)
{
    sync_waitgroup_t wg = {0};
    sync_waitgroup_done(&wg);
    return 0;
}

static sync_waitgroup_t reuse_wg;
static void reuse_waiter(void *arg) { sync_waitgroup_wait(&reuse_wg); }

static int wg_reused(int argc, char **argv)
{
    runtime_gomaxprocs(1);
    sync_waitgroup_add(&reuse_wg, 1);
    go(reuse_waiter, NULL);
    while ((uint32_t)__atomic_load_n(&reuse_wg.state, __ATOMIC_SEQ_CST) == 0)
        runtime_gosched();               /* until it waits */
    sync_waitgroup_done(&reuse_wg);      /* wakes it (it runs after us) */
    sync_waitgroup_add(&reuse_wg, 1);    /* reuse before its Wait returned */
    time_sleep(5 * TIME_SECOND);         /* the waiter's panic ends the process first */
    return 0;
}

static int mutex_unlock_unlocked(int argc, char **argv)
{
    sync_mutex_t mu = {0};
    sync_mutex_unlock(&mu);
    return 0;
}

static int mutex_deadlock(int argc, char **argv)
{
    static sync_mutex_t mu;
    sync_mutex_lock(&mu);
    sync_mutex_lock(&mu);
    return 0;
}

static int waitgroup_deadlock(int argc, char **argv)
{
    static sync_waitgroup_t wg;
    sync_waitgroup_add(&wg, 1);
    sync_waitgroup_wait(&wg);
    return 0;
}

/* A goroutine blocked forever in sync is a deadlock, reported as Go does,
 * with the wait reason in the traceback header. */
Test(sync, deadlock_reports)
{
    static gt_result_t r;
    gt_child(&r, mutex_deadlock, NULL, 10000);
    cr_expect(r.status == 2 && strstr(r.out, "fatal error: all goroutines are asleep - deadlock!") &&
              strstr(r.out, "goroutine 1 [sync.Mutex.Lock]:"), "status %d:\n%s", r.status, r.out);
    gt_child(&r, waitgroup_deadlock, NULL, 10000);
    cr_expect(r.status == 2 && strstr(r.out, "fatal error: all goroutines are asleep - deadlock!") &&
              strstr(r.out, "goroutine 1 [sync.WaitGroup.Wait]:"), "status %d:\n%s", r.status, r.out);
}

Test(sync, panics_and_fatals)
{
    static gt_result_t r;
    gt_child(&r, wg_negative, NULL, 10000);
    cr_expect(r.status == 2 && strstr(r.out, "panic: sync: negative WaitGroup counter"),
              "status %d:\n%s", r.status, r.out);
    gt_child(&r, wg_reused, NULL, 10000);
    cr_expect(r.status == 2 &&
              strstr(r.out, "panic: sync: WaitGroup is reused before previous Wait has returned"),
              "status %d:\n%s", r.status, r.out);
    gt_child(&r, mutex_unlock_unlocked, NULL, 10000);
    cr_expect(r.status == 2 && strstr(r.out, "fatal error: sync: unlock of unlocked mutex"),
              "status %d:\n%s", r.status, r.out);
}

/* ---- Once under contention: exactly once, and nobody returns early ---- */

static sync_once_t conce;
static int conce_calls;
static _Atomic int conce_bad;

static void conce_fn(void *arg)
{
    time_sleep(2 * TIME_MILLISECOND);   /* others pile up on the slow path */
    conce_calls++;
}

static void conce_g(void *arg)
{
    sync_once_do(&conce, conce_fn, NULL);
    if (conce_calls != 1)
        atomic_fetch_add(&conce_bad, 1);
    sync_waitgroup_done(arg);
}

static int test_once_contended(int argc, char **argv)
{
    sync_waitgroup_t *wg = gc_new(sync_waitgroup_t);
    sync_waitgroup_add(wg, 100);
    for (int i = 0; i < 100; i++)
        go(conce_g, wg);
    sync_waitgroup_wait(wg);
    GT_CHECK(conce_calls == 1, "fn ran %d times", conce_calls);
    GT_CHECK(atomic_load(&conce_bad) == 0, "%d callers returned before fn finished",
             atomic_load(&conce_bad));
    GT_CHECK(conce.done == 1 && conce.m.state == 0, "done %u state %d", conce.done, conce.m.state);
    return 0;
}

Test(sync, once_contended) { gt_run(test_once_contended); }

/* ---- zero values, and the fast paths from a thread that is no goroutine ---- */

static sync_mutex_t fmu;
static sync_rwmutex_t frw;
static sync_waitgroup_t fwg;

static void *foreign(void *arg)
{
    for (int i = 0; i < 1000; i++) {
        sync_mutex_lock(&fmu);
        sync_mutex_unlock(&fmu);
        sync_rwmutex_rlock(&frw);
        sync_rwmutex_runlock(&frw);
    }
    sync_waitgroup_wait(&fwg);           /* counter 0: returns at once */
    return NULL;
}

static int test_foreign_fast_paths(int argc, char **argv)
{
    gt_on_foreign_thread(foreign, NULL);
    GT_CHECK(fmu.state == 0 && frw.reader_count == 0, "state %d readers %d", fmu.state, frw.reader_count);
    return 0;
}

Test(sync, foreign_thread_fast_paths) { gt_run(test_foreign_fast_paths); }

/* A thread that is not a goroutine cannot park: a contended lock from it
 * is a clear misuse report, not a hang or corruption. */
static sync_mutex_t cmu;
static void *foreign_contended(void *arg) { sync_mutex_lock(&cmu); return NULL; }

static int foreign_blocks(int argc, char **argv)
{
    sync_mutex_lock(&cmu);
    gt_on_foreign_thread(foreign_contended, NULL);
    return 0;
}

Test(sync, foreign_thread_cannot_park)
{
    static gt_result_t r;
    gt_child(&r, foreign_blocks, NULL, 10000);
    cr_expect(r.status != 0 &&
              strstr(r.out, "sync.Mutex.Lock called from a thread that is not running a goroutine"),
              "status %d:\n%s", r.status, r.out);
}

/* ---- the spin policy ---- */

static _Atomic bool spin_stop;
static void spin_busy(void *arg)
{
    while (!atomic_load(&spin_stop))
        runtime_gosched();
}

static int test_canspin(int argc, char **argv)
{
    runtime_gomaxprocs(1);
    GT_CHECK(!sync__canspin(0), "spinning with GOMAXPROCS=1 cannot pay");
    runtime_gomaxprocs(2);
    GT_CHECK(!sync__canspin(SYNC_ACTIVE_SPIN), "more than %d spin rounds", SYNC_ACTIVE_SPIN);
    /* With the other P running a goroutine and our run queue empty,
     * spinning is allowed (on a machine with more than one CPU). */
    go(spin_busy, NULL);
    /* Until the other P's M has taken spin_busy: a matter of time, not
     * of iterations (a Gosched between two Gs takes ~10 ns). */
    bool ok = false;
    for (int64_t end = gt_ms() + 5000; !ok && gt_ms() < end;) {
        ok = sync__canspin(0);
        if (!ok)
            runtime_gosched();
    }
    if (runtime_num_cpu() > 1)
        GT_CHECK(ok, "never allowed to spin with two busy Ps");
    atomic_store(&spin_stop, true);
    return 0;
}

Test(sync, spin_policy) { gt_run(test_canspin); }
