/*
 * test/bench/bench_net.c -- network benchmarks over TCP loopback (Go
 * twins in test/bench/go/net_test.go: same names, same work). Every
 * benchmark runs at whatever GOMAXPROCS the program was started with.
 *
 *   BenchmarkNetEchoK[-P]   K = 1, 100, 1000 (10000 with NETBENCH_10K=1)
 *                           connections to an echo server (a goroutine
 *                           per connection: read, write back), driven by
 *                           netload (test/bench/netload.c), a separate
 *                           plain C program the Go twin starts too: K
 *                           connections, 64-byte messages, one outstanding
 *                           per connection. One op = one round trip;
 *                           metrics req/s and p99-ns (from netload's own
 *                           clock), threads (this process's, at the end
 *                           of the run), cpu-ns/req (this process's CPU
 *                           time per round trip: the server's cost) and
 *                           gen-cpu% (netload's CPU use: near 100 it is
 *                           the bottleneck). netload is
 *                           $GORT_NETLOAD, or next to this program.
 *   BenchmarkNetParkWake[-P] one op = a 1-byte ping-pong over one
 *                           connection where each side is parked in read
 *                           before the other writes: two parks on a
 *                           socket and two wake-ups by the poller.
 *
 * Set-up (listen, dial, accept) is outside the timer.
 *
 * May call: the public gort API and bench.h.
 */
#include <spawn.h>
#include <stdatomic.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include "bench.h"

#define MSG 64

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

/* The load generator's path: $GORT_NETLOAD or netload next to this
 * program. */
static const char *netload_path(void)
{
    static char path[4096];
    const char *env = getenv("GORT_NETLOAD");
    if (env && *env)
        return env;
    ssize_t n = readlink("/proc/self/exe", path, sizeof path - 16);
    if (n < 0)
        bench_fatal("readlink /proc/self/exe: %s", strerror(errno));
    path[n] = '\0';
    char *slash = strrchr(path, '/');
    strcpy(slash ? slash + 1 : path, "netload");
    return path;
}

typedef struct {
    pid_t pid;
    int in, out;               /* its stdin (we write), its stdout (we read) */
    poll_fd_t *pout;
    char buf[256];
    size_t len;
} gen_t;

/* Starts netload against where with k connections and n requests. */
static void gen_start(gen_t *g, const char *where, int k, int64_t n)
{
    int pin[2], pout[2];
    if (pipe2(pin, O_CLOEXEC) != 0 || pipe2(pout, O_CLOEXEC) != 0)
        bench_fatal("pipe: %s", strerror(errno));
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, pin[0], 0);
    posix_spawn_file_actions_adddup2(&fa, pout[1], 1);
    char ks[32], ns[32];
    snprintf(ks, sizeof ks, "%d", k);
    snprintf(ns, sizeof ns, "%lld", (long long)n);
    const char *path = netload_path();
    char *argv[] = {(char *)path, (char *)where, ks, ns, NULL};
    extern char **environ;
    int e = posix_spawn(&g->pid, path, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (e != 0)
        bench_fatal("spawn %s: %s", path, strerror(e));
    close(pin[0]);
    close(pout[1]);
    g->in = pin[1];
    g->out = pout[0];
    g->len = 0;
    g->pout = poll_fd_open(g->out);
    if (g->pout == NULL)
        bench_fatal("poll_fd_open: %s", strerror(errno));
}

/* Reads one line of netload's output into line (parked, not blocking
 * the thread: the server's goroutines run meanwhile). */
static void gen_line(gen_t *g, char *line, size_t cap)
{
    for (;;) {
        char *nl = memchr(g->buf, '\n', g->len);
        if (nl) {
            size_t l = (size_t)(nl - g->buf);
            if (l >= cap)
                l = cap - 1;
            memcpy(line, g->buf, l);
            line[l] = '\0';
            g->len -= (size_t)(nl + 1 - g->buf);
            memmove(g->buf, nl + 1, g->len);
            return;
        }
        if (g->len == sizeof g->buf)
            bench_fatal("netload: line too long");
        ssize_t r = read(g->out, g->buf + g->len, sizeof g->buf - g->len);
        if (r > 0)
            g->len += (size_t)r;
        else if (r == 0)
            bench_fatal("netload exited early");
        else if (errno == EAGAIN)
            poll_fd_wait_read(g->pout, 0);
        else if (errno != EINTR)
            bench_fatal("read netload: %s", strerror(errno));
    }
}

/* This process's thread count (/proc/self/status). */
static long thread_count(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long n = -1;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "Threads: %ld", &n) == 1)
            break;
    if (f)
        fclose(f);
    return n;
}

/* CPU time (user + system) of this process in nanoseconds. */
static int64_t cpu_ns(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ((int64_t)ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000 +
           ((int64_t)ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000;
}

/* n round trips over k connections, made by netload. */
static void echo_k(bench_b_t *b, int k)
{
    net_listener_t *l = net_listen("tcp4", "127.0.0.1:0");
    if (l == NULL)
        bench_fatal("listen: %s", strerror(errno));
    char where[64], line[256];
    net_listener_addr(l, where, sizeof where);
    go(acceptor, l);
    gen_t *g = gc_alloc(sizeof *g);
    gen_start(g, where, k, b->n);
    gen_line(g, line, sizeof line);
    if (strcmp(line, "connected") != 0)
        bench_fatal("netload said \"%s\"", line);
    bench_reset_timer(b);
    int64_t c0 = cpu_ns();
    if (write(g->in, "go\n", 3) != 3)
        bench_fatal("write netload: %s", strerror(errno));
    gen_line(g, line, sizeof line);
    int64_t cpu_server = cpu_ns() - c0;
    bench_stop_timer(b);
    long threads = thread_count();
    long long reqs, el, p50, p99, cpu;
    if (sscanf(line, "done %lld %lld %lld %lld %lld", &reqs, &el, &p50, &p99, &cpu) != 5)
        bench_fatal("netload said \"%s\"", line);
    bench_report_metric(b, el > 0 ? (double)reqs * 1e9 / (double)el : 0, "req/s");
    bench_report_metric(b, (double)p99, "p99-ns");
    bench_report_metric(b, (double)threads, "threads");
    bench_report_metric(b, (double)cpu / 10, "gen-cpu%");
    bench_report_metric(b, (double)cpu_server / (double)reqs, "cpu-ns/req");
    poll_fd_close(g->pout);
    close(g->out);
    close(g->in);
    runtime_entersyscallblock();
    waitpid(g->pid, NULL, 0);
    runtime_exitsyscall();
    net_listener_close(l);
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
