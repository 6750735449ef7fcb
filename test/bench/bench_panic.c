/*
 * test/bench/bench_panic.c -- frames, defer, panic/recover benchmarks
 * (Go twins in test/bench/go/panic_test.go: same names, same work).
 *
 *   BenchmarkGoCall        one op = go_call of an empty function (Go: a
 *                          call of an empty noinline function).
 *   BenchmarkDefer         one op = go_call of a function that defers one
 *                          empty function (Go: open-coded defer).
 *   BenchmarkDefer10       one op = a function that defers ten calls in a
 *                          loop (Go: heap-allocated defer records).
 *   BenchmarkPanicRecover  one op = go_call of a function that defers a
 *                          recovering function and panics.
 *
 * Single-goroutine work: runs at GOMAXPROCS=1 only.
 * May call: the public gort API and bench.h.
 */
#include "bench.h"

static volatile int sink;

static void empty(void *arg) { (void)arg; }
static void defer_one(void *arg) { go_defer(empty, arg); }
static void defer_ten(void *arg)
{
    for (int i = 0; i < 10; i++)
        go_defer(empty, arg);
}
static void recoverer(void *arg)
{
    if (go_recover())
        sink++;
}
static void panicker(void *arg)
{
    go_defer(recoverer, arg);
    go_panic("bench");
}

static void bench_gocall(bench_b_t *b)
{
    for (int64_t i = 0; i < b->n; i++)
        go_call(empty, NULL);
}

static void bench_defer(bench_b_t *b)
{
    for (int64_t i = 0; i < b->n; i++)
        go_call(defer_one, NULL);
}

static void bench_defer10(bench_b_t *b)
{
    for (int64_t i = 0; i < b->n; i++)
        go_call(defer_ten, NULL);
}

static void bench_panic_recover(bench_b_t *b)
{
    for (int64_t i = 0; i < b->n; i++)
        go_call(panicker, NULL);
}

static int run(int argc, char **argv)
{
    if (bench_procs() != 1)
        return 0;
    bench_run("BenchmarkGoCall", bench_gocall);
    bench_run("BenchmarkDefer", bench_defer);
    bench_run("BenchmarkDefer10", bench_defer10);
    bench_run("BenchmarkPanicRecover", bench_panic_recover);
    return 0;
}

int main(int argc, char **argv) { return bench_main(run, argc, argv); }
