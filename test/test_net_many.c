/*
 * test/test_net_many.c -- 10,000 connections held open by 10,000
 * goroutines parked in net_conn_read, at GOMAXPROCS 1 and 2, with fewer
 * than 20 threads in the process. The client side is a forked plain C
 * process (blocking sockets), so each process needs only 10,000
 * descriptors; the test skips if the hard RLIMIT_NOFILE is lower.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include "helpers.h"

#define NCONN 10000
#define SEC   1000000000LL

static int p2c[2], c2p[2];     /* parent -> child, child -> parent */
static int procs;
static _Atomic int accepted, echoed;
static sync_waitgroup_t wg;

/* Raises the soft descriptor limit; false if the hard one is too low. */
static bool enough_fds(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_max < NCONN + 200)
        return false;
    rl.rlim_cur = rl.rlim_max;
    return setrlimit(RLIMIT_NOFILE, &rl) == 0;
}

/* The client: NCONN blocking connections, then one echo on each. */
static int client(void)
{
    static int fds[NCONN];
    uint16_t port;
    if (read(p2c[0], &port, sizeof port) != sizeof port)
        return 10;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    for (int i = 0; i < NCONN; i++) {
        fds[i] = socket(AF_INET, SOCK_STREAM, 0);
        if (fds[i] < 0 || connect(fds[i], (struct sockaddr *)&a, sizeof a) != 0)
            return 11;
    }
    char go_ = 0;
    if (write(c2p[1], "c", 1) != 1 || read(p2c[0], &go_, 1) != 1)
        return 12;
    for (int i = 0; i < NCONN; i++) {
        char b = (char)i, r = 0;
        if (write(fds[i], &b, 1) != 1 || read(fds[i], &r, 1) != 1 || r != b)
            return 13;
    }
    for (int i = 0; i < NCONN; i++)
        close(fds[i]);
    return 0;
}

/* Echoes one byte, then waits for EOF. */
static void serve(void *arg)
{
    net_conn_t *c = arg;
    char b;
    net_conn_set_deadline(c, time_now() + 120 * SEC);
    if (net_conn_read(c, &b, 1) == 1 && net_conn_write(c, &b, 1) == 1)
        atomic_fetch_add(&echoed, 1);
    while (net_conn_read(c, &b, 1) > 0) {}
    net_conn_close(c);
    sync_waitgroup_done(&wg);
}

/* Accepts NCONN connections, a goroutine each. */
static void acceptor(void *arg)
{
    net_listener_t *l = arg;
    for (int i = 0; i < NCONN; i++) {
        net_conn_t *c = net_listener_accept(l);
        GT_CHECK(c != NULL, "accept %d: %s", i, strerror(errno));
        if (c == NULL)
            break;
        sync_waitgroup_add(&wg, 1);
        atomic_fetch_add(&accepted, 1);
        go(serve, c);
    }
    sync_waitgroup_done(&wg);
}

/* The Threads: line of /proc/self/status. */
static int threads(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    int n = -1;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "Threads: %d", &n) == 1)
            break;
    if (f)
        fclose(f);
    return n;
}

static int main_many(int argc, char **argv)
{
    runtime_gomaxprocs(procs);
    net_listener_t *l = net_listen("tcp4", "127.0.0.1:0");
    GT_CHECK(l != NULL);
    char where[64];
    net_listener_addr(l, where, sizeof where);
    uint16_t port = (uint16_t)atoi(strrchr(where, ':') + 1);
    sync_waitgroup_add(&wg, 1);
    go(acceptor, l);
    GT_CHECK(write(p2c[1], &port, sizeof port) == sizeof port);
    /* The client says it connected all; then every goroutine gets parked. */
    poll_fd_t *pc = poll_fd_open(c2p[0]);
    char b;
    GT_CHECK(poll_fd_wait_read(pc, time_now() + 60 * SEC) == 0);
    GT_CHECK(read(c2p[0], &b, 1) == 1);
    int64_t end = time_now() + 60 * SEC;
    while (atomic_load(&accepted) < NCONN && time_now() < end)
        time_sleep(1000000);
    GT_CHECK(atomic_load(&accepted) == NCONN, "accepted %d", atomic_load(&accepted));
    while (runtime_num_goroutine() > 1 + NCONN && time_now() < end)
        time_sleep(1000000);
    int nt = threads();
    GT_CHECK(nt > 0 && nt < 20, "%d threads for %d connections at GOMAXPROCS %d",
             nt, NCONN, procs);
    GT_CHECK(write(p2c[1], "g", 1) == 1);
    sync_waitgroup_wait(&wg);
    GT_CHECK(atomic_load(&echoed) == NCONN, "echoed %d", atomic_load(&echoed));
    poll_fd_close(pc);
    net_listener_close(l);
    return 0;
}

/* Runs the server under the runtime and the client in a child. */
static void run_many(int p)
{
    if (!enough_fds())
        cr_skip_test("RLIMIT_NOFILE hard limit below %d", NCONN + 200);
    procs = p;
    cr_assert(pipe(p2c) == 0 && pipe(c2p) == 0);
    fflush(NULL);
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0)
        _exit(client());
    gt_run(main_many);
    int st;
    cr_assert(waitpid(pid, &st, 0) == pid);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "client status %d", st);
}

#define SKIP_TSAN_FIBERS()                                                      \
    GT_SKIP_UNDER("thread", "TSan counts each live goroutine as a thread, at most "   \
                  "8128 at once, and this test keeps 10,000 connections' goroutines")
Test(net_many, conns_10000_procs1, .timeout = 120) { SKIP_TSAN_FIBERS(); run_many(1); }
Test(net_many, conns_10000_procs2, .timeout = 120) { SKIP_TSAN_FIBERS(); run_many(2); }
