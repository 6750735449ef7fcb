/*
 * test/test_sched_stack.c -- goroutine stacks: fixed size (they do not grow
 * in gort), 64 KiB by default, GORT_STACK_SIZE and debug_set_max_stack
 * change it; a goroutine may use nearly all of it; overflowing it ends the
 * program with a clear "stack overflow" message and a non-zero status,
 * never silent corruption. (The exact text is the panic machinery's.)
 */
#include "helpers.h"
#include "sched_helpers.h"

/* Recurses depth times, using about 1 KiB of stack per level. Each frame's
 * address is passed down and read after the call returns, so the compiler
 * cannot turn the recursion into a loop. */
__attribute__((noinline)) static int recurse_in(int depth, volatile char *up)
{
    volatile char frame[1000];
    frame[0] = 1;
    frame[sizeof frame - 1] = (char)depth;
    int below = depth <= 0 ? 0 : recurse_in(depth - 1, frame);
    return below + (depth > 0 ? up[0] : 0) + frame[sizeof frame - 1] - (char)depth;
}

static int recurse(int depth)
{
    volatile char top[1] = {1};
    return recurse_in(depth, top);
}

static gt_count_t left;
static _Atomic int depth_result;

static void recurse_g(void *arg)
{
    atomic_store(&depth_result, recurse((int)(intptr_t)arg));
    gt_count_done(&left);
}

/* ~40 KiB deep in a 64 KiB stack works. */
static int main_deep_ok(int argc, char **argv)
{
    gt_count_init(&left, 1);
    go(recurse_g, (void *)(intptr_t)40);
    gt_count_wait(&left);
    GT_CHECK(atomic_load(&depth_result) == 40, "%d", atomic_load(&depth_result));
    return 0;
}

Test(sched_stack, default_stack_holds_40k, .timeout = 30)
{
    gt_run(main_deep_ok);
}

/* Infinite recursion in a goroutine. */
#pragma GCC diagnostic ignored "-Winfinite-recursion"
__attribute__((noinline)) static int forever(int n, volatile char *up)
{
    volatile char frame[512];
    frame[0] = (char)n;
    return forever(n + 1, frame) + up[0];
}

static void overflow_g(void *arg)
{
    volatile char top[1] = {0};
    atomic_store(&depth_result, forever(0, top));
}

static int main_overflow(int argc, char **argv)
{
    go(overflow_g, NULL);
    gt_yield_until(&depth_result, 10000);
    return 0; /* not reached if the overflow is caught */
}

static void expect_overflow(const char *const *env)
{
    gt_result_t *r = malloc(sizeof *r);
    gt_child(r, main_overflow, env, 20000);
    cr_assert_neq(r->status, 0, "stack overflow exited 0; output:\n%s", r->out);
    cr_assert_neq(r->status, 128 + SIGKILL, "stack overflow hung; output:\n%s",
                  r->out);
    cr_assert_not_null(strstr(r->out, "stack overflow"),
                       "status %d without a \"stack overflow\" message; "
                       "output:\n%s", r->status, r->out);
    free(r);
}

Test(sched_stack, overflow_is_reported, .timeout = 30)
{
    expect_overflow(NULL);
}

Test(sched_stack, overflow_is_reported_gomaxprocs1, .timeout = 30)
{
    static const char *const env[] = {"GOMAXPROCS=1", NULL};
    expect_overflow(env);
}

Test(sched_stack, overflow_is_reported_with_big_stacks, .timeout = 30)
{
    static const char *const env[] = {"GORT_STACK_SIZE=1048576", NULL};
    expect_overflow(env);
}

/* Overflow while many other goroutines exist (their stacks may sit right
 * below: an overflow must not silently run into a neighbour). */
static void park_g(void *arg) { gt_park_forever(); }

static int main_overflow_among_many(int argc, char **argv)
{
    for (int i = 0; i < 50000; i++)
        go(park_g, NULL);
    runtime_gosched();
    return main_overflow(argc, argv);
}

Test(sched_stack, overflow_among_many_goroutines, .timeout = 30)
{
    gt_result_t *r = malloc(sizeof *r);
    gt_child(r, main_overflow_among_many, NULL, 25000);
    cr_assert_neq(r->status, 0, "stack overflow exited 0; output:\n%.2000s", r->out);
    cr_assert_not_null(strstr(r->out, "stack overflow"),
                       "status %d; output:\n%.4000s", r->status, r->out);
    free(r);
}

/* debug_set_max_stack: new goroutines get the new size. */
static int main_set_max_stack(int argc, char **argv)
{
    int prev = debug_set_max_stack(1 << 20);
    GT_CHECK(prev == 64 * 1024, "default stack size %d", prev);
    GT_CHECK(debug_set_max_stack(1 << 20) == 1 << 20);
    gt_count_init(&left, 1);
    go(recurse_g, (void *)(intptr_t)800); /* ~800 KiB deep */
    gt_count_wait(&left);
    GT_CHECK(atomic_load(&depth_result) == 800, "%d", atomic_load(&depth_result));
    /* Back to small stacks; goroutines still work. */
    GT_CHECK(debug_set_max_stack(64 * 1024) == 1 << 20);
    gt_count_init(&left, 1);
    go(recurse_g, (void *)(intptr_t)20);
    gt_count_wait(&left);
    GT_CHECK(atomic_load(&depth_result) == 20);
    return 0;
}

