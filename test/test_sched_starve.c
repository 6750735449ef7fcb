/*
 * test/test_sched_starve.c -- no runnable goroutine waits forever.
 *
 * Go's promise: a runnable goroutine runs again within a bounded time,
 * however the others behave. Three ways to break it are checked here:
 *  - many goroutines looping on Gosched (more than a P's yield queue
 *    holds, so some spill to the global queue): every one keeps running;
 *  - ping-pong pairs on unbuffered channels, whose direct hand-offs
 *    inherit one time slice: sysmon's preemption still splits them, so
 *    most pairs progress in every second, and a sleeping goroutine wakes
 *    close to its deadline;
 *  - yielders while GOMAXPROCS moves between 1 and 2: none is lost;
 *  - a new goroutine that an expired slice moved from runnext to the
 *    yield queue before it ever ran: a Gosched that meets it starts it.
 *
 * Every wait is for the condition itself, with a deadline only as a hang
 * guard: "advanced" means a goroutine's counter moved past a snapshot.
 */
#include "helpers.h"
#include "sched_helpers.h"

#define MAX_YIELDERS   1000
#define NPAIRS         10
#define GUARD_MS       10000      /* hang guard of every wait */
#define WAKE_BOUND_MS  500        /* a 20 ms sleeper wakes within this */
#define RESIZE_BOUND_MS 6000      /* 30 GOMAXPROCS changes and sleeps */

static _Atomic int64_t counts[MAX_YIELDERS];
static _Atomic int stop;
static gt_count_t left;

/* Increments its counter and yields, until stop. */
static void yielder(void *arg)
{
    intptr_t id = (intptr_t)arg;
    while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
        atomic_fetch_add_explicit(&counts[id], 1, memory_order_relaxed);
        runtime_gosched();
    }
    gt_count_done(&left);
}

/* Yields until every one of the first n counters has moved past its value
 * at the call; returns how many had not when the guard expired. */
static int wait_all_advance(int n)
{
    static int64_t snap[MAX_YIELDERS];
    for (int i = 0; i < n; i++)
        snap[i] = atomic_load(&counts[i]);
    int64_t end = gt_ms() + GUARD_MS;
    int behind;
    do {
        runtime_gosched();
        behind = 0;
        for (int i = 0; i < n; i++)
            behind += atomic_load(&counts[i]) <= snap[i];
    } while (behind > 0 && gt_ms() < end);
    return behind;
}

static void start_yielders(int n)
{
    atomic_store(&stop, 0);
    gt_count_init(&left, n);
    for (intptr_t i = 0; i < n; i++)
        go(yielder, (void *)i);
}

static void stop_yielders(void)
{
    atomic_store(&stop, 1);
    gt_count_wait(&left);
}

/* n yielders at procs Ps: each advances in three successive windows. */
static int yielders_advance(int procs, int n)
{
    runtime_gomaxprocs(procs);
    start_yielders(n);
    for (int w = 0; w < 3; w++) {
        int behind = wait_all_advance(n);
        GT_CHECK(behind == 0, "GOMAXPROCS=%d, %d yielders: %d never ran again "
                 "(window %d)", procs, n, behind, w);
    }
    stop_yielders();
    return 0;
}

static int main_yield_129_p1(int c, char **v) { return yielders_advance(1, 129); }
static int main_yield_1000_p1(int c, char **v) { return yielders_advance(1, 1000); }
static int main_yield_1000_p2(int c, char **v) { return yielders_advance(2, 1000); }

Test(sched_starve, yielders_129_gomaxprocs1, .timeout = 60) { gt_run(main_yield_129_p1); }
Test(sched_starve, yielders_1000_gomaxprocs1, .timeout = 60) { gt_run(main_yield_1000_p1); }
Test(sched_starve, yielders_1000_gomaxprocs2, .timeout = 60) { gt_run(main_yield_1000_p2); }

/* 1000 yielders while GOMAXPROCS moves 1 <-> 2 ten times: none is lost. */
static int main_yield_resize(int c, char **v)
{
    runtime_gomaxprocs(1);
    start_yielders(MAX_YIELDERS);
    for (int i = 0; i < 10; i++) {
        runtime_gomaxprocs(i % 2 ? 1 : 2);
        time_sleep(2 * 1000000);
    }
    for (int w = 0; w < 2; w++) {
        int behind = wait_all_advance(MAX_YIELDERS);
        GT_CHECK(behind == 0, "after GOMAXPROCS changes: %d of %d yielders never "
                 "ran again (window %d)", behind, MAX_YIELDERS, w);
    }
    stop_yielders();
    return 0;
}

Test(sched_starve, yielders_across_gomaxprocs_changes, .timeout = 60) { gt_run(main_yield_resize); }

/* ------------------------------------------------------------------ */
/* ping-pong pairs                                                     */
/* ------------------------------------------------------------------ */

static chan_t *ping[NPAIRS], *pong[NPAIRS];

/* One side of a pair: sends and receives until stop, counting rounds. */
static void pinger(void *arg)
{
    intptr_t id = (intptr_t)arg;
    long v = 0;
    while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
        chan_send(ping[id], &v);
        chan_recv(pong[id], &v);
        atomic_fetch_add_explicit(&counts[id], 1, memory_order_relaxed);
    }
    v = -1;
    chan_send(ping[id], &v);
    gt_count_done(&left);
}

static void ponger(void *arg)
{
    intptr_t id = (intptr_t)arg;
    long v;
    for (;;) {
        chan_recv(ping[id], &v);
        if (v < 0)
            break;
        chan_send(pong[id], &v);
    }
    gt_count_done(&left);
}

