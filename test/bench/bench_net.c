/*
 * test/bench/bench_net.c -- network benchmarks over TCP loopback (Go
 * twins in test/bench/go/net_test.go: same names, same work). Server and
 * clients live in the same process; every benchmark runs at whatever
 * GOMAXPROCS the program was started with.
 *
 *   BenchmarkNetEchoK[-P]   K = 1, 100, 1000 (10000 with NETBENCH_10K=1)
 *                           connections to an echo server (a goroutine
 *                           per connection: read, write back), each
 *                           driven by its own client goroutine sending a
 *                           64-byte message and reading the 64-byte echo.
 *                           One op = one round trip on some connection;
 *                           metric req/s (round trips per second).
 *   BenchmarkNetParkWake[-P] one op = a 1-byte ping-pong over one
 *                           connection where each side is parked in read
 *                           before the other writes: two parks on a
 *                           socket and two wake-ups by the poller.
 *
 * Set-up (listen, dial, accept) is outside the timer.
 *
 * May call: the public gort API and bench.h.
 */
#include <stdatomic.h>

#include "bench.h"

#define MSG 64

typedef struct {
    net_conn_t *c;
    int64_t n;
    sync_waitgroup_t *wg;
} client_t;

/* Server side of one connection: echo until EOF. */
static void echo_conn(void *arg)
{
    net_conn_t *c = arg;
    char buf[MSG];
    for (;;) {
        ssize_t n = net_conn_read(c, buf, sizeof buf);
        if (n <= 0 || net_conn_write(c, buf, (size_t)n) != n)
            break;
    }
    net_conn_close(c);
}

/* Accepts until the listener closes. */
static void acceptor(void *arg)
{
    net_listener_t *l = arg;
    net_conn_t *c;
    while ((c = net_listener_accept(l)) != NULL)
        go(echo_conn, c);
}

/* Reads exactly len bytes. */
static void read_full(net_conn_t *c, char *buf, size_t len)
{
    size_t off = 0;
    while (off < len) {
        ssize_t n = net_conn_read(c, buf + off, len - off);
        if (n <= 0)
            bench_fatal("read: %zd %s", n, strerror(errno));
        off += (size_t)n;
    }
}

/* One client: n round trips of a 64-byte message. */
static void client_fn(void *arg)
{
    client_t *cl = arg;
    char out[MSG], in[MSG];
    memset(out, 'm', sizeof out);
    for (int64_t i = 0; i < cl->n; i++) {
        if (net_conn_write(cl->c, out, sizeof out) != MSG)
            bench_fatal("write: %s", strerror(errno));
        read_full(cl->c, in, sizeof in);
    }
    sync_waitgroup_done(cl->wg);
}

/* n round trips spread over k connections. */
static void echo_k(bench_b_t *b, int k)
{
    net_listener_t *l = net_listen("tcp4", "127.0.0.1:0");
    if (l == NULL)
        bench_fatal("listen: %s", strerror(errno));
    char where[64];
    net_listener_addr(l, where, sizeof where);
    go(acceptor, l);
    client_t *cl = malloc((size_t)k * sizeof *cl);
    sync_waitgroup_t *wg = gc_alloc(sizeof *wg);
    for (int i = 0; i < k; i++) {
        cl[i].c = net_dial("tcp4", where);
        if (cl[i].c == NULL)
            bench_fatal("dial %d: %s", i, strerror(errno));
        cl[i].n = b->n / k + (i < b->n % k);
        cl[i].wg = wg;
    }
    sync_waitgroup_add(wg, k);
    bench_reset_timer(b);
    int64_t t0 = bench_nanotime();
    for (int i = 0; i < k; i++)
        go(client_fn, &cl[i]);
    sync_waitgroup_wait(wg);
    int64_t el = bench_nanotime() - t0;
    bench_stop_timer(b);
    bench_report_metric(b, el > 0 ? (double)b->n * 1e9 / (double)el : 0, "req/s");
    for (int i = 0; i < k; i++)
        net_conn_close(cl[i].c);
    net_listener_close(l);
    free(cl);
}

static void bench_echo1(bench_b_t *b) { echo_k(b, 1); }
static void bench_echo100(bench_b_t *b) { echo_k(b, 100); }
static void bench_echo1000(bench_b_t *b) { echo_k(b, 1000); }
static void bench_echo10000(bench_b_t *b) { echo_k(b, 10000); }

typedef struct {
    net_conn_t *c;
    int64_t n;
    sync_waitgroup_t *wg;
} pong_t;

/* The far side of the ping-pong: read one byte, send it back. */
static void pong_fn(void *arg)
{
    pong_t *p = arg;
    char b;
    for (int64_t i = 0; i < p->n; i++) {
        if (net_conn_read(p->c, &b, 1) != 1 || net_conn_write(p->c, &b, 1) != 1)
            bench_fatal("pong: %s", strerror(errno));
    }
    sync_waitgroup_done(p->wg);
}

static void bench_parkwake(bench_b_t *b)
{
    net_listener_t *l = net_listen("tcp4", "127.0.0.1:0");
    char where[64];
    net_listener_addr(l, where, sizeof where);
    net_conn_t *c = net_dial("tcp4", where);
    net_conn_t *s = net_listener_accept(l);
    if (c == NULL || s == NULL)
        bench_fatal("pair: %s", strerror(errno));
    pong_t *p = gc_alloc(sizeof *p);
    p->wg = gc_alloc(sizeof *p->wg);
    p->c = s;
    p->n = b->n;
    sync_waitgroup_add(p->wg, 1);
    bench_reset_timer(b);
    go(pong_fn, p);
    char ch = 'p';
    for (int64_t i = 0; i < b->n; i++) {
        if (net_conn_write(c, &ch, 1) != 1 || net_conn_read(c, &ch, 1) != 1)
            bench_fatal("ping: %s", strerror(errno));
    }
    sync_waitgroup_wait(p->wg);
    bench_stop_timer(b);
    net_conn_close(c);
    net_conn_close(s);
    net_listener_close(l);
}

static int run(int argc, char **argv)
{
    bench_run("BenchmarkNetEcho1", bench_echo1);
    bench_run("BenchmarkNetEcho100", bench_echo100);
    bench_run("BenchmarkNetEcho1000", bench_echo1000);
    const char *big = getenv("NETBENCH_10K");
    if (big && strcmp(big, "1") == 0)
        bench_run("BenchmarkNetEcho10000", bench_echo10000);
    bench_run("BenchmarkNetParkWake", bench_parkwake);
    return 0;
}

int main(int argc, char **argv) { return bench_main(run, argc, argv); }
