/*
 * test/test_sched_deadlock.c -- deadlock detection, as Go's checkdead:
 * when every goroutine is blocked and nothing (a timer, a goroutine in a
 * system call, a running thread) can wake one, the program prints
 * "fatal error: all goroutines are asleep - deadlock!" and exits 2.
 * And no false alarm while something can still wake a goroutine.
 *
 * Goroutines block with the scheduler's park API (sched_helpers.h), so
 * these tests do not depend on channels or sync.
 */
#include "helpers.h"
#include "sched_helpers.h"

#define DEADLOCK_MSG "fatal error: all goroutines are asleep - deadlock!"

/* Runs fn in a child with env (NULL for none) and asserts that it exited 2
 * with msg in its output, and also `also` unless that is NULL; returns the
 * result for further checks (the caller frees it). */
static gt_result_t *deadlock_child(int (*fn)(int, char **), const char *const *env,
                                   const char *msg, const char *also)
{
    return gt_child_expect(fn, env, 15000, 2, (const char *const[]){msg, also, NULL});
}

static void expect_deadlock(int (*fn)(int, char **), const char *const *env)
{
    free(deadlock_child(fn, env, DEADLOCK_MSG, NULL));
}

static void expect_exit(int (*fn)(int, char **), int status)
{
    gt_result_t *r = GT_CHILD_EXPECT(fn, NULL, 15000, status, NULL);
    cr_assert_null(strstr(r->out, "deadlock"), "false deadlock:\n%s", r->out);
    free(r);
}

/* main alone, parked for ever. */
static int main_alone(int argc, char **argv)
{
    gt_park_forever();
    return 0;
}

Test(sched_deadlock, main_parked_alone, .timeout = 30)
{
    expect_deadlock(main_alone, NULL);
}

Test(sched_deadlock, main_parked_alone_gomaxprocs1, .timeout = 30)
{
    static const char *const env[] = {"GOMAXPROCS=1", NULL};
    expect_deadlock(main_alone, env);
}

/* Everybody parked after some work was done. */
static void worker_then_park(void *arg)
{
    volatile int x = 0;
    for (int i = 0; i < 100000; i++)
        x++;
    gt_park_forever();
}

static int main_all_parked(int argc, char **argv)
{
    for (int i = 0; i < 100; i++)
        go(worker_then_park, NULL);
    runtime_gosched();
    gt_park_forever();
    return 0;
}

Test(sched_deadlock, all_goroutines_parked, .timeout = 30)
{
    expect_deadlock(main_all_parked, NULL);
}

/* The deadlock is found also after goroutines ran and exited. */
static gt_count_t left;
static void quick(void *arg) { gt_count_done(&left); }

static int main_after_exits(int argc, char **argv)
{
    gt_count_init(&left, 1000);
    for (int i = 0; i < 1000; i++)
        go(quick, NULL);
    gt_count_wait(&left);
    gt_park_forever();
    return 0;
}

Test(sched_deadlock, after_goroutines_exited, .timeout = 30)
{
    expect_deadlock(main_after_exits, NULL);
}

/* No false alarm: main parked while a goroutine is in a 300 ms system call
 * that will wake it. */
static gt_gate_t main_gate;

static void waker_after_syscall(void *arg)
{
    runtime_entersyscall();
    gt_usleep_full(300 * 1000);
    runtime_exitsyscall();
    gt_gate_open(&main_gate);
}

static int main_syscall_pending(int argc, char **argv)
{
    go(waker_after_syscall, NULL);
    gt_gate_wait(&main_gate);
    return 3;
}

Test(sched_deadlock, no_false_alarm_during_syscall, .timeout = 30)
{
    expect_exit(main_syscall_pending, 3);
}

/* No false alarm: a goroutine busy in a tight loop is not asleep. */
static void busy_then_wake(void *arg)
{
    volatile uint64_t x = 0;
    int64_t end = gt_ms() + 300;
    while (gt_ms() < end)
        x++;
    gt_gate_open(&main_gate);
}

static int main_busy_pending(int argc, char **argv)
{
    runtime_gomaxprocs(1);
    go(busy_then_wake, NULL);
    gt_gate_wait(&main_gate);
    return 4;
}