Test(sched_stack, set_max_stack_allows_deep_recursion, .timeout = 30)
{
    unsetenv("GORT_STACK_SIZE");
    gt_run(main_set_max_stack);
}

/* GORT_STACK_SIZE from the environment. */
static int main_env_stack(int argc, char **argv)
{
    int cur = debug_set_max_stack(64 * 1024);
    debug_set_max_stack(cur);
    gt_count_init(&left, 1);
    go(recurse_g, (void *)(intptr_t)400); /* ~400 KiB deep */
    gt_count_wait(&left);
    return cur == 512 * 1024 && atomic_load(&depth_result) == 400 ? 0 : 1;
}

Test(sched_stack, env_stack_size, .timeout = 30)
{
    static const char *const env[] = {"GORT_STACK_SIZE=524288", NULL};
    gt_result_t *r = malloc(sizeof *r);
    gt_child(r, main_env_stack, env, 20000);
    cr_assert_eq(r->status, 0, "status %d; output:\n%s", r->status, r->out);
    free(r);
}

/* A goroutine whose slot was overrun from above (the canary word next to
 * its descriptor is gone) is never resumed from its untrustworthy saved
 * context: resuming it reports a stack overflow. Simulated by breaking
 * the word by hand while the goroutine is parked. */
static gt_gate_t victim_gate;
static g_t *victim_g;
static _Atomic int victim_resumed;

static void victim(void *arg)
{
    victim_g = sched__getg();
    gt_gate_wait(&victim_gate);
    atomic_store(&victim_resumed, 1);
}

static int main_overrun_from_above(int argc, char **argv)
{
    go(victim, NULL);
    while (victim_g == NULL || atomic_load(&victim_g->status) != G_WAITING)
        runtime_gosched();
    *sched__canary_above(victim_g) = 0;   /* what an overflow from above does */
    gt_gate_open(&victim_gate);
    time_sleep(10 * TIME_SECOND);   /* the report ends the process first */
    return atomic_load(&victim_resumed) ? 3 : 4;
}

Test(sched_stack, overrun_from_above_is_reported, .timeout = 30)
{
    GT_EXPECT_EXIT(main_overrun_from_above, NULL, 20000, 2, "fatal error: stack overflow");
}

/* Goroutines that park with their stacks nearly full: a direct switch to
 * one of them would run its hook in the few KiB left below its context,
 * so sched/park.c takes the way through g0 instead (less than
 * SCHED_HOOK_STACK left). Both ping-pong partners park with ~60 KiB of
 * their 64 KiB in use, 1,000 times each, and every value comes back. */
static chan_t *deep_ping, *deep_pong;
static _Atomic int deep_rounds;

__attribute__((noinline)) static int deep_then(int depth, volatile char *up,
                                               void (*fn)(void))
{
    volatile char frame[1000];
    frame[0] = 1;
    if (depth > 0)
        return deep_then(depth - 1, frame, fn) + up[0] - 1;
    fn();
    return frame[0] - 1;
}

static void echo_rounds(void)
{
    for (int i = 0; i < 1000; i++) {
        int v;
        chan_recv(deep_ping, &v);
        chan_send(deep_pong, &v);
        atomic_fetch_add(&deep_rounds, 1);
    }
}

static void deep_echo(void *arg)
{
    volatile char top[1] = {1};
    (void)arg;
    deep_then(58, top, echo_rounds);
    gt_count_done(&left);
}

static void serve_rounds(void)
{
    for (int i = 0; i < 1000; i++) {
        chan_send(deep_ping, &i);
        int v;
        chan_recv(deep_pong, &v);
        GT_CHECK(v == i);
    }
}

static void deep_serve(void *arg)
{
    volatile char top[1] = {1};
    (void)arg;
    deep_then(58, top, serve_rounds);
    gt_count_done(&left);
}

static int main_deep_pingpong(int argc, char **argv)
{
    runtime_gomaxprocs(1);
    deep_ping = chan_make(sizeof(int), 0);
    deep_pong = chan_make(sizeof(int), 0);
    gt_count_init(&left, 2);
    go(deep_echo, NULL);
    go(deep_serve, NULL);
    gt_count_wait(&left);
    GT_CHECK(atomic_load(&deep_rounds) == 1000, "%d", atomic_load(&deep_rounds));
    return 0;
}

Test(sched_stack, pingpong_with_full_stacks, .timeout = 30)
{
    gt_run(main_deep_pingpong);
}
