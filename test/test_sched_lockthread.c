/*
 * test/test_sched_lockthread.c -- runtime_lock_os_thread: a locked goroutine
 * runs only on its own thread (same gettid() across yields, blocking calls
 * and parking), and no other goroutine runs on that thread meanwhile;
 * nested locks need as many unlocks, as Go; thread-local variables keep
 * their value for a locked goroutine.
 */
#include "helpers.h"
#include "sched_helpers.h"

#define NOTHERS 8
#define MAXT 4096

static _Atomic int stop;
static _Atomic int locked_tid;
static _Atomic int phase; /* 1 while the locked goroutine holds its lock */
static gt_count_t left;

/* Other goroutines record the threads they ran on. */
static _Atomic int other_tids[MAXT];
static _Atomic int nother;

static void other(void *arg)
{
    while (!atomic_load(&stop)) {
        /* phase is set once and cleared once: if it reads 1 before and
         * after gettid, the thread was sampled while the lock was held. */
        if (atomic_load(&phase)) {
            int t = gt_tid();
            if (atomic_load(&phase)) {
                int n = atomic_fetch_add(&nother, 1);
                if (n < MAXT)
                    atomic_store(&other_tids[n], t);
            }
        }
        volatile int x = 0;
        for (int i = 0; i < 1000; i++)
            x++;
        runtime_gosched();
    }
    gt_count_done(&left);
}

static __thread int tls_value;
static gt_gate_t wake_locked;

static void locked(void *arg)
{
    runtime_lock_os_thread();
    int tid = gt_tid();
    atomic_store(&locked_tid, tid);
    atomic_store(&phase, 1);
    tls_value = 42;
    for (int i = 0; i < 2000; i++) {
        runtime_gosched();
        if (i % 200 == 0) {
            runtime_entersyscall();
            usleep(500);
            runtime_exitsyscall();
        }
        GT_CHECK(gt_tid() == tid, "locked goroutine moved to thread %d from %d",
                 gt_tid(), tid);
        GT_CHECK(tls_value == 42);
        if (gt_tid() != tid)
            break;
    }
    /* Parked and woken by another goroutine: still the same thread. */
    gt_gate_wait(&wake_locked);
    GT_CHECK(gt_tid() == tid, "after park: thread %d, locked to %d", gt_tid(), tid);
    GT_CHECK(tls_value == 42);
    atomic_store(&phase, 0);
    runtime_unlock_os_thread();
    gt_count_done(&left);
}

static void waker(void *arg)
{
    for (int i = 0; i < 100; i++)
        runtime_gosched();
    gt_gate_open(&wake_locked);
    gt_count_done(&left);
}

static int main_lock(int argc, char **argv)
{
    runtime_gomaxprocs(2);
    gt_count_init(&left, NOTHERS + 2);
    for (int i = 0; i < NOTHERS; i++)
        go(other, NULL);
    go(locked, NULL);
    go(waker, NULL);
    /* Let the others run until the locked goroutine is done. */
    int64_t end = gt_ms() + 20000;
    while (atomic_load(&left.n) > NOTHERS && gt_ms() < end) {
        runtime_entersyscall();
        usleep(1000);
        runtime_exitsyscall();
    }
    atomic_store(&stop, 1);
    gt_count_wait(&left);
    /* While it was locked, the locked goroutine's thread ran nobody else. */
    GT_CHECK(atomic_load(&nother) > 0, "other goroutines never sampled");
    int n = atomic_load(&nother), on_locked = 0;
    if (n > MAXT)
        n = MAXT;
    for (int i = 0; i < n; i++)
        on_locked += atomic_load(&other_tids[i]) == atomic_load(&locked_tid);
    GT_CHECK(on_locked == 0, "%d of %d samples of other goroutines ran on the "
             "locked thread", on_locked, n);
    return 0;
}

Test(sched_lockthread, locked_goroutine_keeps_its_thread, .timeout = 30)
{
    gt_run(main_lock);
}

/* Nested: lock twice, unlock once -> still locked. Unlock without lock is a
 * no-op, as Go. */
static void nested(void *arg)
{
    runtime_unlock_os_thread(); /* no-op */
    runtime_lock_os_thread();
    runtime_lock_os_thread();
    int tid = gt_tid();
    runtime_unlock_os_thread();
    for (int i = 0; i < 500; i++) {
        runtime_gosched();
        GT_CHECK(gt_tid() == tid, "moved after one of two unlocks");
        if (gt_tid() != tid)
            break;
    }
    runtime_unlock_os_thread();
    gt_count_done(&left);
}

static int main_nested(int argc, char **argv)
{
    runtime_gomaxprocs(2);
    gt_count_init(&left, 1 + NOTHERS);
    for (int i = 0; i < NOTHERS; i++)
        go(other, NULL);
    go(nested, NULL);
    while (atomic_load(&left.n) > NOTHERS)
        runtime_gosched();
    atomic_store(&stop, 1);
    gt_count_wait(&left);
    return 0;
}

Test(sched_lockthread, nested_lock_needs_two_unlocks, .timeout = 30)
{
    gt_run(main_nested);
}

/* Main locked to its thread (M0), as Go programs do for GUI libraries. */
static int main_locks_itself(int argc, char **argv)
{
    runtime_gomaxprocs(2);
    runtime_lock_os_thread();
    int tid = gt_tid();
    gt_count_init(&left, NOTHERS);
    for (int i = 0; i < NOTHERS; i++)
        go(other, NULL);
    for (int i = 0; i < 1000; i++) {
        runtime_gosched();
        GT_CHECK(gt_tid() == tid);
        if (gt_tid() != tid)
            break;
    }
    atomic_store(&stop, 1);
    gt_count_wait(&left);
    GT_CHECK(gt_tid() == tid);
    runtime_unlock_os_thread();
    return 0;
}

Test(sched_lockthread, main_locked, .timeout = 30)
{
    gt_run(main_locks_itself);
}

/* A goroutine that exits while locked: Go terminates its thread. The
 * program goes on. */
static void exit_locked(void *arg)
{
    runtime_lock_os_thread();
    atomic_store(&locked_tid, gt_tid());
    gt_count_done(&left);
}

static int main_exit_locked(int argc, char **argv)
{
    for (int round = 0; round < 20; round++) {
        gt_count_init(&left, 1);
        go(exit_locked, NULL);
        gt_count_wait(&left);
    }
    /* The runtime still works. */
    gt_count_init(&left, 100);
    atomic_store(&stop, 1);
    for (int i = 0; i < 100; i++)
        go(other, NULL);
    gt_count_wait(&left);
    return 0;
}

Test(sched_lockthread, goroutine_exits_while_locked, .timeout = 30)
{
    gt_run(main_exit_locked);
}
