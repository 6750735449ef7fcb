/*
 * test_sched_smoke.c -- the scheduler's first signs of life: main runs as
 * goroutine 1, goroutines run and yield, runtime_main returns main's value.
 */
#include "helpers.h"
#include "sched_helpers.h"

static _Atomic int ran;

static void bump(void *arg)
{
    (void)arg;
    runtime_gosched();
    atomic_fetch_add(&ran, 1);
}

static int body_spawn(int argc, char **argv)
{
    (void)argc; (void)argv;
    GT_CHECK(runtime_goid() == 1);
    for (int i = 0; i < 1000; i++)
        go(bump, NULL);
    while (atomic_load(&ran) < 1000)
        runtime_gosched();
    GT_CHECK(atomic_load(&ran) == 1000);
    return 0;
}

Test(sched_smoke, spawn_and_yield) { gt_run(body_spawn); }

static int body_ret(int argc, char **argv)
{
    (void)argc; (void)argv;
    return 42;
}

Test(sched_smoke, main_value_returned)
{
    char *argv[] = {(char *)"x", NULL};
    cr_assert_eq(runtime_main(body_ret, 1, argv), 42);
}

static int body_sleep(int argc, char **argv)
{
    (void)argc; (void)argv;
    int64_t t0 = time_now();
    time_sleep(20 * TIME_MILLISECOND);
    int64_t el = time_now() - t0;
    GT_CHECK(el >= 20 * TIME_MILLISECOND, "slept %lld ns", (long long)el);
    return 0;
}

Test(sched_smoke, sleep) { gt_run(body_sleep); }

/* runtime_entersyscallblock hands the P off at once: at GOMAXPROCS=1 a
 * goroutine runs while main is blocked in the kernel (main sleeps in
 * 1 ms steps until it has, 10 s at most). */
static _Atomic int ran_during_block;

static void during_block(void *arg)
{
    (void)arg;
    atomic_store(&ran_during_block, 1);
}

static int body_block(int argc, char **argv)
{
    (void)argc; (void)argv;
    runtime_gomaxprocs(1);
    go(during_block, NULL);
    runtime_entersyscallblock();
    for (int i = 0; i < 10000 && !atomic_load(&ran_during_block); i++)
        gt_usleep_full(1000);
    int seen = atomic_load(&ran_during_block);
    runtime_exitsyscall();
    GT_CHECK(seen, "the other goroutine did not run while main was blocked");
    return 0;
}

Test(sched_smoke, entersyscallblock_hands_off) { gt_run(body_block); }

/* The same when the only other work is a goroutine that yielded: Gosched
 * queues it on the P's yield queue, which goes with the P to whichever M
 * takes it over and must not be left behind there. */
static _Atomic int64_t yield_rounds;
static _Atomic int yield_stop;

static void yield_loop(void *arg)
{
    (void)arg;
    while (!atomic_load(&yield_stop)) {
        atomic_fetch_add(&yield_rounds, 1);
        runtime_gosched();
    }
}

static int body_block_yielded(int argc, char **argv)
{
    (void)argc; (void)argv;
    runtime_gomaxprocs(1);
    go(yield_loop, NULL);
    while (atomic_load(&yield_rounds) < 10)
        runtime_gosched();   /* now yield_loop sits in the yield queue */
    runtime_entersyscallblock();
    int64_t before = atomic_load(&yield_rounds), during = 0;
    for (int i = 0; i < 10000 && during <= 100; i++) {
        gt_usleep_full(1000);
        during = atomic_load(&yield_rounds) - before;
    }
    runtime_exitsyscall();
    atomic_store(&yield_stop, 1);
    GT_CHECK(during > 100, "a yielded goroutine made %lld rounds while main "
             "was blocked for 10 s", (long long)during);
    return 0;
}

Test(sched_smoke, entersyscallblock_hands_off_to_yielded) { gt_run(body_block_yielded); }

/* MemStats.StackInuse counts resident stack memory: parking 10,000
 * goroutines adds about one page each, not their 64 KiB address space.
 * The stats are read once every goroutine is parked on the channel (a
 * goroutine that has not run yet has touched no stack page). */
