/*
 * test/test_sched_syscall.c -- syscall hand-off at GOMAXPROCS=1: a goroutine
 * blocked in the kernel between runtime_entersyscall/exitsyscall keeps its
 * M but not its P, so other goroutines run meanwhile; when the call returns
 * the goroutine gets a P back and continues.
 */
#include <poll.h>

#include "helpers.h"
#include "sched_helpers.h"

static _Atomic int in_call, call_done, stop;
static _Atomic int64_t progress, progress_during;
static gt_count_t left;

/* Counts while the sleeper sleeps; yields so main can run too. */
static void counter(void *arg)
{
    while (!atomic_load(&stop)) {
        atomic_fetch_add(&progress, 1);
        runtime_gosched();
    }
    gt_count_done(&left);
}

static void sleeper(void *arg)
{
    atomic_store(&in_call, 1);
    int64_t before = atomic_load(&progress);
    runtime_entersyscall();
    /* In the call until the others made 100 rounds (10 s at most). */
    for (int i = 0; i < 10000 && atomic_load(&progress) - before <= 100; i++)
        gt_usleep_full(1000);
    runtime_exitsyscall();
    atomic_store(&progress_during, atomic_load(&progress) - before);
    atomic_store(&call_done, 1);
    gt_count_done(&left);
}

static int main_usleep(int argc, char **argv)
{
    runtime_gomaxprocs(1);
    gt_count_init(&left, 2);
    go(sleeper, NULL);
    go(counter, NULL);
    gt_yield_until(&call_done, 20000);
    atomic_store(&stop, 1);
    gt_count_wait(&left);
    GT_CHECK(atomic_load(&call_done));
    /* Unless the P stayed blocked in the call, the others ran meanwhile. */
    GT_CHECK(atomic_load(&progress_during) > 100,
             "only %lld rounds of other goroutines during a 10 s call",
             (long long)atomic_load(&progress_during));
    GT_CHECK(runtime_gomaxprocs(0) == 1);
    return 0;
}

Test(sched_syscall, usleep_does_not_block_others, .timeout = 30)
{
    gt_run(main_usleep);
}

/* A goroutine blocks in read() on a pipe; the goroutine that writes the
 * byte can run only if the reader's P was handed off. */
static int pfd[2];
static _Atomic int got_byte;

static void reader(void *arg)
{
    char c = 0;
    atomic_store(&in_call, 1);
    runtime_entersyscall();
    ssize_t n = read(pfd[0], &c, 1);
    runtime_exitsyscall();
    GT_CHECK(n == 1 && c == 'x', "read returned %zd", n);
    atomic_store(&got_byte, 1);
    gt_count_done(&left);
}

static void writer(void *arg)
{
    /* Wait until the reader is (about to be) blocked in read. */
    while (!atomic_load(&in_call))
        runtime_gosched();
    int64_t end = gt_ms() + 50;
    while (gt_ms() < end)
        runtime_gosched();
    GT_CHECK(!atomic_load(&got_byte));
    GT_CHECK(write(pfd[1], "x", 1) == 1);
    gt_count_done(&left);
}

static int main_pipe(int argc, char **argv)
{
    runtime_gomaxprocs(1);
    GT_CHECK(pipe(pfd) == 0);
    gt_count_init(&left, 2);
    go(reader, NULL);
    go(writer, NULL);
    gt_count_wait(&left);
    GT_CHECK(atomic_load(&got_byte));
    return 0;
}

Test(sched_syscall, blocked_read_lets_writer_run, .timeout = 30)
{
    gt_run(main_pipe);
}

/* Many goroutines in blocking calls at once (more than GOMAXPROCS): each
 * gets its own M, and all return. Each stays in its call until all are in
 * theirs (10 s at most). */
#define NBLOCK 16
static _Atomic int inside, max_inside;

static void short_sleeper(void *arg)
{
    int now = atomic_fetch_add(&inside, 1) + 1;
    int m = atomic_load(&max_inside);
    while (now > m && !atomic_compare_exchange_weak(&max_inside, &m, now)) {}
    runtime_entersyscall();
    for (int i = 0; i < 10000 && atomic_load(&max_inside) < NBLOCK; i++)
        gt_usleep_full(1000);
    runtime_exitsyscall();
    atomic_fetch_sub(&inside, 1);
    gt_count_done(&left);
}

static int main_many(int argc, char **argv)
{
    runtime_gomaxprocs(1);
    gt_count_init(&left, NBLOCK);
    for (int i = 0; i < NBLOCK; i++)
        go(short_sleeper, NULL);
    gt_count_wait(&left);
    /* Without hand-off the P would wait for each call in turn (max 1). */
    GT_CHECK(atomic_load(&max_inside) == NBLOCK,
             "at most %d goroutines were in a blocking call at once",
             atomic_load(&max_inside));
    return 0;
}

Test(sched_syscall, calls_block_in_parallel, .timeout = 30)
{
    gt_run(main_many);
}

/* A goroutine that leaves a syscall while its P is taken keeps working:
 * many short calls in a loop, with a competing goroutine. */
static void churn(void *arg)
{
    for (int i = 0; i < 2000; i++) {
        runtime_entersyscall();
        if (i % 100 == 0)
            usleep(1000);
        runtime_exitsyscall();
        if (i % 10 == 0)
            runtime_gosched();
    }
    gt_count_done(&left);
}

static int main_churn(int argc, char **argv)
{
    runtime_gomaxprocs(1);
    gt_count_init(&left, 4);
    for (int i = 0; i < 4; i++)
        go(churn, NULL);
    gt_count_wait(&left);
    return 0;
}

Test(sched_syscall, enter_exit_churn, .timeout = 30)
{
    gt_run(main_churn);
}

/* Many short blocking calls at GOMAXPROCS=1: sysmon retakes the P again and
 * again while calls return. A call that returns while sysmon holds the P
 * between retaking it and handing it off must not be taken for a deadlock
 * (Go's retake pretends one more M runs around that window). */
#define NSHORT 200
static void many_short(void *arg)
{
    for (int i = 0; i < 300; i++) {
        runtime_entersyscall();
        usleep(20);
        runtime_exitsyscall();
    }
    gt_count_done(&left);
}

static int main_many_short(int argc, char **argv)
{
    runtime_gomaxprocs(1);
    gt_count_init(&left, NSHORT);
    for (int i = 0; i < NSHORT; i++)
        go(many_short, NULL);
    gt_count_wait(&left);
    return 0;
}

Test(sched_syscall, many_short_calls_gomaxprocs1, .timeout = 60)
{
    gt_run(main_many_short);
}
