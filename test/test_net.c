/*
 * test/test_net.c -- the net package and the poller: echo round trips
 * over tcp4, tcp6 and unix, deadlines, close from another goroutine,
 * half-close, resets, EPIPE, poll_fd on a pipe, and no false deadlock for
 * a server blocked in accept. Loopback only; every wait has a deadline.
 */
#include <fcntl.h>
#include <pthread.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "net_helpers.h"

#define SEC 1000000000LL
#define MS  1000000LL

/* Waits (yielding) until *flag is set or 5 s pass; false on timeout. */
static bool wait_flag(_Atomic int *flag)
{
    int64_t end = time_now() + 5 * SEC;
    while (!atomic_load(flag) && time_now() < end)
        time_sleep(MS / 10);
    return atomic_load(flag) != 0;
}

/* Serves one connection: echoes until EOF. */
static void echo_conn(void *arg)
{
    net_conn_t *c = arg;
    char buf[4096];
    net_conn_set_deadline(c, time_now() + 10 * SEC);
    for (;;) {
        ssize_t n = net_conn_read(c, buf, sizeof buf);
        if (n <= 0)
            break;
        if (net_conn_write(c, buf, (size_t)n) != n)
            break;
    }
    net_conn_close(c);
}

/* Accepts until the listener is closed, one echo goroutine each. */
static void echo_server(void *arg)
{
    net_listener_t *l = arg;
    net_conn_t *c;
    while ((c = net_listener_accept(l)) != NULL)
        go(echo_conn, c);
}

typedef struct {
    net_conn_t *c;
    const char *buf;
    size_t len;
    ssize_t n;
    _Atomic int done;
} writer_t;

/* Writes w->buf whole. */
static void writer(void *arg)
{
    writer_t *w = arg;
    w->n = net_conn_write(w->c, w->buf, w->len);
    atomic_store(&w->done, 1);
}

/* Echo round trips of several sizes against a listener on network/addr. */
static void echo_roundtrips(const char *network, const char *addr)
{
    net_listener_t *l = net_listen(network, addr);
    GT_CHECK(l != NULL, "listen %s %s: %s", network, addr, strerror(errno));
    if (l == NULL)
        return;
    char where[256];
    GT_CHECK(net_listener_addr(l, where, sizeof where) > 0);
    go(echo_server, l);
    net_conn_t *c = net_dial(network, where);
    GT_CHECK(c != NULL, "dial %s: %s", where, strerror(errno));
    if (c) {
        net_conn_set_deadline(c, time_now() + 10 * SEC);
        static char out[1 << 20], in[1 << 20];
        for (size_t i = 0; i < sizeof out; i++)
            out[i] = (char)(i * 7 + 3);
        size_t sizes[] = {1, 64, 1000, 65536, sizeof out};
        for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) {
            /* A writer goroutine: a large echo needs both sides moving. */
            static writer_t w;
            w.c = c;
            w.buf = out;
            w.len = sizes[k];
            atomic_store(&w.done, 0);
            go(writer, &w);
            GT_CHECK(nt_read_full(c, in, sizes[k]), "size %zu: %s", sizes[k], strerror(errno));
            GT_CHECK(memcmp(in, out, sizes[k]) == 0);
            GT_CHECK(wait_flag(&w.done) && w.n == (ssize_t)sizes[k]);
        }
        char la[256], ra[256];
        net_conn_local_addr(c, la, sizeof la);
        net_conn_remote_addr(c, ra, sizeof ra);
        if (strcmp(network, "unix") != 0)
            GT_CHECK(strcmp(ra, where) == 0, "remote %s listener %s", ra, where);
        GT_CHECK(net_conn_fd(c) >= 0);
        GT_CHECK(net_conn_close(c) == 0);
        GT_CHECK(net_conn_close(c) == -1 && errno == EBADF);
    }
    GT_CHECK(net_listener_close(l) == 0);
}

