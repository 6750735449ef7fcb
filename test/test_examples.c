/*
 * test/test_examples.c -- runs the programs of docs/examples/ that the
 * Makefile built (build/examples/NAME, against libgort.so) and checks
 * their exit status and the lines they print. It builds nothing itself;
 * a missing binary fails the test.
 */
#include "helpers.h"

/* Runs build/examples/name (10 s limit) into r. */
static void run_example(gt_result_t *r, const char *name)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/examples/%s", GT_BUILD_DIR, name);
    cr_assert(access(path, X_OK) == 0, "%s not built (make examples)", path);
    int fds[2];
    cr_assert(pipe(fds) == 0);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fds[1], 1);
        dup2(fds[1], 2);
        close(fds[0]);
        execl(path, name, (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    gt_collect(r, pid, fds[0], 10000);
    cr_assert_eq(r->status, 0, "%s exited %d:\n%s", name, r->status, r->out);
}

static gt_result_t res;

#define EXPECT(text) cr_assert(strstr(res.out, text) != NULL, "lacks \"%s\":\n%s", text, res.out)

Test(examples, primes)
{
    run_example(&res, "primes");
    EXPECT("first 25 primes (sieve, one goroutine per prime): 2 3 5 7 11");
    EXPECT("primes below 2000000: 148933");
}

Test(examples, worker_pool)
{
    run_example(&res, "worker_pool");
    EXPECT("jobs: 100, sum of squares: 338350, at most ");
    EXPECT("(limit 4)");
}

Test(examples, ping_pong)
{
    run_example(&res, "ping_pong");
    cr_assert_str_eq(res.out, "odd  1\neven 2\nodd  3\neven 4\nodd  5\neven 6\n"
                              "odd  7\neven 8\nodd  9\neven 10\n");
}

Test(examples, safe_map)
{
    run_example(&res, "safe_map");
    EXPECT("context  mutex  1600  sync.Map  1600");
    EXPECT("total 8000 (8 workers x 1000); both maps agree");
}

Test(examples, timeout_handler)
{
    run_example(&res, "timeout_handler");
    EXPECT("work  10 ms, timeout 200 ms: answer 42");
    EXPECT("work 500 ms, timeout  20 ms: gave up (context deadline exceeded)");
    EXPECT("goroutines left behind: 0");
}

Test(examples, pipeline)
{
    run_example(&res, "pipeline");
    cr_assert_str_eq(res.out, "1\n4\n9\n16\n25\npipeline stopped: context canceled\n");
}