static chan_t *park_chan;

static void park_on_chan(void *arg)
{
    (void)arg;
    chan_recv(park_chan, NULL);
}

static int body_stack_inuse(int argc, char **argv)
{
    (void)argc; (void)argv;
    enum { N = 10000 };
    GC_STORE(park_chan, chan_make(0, 0));
    runtime_mem_stats_t before, after;
    runtime_read_mem_stats(&before);
    for (int i = 0; i < N; i++)
        go(park_on_chan, NULL);
    gt_wait_parked(park_on_chan, N);
    runtime_read_mem_stats(&after);
    uint64_t grew = after.stack_inuse - before.stack_inuse;
    GT_CHECK(grew >= (uint64_t)N * 4096 * 9 / 10, "stack_inuse grew %llu", (unsigned long long)grew);
    GT_CHECK(grew <= (uint64_t)N * 4096 * 3, "stack_inuse grew %llu: not resident bytes",
             (unsigned long long)grew);
    chan_close(park_chan);
    return 0;
}

Test(sched_smoke, stack_inuse_is_resident)
{
    GT_SKIP_UNDER("thread", "TSan counts each live goroutine as a thread, at most "
                  "8128 at once, and this test keeps more");
    gt_run(body_stack_inuse);
}

/* When main returns, the other goroutines never run again (as Go): a
 * spinning goroutine stops, and one coming back from a system call stops
 * there, even after runtime_main has returned. The system call lasts
 * until runtime_main has returned (main_returned), 10 s at most. */
static _Atomic long spins;
static _Atomic int main_returned;
static _Atomic int syscall_slept;
static _Atomic int after_syscall;

static void spinner(void *arg)
{
    (void)arg;
    for (;;)
        atomic_fetch_add_explicit(&spins, 1, memory_order_relaxed);
}

static void in_syscall(void *arg)
{
    (void)arg;
    runtime_entersyscall();
    for (int i = 0; i < 10000 && !atomic_load(&main_returned); i++)
        gt_usleep_full(1000);
    atomic_store(&syscall_slept, 1);
    runtime_exitsyscall();
    atomic_store(&after_syscall, 1);
}

static int body_exit(int argc, char **argv)
{
    (void)argc; (void)argv;
    runtime_gomaxprocs(2);
    go(in_syscall, NULL);
    go(spinner, NULL);
    /* Return while the spinner is running on the other P. */
    long s0 = atomic_load(&spins);
    while (atomic_load(&spins) < s0 + 1000000)
        ;
    return 0;
}

/* Status of the goroutine started with fn (G_DEAD if there is none). */
static uint32_t status_of(void (*fn)(void *))
{
    size_t len = atomic_load(&sched__allglen);
    for (size_t i = 0; i < len; i++) {
        g_t *gp = sched__allgs[i];
        if (gp && gp->fn == fn)
            return atomic_load(&gp->status);
    }
    return G_DEAD;
}

Test(sched_smoke, nothing_runs_after_main_returns)
{
    GT_SKIP_UNDER("thread", "only asynchronous preemption stops the spinner's loop, and it is off under TSan");
    char *argv[] = {(char *)"x", NULL};
    cr_assert_eq(runtime_main(body_exit, 1, argv), 0);
    atomic_store(&main_returned, 1);
    /* The preemption signal sent when main returned stops the spinner at
     * its next safe point: wait (10 s at most) until it has left
     * G_RUNNING, and for the system call to end. */
    for (int i = 0; i < 10000 && status_of(spinner) == G_RUNNING; i++)
        usleep(1000);
    for (int i = 0; i < 10000 && !atomic_load(&syscall_slept); i++)
        usleep(1000);
    cr_assert(atomic_load(&syscall_slept), "the system call's sleep did not end in 10 s");
    long a = atomic_load(&spins);
    usleep(200 * 1000);  /* room for a goroutine that wrongly runs on to show it */
    cr_assert_eq(atomic_load(&spins), a, "a goroutine ran after main returned");
    cr_assert_eq(atomic_load(&after_syscall), 0,
                 "a goroutine ran on after its system call, after main returned");
}