static int main_tcp4(int argc, char **argv)
{
    echo_roundtrips("tcp4", "127.0.0.1:0");
    echo_roundtrips("tcp", "127.0.0.1:0");
    return 0;
}
Test(net, echo_tcp4) { gt_run(main_tcp4); }

static int main_tcp6(int argc, char **argv)
{
    echo_roundtrips("tcp6", "[::1]:0");
    echo_roundtrips("tcp", "[::1]:0");
    return 0;
}
Test(net, echo_tcp6)
{
    if (!have_ipv6())
        cr_skip_test("::1 is not available");
    gt_run(main_tcp6);
}

static char sockdir[64];

static int main_unix(int argc, char **argv)
{
    char path[128];
    snprintf(path, sizeof path, "%s/echo.sock", sockdir);
    echo_roundtrips("unix", path);
    GT_CHECK(access(path, F_OK) != 0, "listener close unlinks the socket file");
    return 0;
}
Test(net, echo_unix)
{
    strcpy(sockdir, "/tmp/gort-net-XXXXXX");
    cr_assert(mkdtemp(sockdir) != NULL);
    gt_run(main_unix);
    rmdir(sockdir);
}

/* A connected pair over loopback: *srv accepted, returned dialed. */
static net_conn_t *pair(net_listener_t **lp, net_conn_t **srv)
{
    net_listener_t *l = net_listen("tcp4", "127.0.0.1:0");
    GT_CHECK(l != NULL);
    char where[64];
    net_listener_addr(l, where, sizeof where);
    net_conn_t *c = net_dial_timeout("tcp", where, 5 * SEC);
    GT_CHECK(c != NULL, "dial: %s", strerror(errno));
    *srv = net_listener_accept(l);
    GT_CHECK(*srv != NULL);
    *lp = l;
    return c;
}

static int main_read_deadline(int argc, char **argv)
{
    net_listener_t *l;
    net_conn_t *s, *c = pair(&l, &s);
    char b;
    /* A read with no data ends with ETIMEDOUT near its deadline. */
    int64_t t0 = time_now();
    net_conn_set_read_deadline(c, t0 + 50 * MS);
    GT_CHECK(net_conn_read(c, &b, 1) == -1 && errno == ETIMEDOUT, "errno %d", errno);
    int64_t el = time_now() - t0;
    GT_CHECK(el >= 50 * MS && el < 2 * SEC, "took %lld ns", (long long)el);
    /* A deadline in the past fails at once, and again. */
    net_conn_set_read_deadline(c, time_now() - 1);
    GT_CHECK(net_conn_read(c, &b, 1) == -1 && errno == ETIMEDOUT);
    /* Cleared: data is read again. */
    net_conn_set_read_deadline(c, 0);
    GT_CHECK(net_conn_write(s, "x", 1) == 1);
    GT_CHECK(net_conn_read(c, &b, 1) == 1 && b == 'x');
    net_conn_close(c);
    net_conn_close(s);
    net_listener_close(l);
    return 0;
}
Test(net, read_deadline) { gt_run(main_read_deadline); }

typedef struct {
    net_conn_t *c;
    _Atomic int started, done;
    int err;
    int64_t when;
} reader_t;

/* Reads one byte, recording the error and when it returned. */
static void blocked_reader(void *arg)
{
    reader_t *r = arg;
    char b;
    atomic_store(&r->started, 1);
    ssize_t n = net_conn_read(r->c, &b, 1);
    r->err = n < 0 ? errno : 0;
    r->when = time_now();
    atomic_store(&r->done, 1);
}