/* Sleeps 20 ms and returns how late the wake-up came, in ms. */
static int64_t sleeper_lateness(void)
{
    int64_t t0 = gt_ms();
    time_sleep(20 * 1000000);
    return gt_ms() - t0 - 20;
}

/* How many pairs advance during a one-second window. */
static int pairs_advancing(void)
{
    int64_t snap[NPAIRS];
    for (int i = 0; i < NPAIRS; i++)
        snap[i] = atomic_load(&counts[i]);
    time_sleep(1000 * 1000000);
    int n = 0;
    for (int i = 0; i < NPAIRS; i++)
        n += atomic_load(&counts[i]) > snap[i];
    return n;
}

/* Ten pairs at GOMAXPROCS=1, then after GOMAXPROCS changes under load. */
static int main_pingpong(int c, char **v)
{
    runtime_gomaxprocs(1);
    atomic_store(&stop, 0);
    gt_count_init(&left, 2 * NPAIRS);
    for (intptr_t i = 0; i < NPAIRS; i++) {
        GC_STORE(ping[i], chan_make(sizeof(long), 0));
        GC_STORE(pong[i], chan_make(sizeof(long), 0));
        go(pinger, (void *)i);
        go(ponger, (void *)i);
    }
    int64_t late = sleeper_lateness();
    GT_CHECK(late < WAKE_BOUND_MS, "a 20 ms sleep beside ping-pong pairs woke %lld ms late",
             (long long)late);
    int n = pairs_advancing();
    GT_CHECK(n >= NPAIRS / 2, "GOMAXPROCS=1: only %d of %d pairs advanced in 1 s", n, NPAIRS);

    /* GOMAXPROCS toggled under load: each change is a stop-the-world the
     * pairs must let through, and main's short sleeps must wake. */
    int64_t t0 = gt_ms();
    for (int i = 0; i < 30; i++) {
        runtime_gomaxprocs(1 << (i % 3));   /* 1, 2, 4 */
        time_sleep(10 * 1000000);
    }
    int64_t spent = gt_ms() - t0;
    /* Go 1.19 takes 0.4 to 1.6 s for this loop here; a pair that keeps
     * its P makes it tens of seconds. */
    GT_CHECK(spent < RESIZE_BOUND_MS, "30 GOMAXPROCS changes with 10 ms sleeps "
             "took %lld ms", (long long)spent);
    runtime_gomaxprocs(1);
    late = sleeper_lateness();
    GT_CHECK(late < WAKE_BOUND_MS, "after GOMAXPROCS changes a 20 ms sleep woke %lld ms late",
             (long long)late);
    n = pairs_advancing();
    GT_CHECK(n >= NPAIRS / 2, "after GOMAXPROCS changes: only %d of %d pairs advanced in 1 s",
             n, NPAIRS);
    atomic_store(&stop, 1);
    gt_count_wait(&left);
    return 0;
}

Test(sched_starve, pingpong_pairs_share_one_p, .timeout = 60) { gt_run(main_pingpong); }

/* ---- a new goroutine moved out of runnext by an expired slice ---------- */

static chan_t *unstarted_done;
static _Atomic int unstarted_ran;

static _Atomic int unstarted_warm;

static void unstarted_child(void *arg)
{
    (void)arg;
    atomic_store(&unstarted_ran, 1);
}

static void unstarted_warmer(void *arg)
{
    (void)arg;
    atomic_fetch_add(&unstarted_warm, 1);
}

/* Yields until the child has run (the yield finds it, unstarted, as the
 * oldest yielded G), then lets main go on. */
static void unstarted_yielder(void *arg)
{
    (void)arg;
    for (int i = 0; i < 100000 && !atomic_load(&unstarted_ran); i++)
        runtime_gosched();
    int v = atomic_load(&unstarted_ran);
    chan_send(unstarted_done, &v);
}

/* Exit status 0: the child ran and the yielder saw it. With the signal
 * off, sysmon can only mark main's slice expired; main's park then moves
 * the child, never run, from runnext to the yield queue, where the
 * yielder's Gosched meets it. */
static int main_unstarted_yield(int argc, char **argv)
{
    (void)argc; (void)argv;
    runtime_gomaxprocs(1);
    GC_STORE(unstarted_done, chan_make(sizeof(int), 0));
    /* Used slots around the child's, as in a busy program: a G read as a
     * started one there would look runnable. */
    for (int i = 0; i < 256; i++)
        go(unstarted_warmer, NULL);
    while (atomic_load(&unstarted_warm) < 256)
        runtime_gosched();
    go(unstarted_yielder, NULL);
    go(unstarted_child, NULL);   /* runnext; the yielder goes to the queue */
    int64_t end = gt_ms() + 40;  /* past a slice, with no runtime call */
    volatile uint64_t x = 0;
    while (gt_ms() < end)
        x++;
    int v = 0;
    chan_recv(unstarted_done, &v);
    return v ? 0 : 3;
}

Test(sched_starve, yield_meets_unstarted_goroutine, .timeout = 30)
{
    static const char *const env[] = {"GODEBUG=asyncpreemptoff=1", "GOMAXPROCS=1", NULL};
    gt_result_t *r = malloc(sizeof *r);
    gt_child(r, main_unstarted_yield, env, 10000);
    cr_assert_eq(r->status, 0, "status %d, output:\n%s", r->status, r->out);
    free(r);
}
