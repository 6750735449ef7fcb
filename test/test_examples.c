/*
 * test/test_examples.c -- runs the programs of docs/examples/ that the
 * Makefile built (build/examples/NAME, against libgort.so) and checks
 * their exit status and the lines they print. It builds nothing itself;
 * a missing binary fails the test.
 */
#include "helpers.h"

/* Runs build/examples/name (10 s limit) into r; it must exit 0. */
static void run_example(gt_result_t *r, const char *name)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/examples/%s", GT_BUILD_DIR, name);
    cr_assert(access(path, X_OK) == 0, "%s not built (make examples)", path);
    char *const argv[] = {path, NULL};
    gt_exec(r, argv, 10000);
    cr_assert_eq(r->status, 0, "%s exited %d:\n%s", name, r->status, r->out);
}

static gt_result_t res;

/* Runs the example and checks that its output holds every line of want
 * (NULL-terminated). */
static void expect_lines(const char *name, const char *const *want)
{
    run_example(&res, name);
    for (int i = 0; want[i]; i++)
        cr_assert(strstr(res.out, want[i]) != NULL, "%s lacks \"%s\":\n%s", name, want[i],
                  res.out);
}

#define EXPECT_LINES(name, ...) expect_lines(name, (const char *const[]){__VA_ARGS__, NULL})

Test(examples, primes)
{
    EXPECT_LINES("primes", "first 25 primes (sieve, one goroutine per prime): 2 3 5 7 11",
                 "primes below 2000000: 148933");
}

Test(examples, worker_pool)
{
    EXPECT_LINES("worker_pool", "jobs: 100, sum of squares: 338350, at most ", "(limit 4)");
}

Test(examples, ping_pong)
{
    run_example(&res, "ping_pong");
    cr_assert_str_eq(res.out, "odd  1\neven 2\nodd  3\neven 4\nodd  5\neven 6\n"
                              "odd  7\neven 8\nodd  9\neven 10\n");
}

Test(examples, safe_map)
{
    EXPECT_LINES("safe_map", "context  mutex  1600  sync.Map  1600",
                 "total 8000 (8 workers x 1000); both maps agree");
}

Test(examples, timeout_handler)
{
    GT_SKIP_UNDER("thread", "the program races work against a deadline (timeout_handler) or a 10 s "
                  "budget (echo_server) that TSan's 5-15x slowdown overruns");
    EXPECT_LINES("timeout_handler", "work  10 ms, timeout 200 ms: answer 42",
                 "work 500 ms, timeout  20 ms: gave up (context deadline exceeded)",
                 "goroutines left behind: 0");
}

Test(examples, pipeline)
{
    run_example(&res, "pipeline");
    cr_assert_str_eq(res.out, "1\n4\n9\n16\n25\npipeline stopped: context canceled\n");
}

Test(examples, echo_server)
{
    GT_SKIP_UNDER("thread", "the program races work against a deadline (timeout_handler) or a 10 s "
                  "budget (echo_server) that TSan's 5-15x slowdown overruns");
    EXPECT_LINES("echo_server", "echo server on 127.0.0.1:", "100 clients x 100 round trips in ",
                 " ms, 0 failures\n");
}

Test(examples, chat_server)
{
    EXPECT_LINES("chat_server", "chat server on 127.0.0.1:", "alice saw 30 lines from the 3 others\n",
                 "bob saw 30 lines from the 3 others\n", "carol saw 30 lines from the 3 others\n",
                 "dave saw 30 lines from the 3 others\n",
                 "room: 4 joined, 4 left, 40 messages, 0 lines dropped\n");
}