static int main_deadline_earlier(int argc, char **argv)
{
    net_listener_t *l;
    net_conn_t *s, *c = pair(&l, &s);
    static reader_t r;
    r.c = c;
    net_conn_set_read_deadline(c, time_now() + 60 * SEC);
    go(blocked_reader, &r);
    GT_CHECK(wait_flag(&r.started));
    time_sleep(20 * MS);   /* let it park: correctness does not depend on it */
    int64_t t0 = time_now();
    net_conn_set_read_deadline(c, t0 + 30 * MS);
    GT_CHECK(wait_flag(&r.done), "reader not woken by the earlier deadline");
    GT_CHECK(r.err == ETIMEDOUT, "err %d", r.err);
    GT_CHECK(r.when - t0 >= 30 * MS - MS && r.when - t0 < 3 * SEC);
    /* Moved into the past while parked: wakes at once. */
    atomic_store(&r.done, 0);
    atomic_store(&r.started, 0);
    net_conn_set_read_deadline(c, 0);
    go(blocked_reader, &r);
    GT_CHECK(wait_flag(&r.started));
    time_sleep(10 * MS);
    net_conn_set_read_deadline(c, 1);
    GT_CHECK(wait_flag(&r.done));
    GT_CHECK(r.err == ETIMEDOUT);
    net_conn_close(c);
    net_conn_close(s);
    net_listener_close(l);
    return 0;
}
Test(net, deadline_moved_earlier) { gt_run(main_deadline_earlier); }

static int main_write_deadline(int argc, char **argv)
{
    net_listener_t *l;
    net_conn_t *s, *c = pair(&l, &s);
    /* Nobody reads: the socket buffers fill and the write times out. */
    static char big[1 << 20];
    net_conn_set_write_deadline(c, time_now() + 100 * MS);
    ssize_t n = 0;
    for (int i = 0; i < 256 && n >= 0; i++)
        n = net_conn_write(c, big, sizeof big);
    GT_CHECK(n == -1 && errno == ETIMEDOUT, "n %zd errno %d", n, errno);
    net_conn_close(c);
    net_conn_close(s);
    net_listener_close(l);
    return 0;
}
Test(net, write_deadline) { gt_run(main_write_deadline); }

typedef struct {
    net_listener_t *l;
    _Atomic int started, done;
    int err;
} accepter_t;

/* Accepts once, recording the error. */
static void blocked_accepter(void *arg)
{
    accepter_t *a = arg;
    atomic_store(&a->started, 1);
    net_conn_t *c = net_listener_accept(a->l);
    a->err = c ? 0 : errno;
    atomic_store(&a->done, 1);
}

static int main_close_wakes(int argc, char **argv)
{
    net_listener_t *l;
    net_conn_t *s, *c = pair(&l, &s);
    static reader_t r;
    r.c = c;
    go(blocked_reader, &r);
    GT_CHECK(wait_flag(&r.started));
    time_sleep(10 * MS);
    GT_CHECK(net_conn_close(c) == 0);
    GT_CHECK(wait_flag(&r.done), "close did not wake the reader");
    GT_CHECK(r.err == EBADF, "err %d", r.err);
    GT_CHECK(net_conn_read(c, NULL, 0) == -1 && errno == EBADF);
    GT_CHECK(net_conn_write(c, "x", 1) == -1 && errno == EBADF);
    static accepter_t a;
    a.l = l;
    go(blocked_accepter, &a);
    GT_CHECK(wait_flag(&a.started));
    time_sleep(10 * MS);
    GT_CHECK(net_listener_close(l) == 0);
    GT_CHECK(wait_flag(&a.done), "close did not wake the accepter");
    GT_CHECK(a.err == EBADF, "err %d", a.err);
    GT_CHECK(net_listener_accept(l) == NULL && errno == EBADF);
    net_conn_close(s);
    return 0;
}
Test(net, close_wakes_waiters) { gt_run(main_close_wakes); }

static int main_half_close(int argc, char **argv)
{
    net_listener_t *l;
    net_conn_t *s, *c = pair(&l, &s);
    net_conn_set_deadline(c, time_now() + 5 * SEC);
    net_conn_set_deadline(s, time_now() + 5 * SEC);
    GT_CHECK(net_conn_write(c, "hello", 5) == 5);
    GT_CHECK(net_conn_close_write(c) == 0);
    char buf[16];
    GT_CHECK(nt_read_full(s, buf, 5) && memcmp(buf, "hello", 5) == 0);
    GT_CHECK(net_conn_read(s, buf, sizeof buf) == 0, "EOF after the peer's half-close");
    /* The other direction still works. */
    GT_CHECK(net_conn_write(s, "back", 4) == 4);
    GT_CHECK(nt_read_full(c, buf, 4) && memcmp(buf, "back", 4) == 0);
    GT_CHECK(net_conn_write(c, "x", 1) == -1 && errno == EPIPE);
    net_conn_close(c);
    net_conn_close(s);
    net_listener_close(l);
    return 0;
}
Test(net, half_close) { gt_run(main_half_close); }