Test(sched_deadlock, no_false_alarm_while_busy, .timeout = 30)
{
    expect_exit(main_busy_pending, 4);
}

/* No false alarm: main sleeps on a timer while every other goroutine is
 * parked for ever. */
static void park_forever_g(void *arg) { gt_park_forever(); }

static int main_timer_pending(int argc, char **argv)
{
    for (int i = 0; i < 10; i++)
        go(park_forever_g, NULL);
    time_sleep(300 * TIME_MILLISECOND);
    return 5;
}

Test(sched_deadlock, no_false_alarm_with_timer, .timeout = 30)
{
    expect_exit(main_timer_pending, 5);
}

/* The deadlock is reported also when the last goroutine parks after a
 * timer woke it. */
static int main_deadlock_after_sleep(int argc, char **argv)
{
    time_sleep(50 * TIME_MILLISECOND);
    gt_park_forever();
    return 0;
}

Test(sched_deadlock, after_timer_fired, .timeout = 30)
{
    expect_deadlock(main_deadlock_after_sleep, NULL);
}

/* Deadlock while a goroutine is locked to its thread (it has its own M,
 * which then sleeps too). */
static void locked_then_park(void *arg)
{
    runtime_lock_os_thread();
    gt_park_forever();
}

static int main_locked_parked(int argc, char **argv)
{
    go(locked_then_park, NULL);
    runtime_gosched();
    gt_park_forever();
    return 0;
}

Test(sched_deadlock, with_locked_goroutine, .timeout = 30)
{
    expect_deadlock(main_locked_parked, NULL);
}

/* Main locked to its thread and parked. */
static int main_self_locked(int argc, char **argv)
{
    runtime_lock_os_thread();
    gt_park_forever();
    return 0;
}

Test(sched_deadlock, main_locked_to_thread, .timeout = 30)
{
    expect_deadlock(main_self_locked, NULL);
}

/* ---- the classic cases, through channels ------------------------------ */

/* main receives on a channel nobody sends on (Go's canonical deadlock). */
static int main_chan_recv(int argc, char **argv)
{
    chan_t *c = chan_make(sizeof(int), 0);
    int v;
    chan_recv(c, &v);
    return 0;
}

Test(sched_deadlock, chan_receive_without_sender, .timeout = 30)
{
    /* Go then prints main's traceback with its wait reason. */
    free(deadlock_child(main_chan_recv, NULL, DEADLOCK_MSG, "goroutine 1 [chan receive]:"));
}

/* select {} in main, with a worker blocked on a full buffered channel. */
static chan_t *full;
static void stuck_sender(void *arg)
{
    int v = 1;
    chan_send(full, &v);
    chan_send(full, &v); /* capacity 1: blocks for ever */
}

static int main_select_forever(int argc, char **argv)
{
    GC_STORE(full, chan_make(sizeof(int), 1));
    go(stuck_sender, NULL);
    chan_select(NULL, 0, true);
    return 0;
}

Test(sched_deadlock, empty_select_and_blocked_sender, .timeout = 30)
{
    free(deadlock_child(main_select_forever, NULL, DEADLOCK_MSG,
                        "goroutine 1 [select (no cases)]:"));
}

/* main calls runtime_goexit: the others run to their end, then Go reports
 * "no goroutines (main called runtime.Goexit) - deadlock!". */
static _Atomic int others_done;
static void worker_sleeps(void *arg)
{
    time_sleep(100 * TIME_MILLISECOND);
    printf("worker done\n");
    fflush(stdout);
    atomic_fetch_add(&others_done, 1);
}

static int main_goexit(int argc, char **argv)
{
    go(worker_sleeps, NULL);
    go(worker_sleeps, NULL);
    runtime_goexit();
    printf("not reached\n");
    return 0;
}

Test(sched_deadlock, main_goexit_waits_for_others, .timeout = 30)
{
    gt_result_t *r = deadlock_child(main_goexit, NULL,
                                    "fatal error: no goroutines (main called "
                                    "runtime.Goexit) - deadlock!", NULL);
    cr_assert_null(strstr(r->out, "not reached"), "output:\n%s", r->out);
    /* Both workers finished first. */
    const char *p = strstr(r->out, "worker done\n");
    cr_assert(p && strstr(p + 1, "worker done\n"), "output:\n%s", r->out);
    free(r);
}