static int main_reset(int argc, char **argv)
{
    net_listener_t *l;
    net_conn_t *s, *c = pair(&l, &s);
    struct linger lg = {1, 0};
    setsockopt(net_conn_fd(s), SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    net_conn_close(s);
    net_conn_set_deadline(c, time_now() + 5 * SEC);
    char b;
    GT_CHECK(net_conn_read(c, &b, 1) == -1 && errno == ECONNRESET, "errno %d", errno);
    net_conn_close(c);
    net_listener_close(l);
    return 0;
}
Test(net, peer_reset) { gt_run(main_reset); }

static int main_epipe(int argc, char **argv)
{
    net_listener_t *l;
    net_conn_t *s, *c = pair(&l, &s);
    net_conn_close(s);
    net_conn_set_deadline(c, time_now() + 5 * SEC);
    static char buf[65536];
    ssize_t n = 0;
    int err = 0;
    for (int i = 0; i < 1000 && n >= 0; i++) {
        n = net_conn_write(c, buf, sizeof buf);
        err = errno;
        time_sleep(MS);
    }
    GT_CHECK(n == -1 && (err == EPIPE || err == ECONNRESET), "n %zd errno %d", n, err);
    /* A raw write on the socket: SIGPIPE is ignored, the process lives. */
    GT_CHECK(write(net_conn_fd(c), buf, 1) == -1);
    net_conn_close(c);
    net_listener_close(l);
    return 0;
}
Test(net, epipe_survives) { gt_run(main_epipe); }

typedef struct {
    poll_fd_t *pd;
    int fd;
    _Atomic int started, done;
    int rc, err;
} pipewait_t;

/* Waits for the pipe to be readable. */
static void pipe_waiter(void *arg)
{
    pipewait_t *w = arg;
    atomic_store(&w->started, 1);
    w->rc = poll_fd_wait_read(w->pd, time_now() + 10 * SEC);
    w->err = errno;
    atomic_store(&w->done, 1);
}

static int main_poll_pipe(int argc, char **argv)
{
    int p[2];
    GT_CHECK(pipe(p) == 0);
    poll_fd_t *pr = poll_fd_open(p[0]);
    poll_fd_t *pw = poll_fd_open(p[1]);
    GT_CHECK(pr && pw);
    GT_CHECK(fcntl(p[0], F_GETFL) & O_NONBLOCK);
    GT_CHECK(poll_fd_wait_write(pw, time_now() + SEC) == 0);
    int64_t t0 = time_now();
    GT_CHECK(poll_fd_wait_read(pr, t0 + 30 * MS) == -1 && errno == ETIMEDOUT);
    GT_CHECK(time_now() - t0 >= 29 * MS);
    static pipewait_t w;
    w.pd = pr;
    go(pipe_waiter, &w);
    GT_CHECK(wait_flag(&w.started));
    time_sleep(10 * MS);
    GT_CHECK(write(p[1], "z", 1) == 1);
    GT_CHECK(wait_flag(&w.done));
    GT_CHECK(w.rc == 0);
    char b;
    GT_CHECK(read(p[0], &b, 1) == 1 && b == 'z');
    /* poll_fd_close wakes a waiter with EBADF and leaves fd open. */
    atomic_store(&w.started, 0);
    atomic_store(&w.done, 0);
    go(pipe_waiter, &w);
    GT_CHECK(wait_flag(&w.started));
    time_sleep(10 * MS);
    GT_CHECK(poll_fd_close(pr) == 0);
    GT_CHECK(wait_flag(&w.done));
    GT_CHECK(w.rc == -1 && w.err == EBADF, "rc %d err %d", w.rc, w.err);
    GT_CHECK(poll_fd_wait_read(pr, 0) == -1 && errno == EBADF);
    GT_CHECK(poll_fd_close(pr) == -1 && errno == EBADF);
    GT_CHECK(fcntl(p[0], F_GETFD) >= 0, "poll_fd_close does not close the fd");
    poll_fd_close(pw);
    close(p[0]);
    close(p[1]);
    return 0;
}
Test(net, poll_fd_pipe) { gt_run(main_poll_pipe); }

static int main_errors(int argc, char **argv)
{
    GT_CHECK(net_listen("udp", "127.0.0.1:0") == NULL);
    GT_CHECK(net_listen("tcp", "127.0.0.1") == NULL && errno == EINVAL);
    GT_CHECK(net_listen("tcp", "::1:80") == NULL && errno == EINVAL);
    net_listener_t *l = net_listen("tcp4", "127.0.0.1:0");
    char where[64];
    net_listener_addr(l, where, sizeof where);
    /* Truncation as snprintf. */
    char small[5];
    GT_CHECK(net_listener_addr(l, small, sizeof small) == strlen(where));
    GT_CHECK(strlen(small) == 4);
    net_listener_close(l);
    /* Nobody listens there any more. */
    GT_CHECK(net_dial("tcp4", where) == NULL && errno == ECONNREFUSED, "errno %d", errno);
    /* A name, resolved off the P. */
    l = net_listen("tcp4", "localhost:0");
    GT_CHECK(l != NULL, "listen localhost: %s", strerror(errno));
    if (l) {
        net_listener_addr(l, where, sizeof where);
        GT_CHECK(strncmp(where, "127.", 4) == 0, "%s", where);
        char *port = strrchr(where, ':');
        char name[64];
        snprintf(name, sizeof name, "localhost%s", port);
        net_conn_t *c = net_dial("tcp4", name);
        GT_CHECK(c != NULL, "dial %s: %s", name, strerror(errno));
        if (c)
            net_conn_close(c);
        net_listener_close(l);
    }
    return 0;
}
Test(net, errors_and_names) { gt_run(main_errors); }

/* Ends the process from a plain thread after 300 ms: the runtime sees no
 * goroutine, timer or system call that could wake main meanwhile. */
static void *ender(void *arg)
{
    (void)arg;
    gt_usleep_full(300000);
    fflush(NULL);
    _exit(7);
}

static int main_accept_forever(int argc, char **argv)
{
    net_listener_t *l = net_listen("tcp4", "127.0.0.1:0");
    if (l == NULL)
        return 3;
    pthread_t t;
    pthread_create(&t, NULL, ender, NULL);
    net_listener_accept(l);
    return 4;
}
Test(net, accept_is_not_deadlock)
{
    gt_result_t *r = malloc(sizeof *r);
    gt_child(r, main_accept_forever, NULL, 15000);
    cr_assert_eq(r->status, 7, "exit status %d; output:\n%s", r->status, r->out);
    cr_assert_null(strstr(r->out, "deadlock"), "false deadlock:\n%s", r->out);
    free(r);
}

/* A goroutine parked in accept shows "IO wait" in the goroutine dump. */
static void park_in_accept(void *arg)
{
    net_listener_accept(arg);
}

static int main_waitreason(int argc, char **argv)
{
    net_listener_t *l = net_listen("tcp4", "127.0.0.1:0");
    go(park_in_accept, l);
    static char buf[1 << 16];
    bool seen = false;
    for (int i = 0; i < 500 && !seen; i++) {
        time_sleep(MS);
        runtime_stack(buf, sizeof buf, true);
        seen = strstr(buf, "[IO wait") != NULL;
    }
    GT_CHECK(seen, "no IO wait goroutine in:\n%s", buf);
    net_listener_close(l);
    return 0;
}
Test(net, io_wait_reason) { gt_run(main_waitreason); }
