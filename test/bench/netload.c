/*
 * test/bench/netload.c -- the echo load generator: one plain C program
 * (no gort) that both the gort echo benchmark (bench_net.c) and its Go
 * twin (go/net_test.go) start against their own server, so both are
 * driven by the same client code with the same settings.
 *
 *     netload ADDR CONNS REQUESTS
 *
 * Opens CONNS TCP connections to ADDR (host:port, IPv4), prints
 * "connected" and waits for a line on stdin; then sends REQUESTS 64-byte
 * messages in all, at most one outstanding per connection (closed loop:
 * a connection sends its next message when the whole echo came back),
 * and prints one line:
 *
 *     done REQUESTS ELAPSED_NS P50_NS P99_NS CPU_PERMILLE
 *
 * P50/P99 are the round-trip latencies (send to the last byte of the
 * echo); CPU_PERMILLE is this program's own CPU time over the elapsed
 * time, in thousandths of one core (near 1000: the generator itself is
 * saturated). One thread, level-triggered epoll, TCP_NODELAY; with one
 * connection, blocking send and recv instead of epoll.
 * NETLOAD_VERBOSE=1 also prints more percentiles on stderr.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define MSG    64
#define EVENTS 256

typedef struct {
    int fd;
    int got;                       /* bytes of the echo received */
    int64_t sent;                  /* when the outstanding message went */
} conn_t;

/* Prints a message and exits 1. */
static void die(const char *what)
{
    fprintf(stderr, "netload: %s: %s\n", what, strerror(errno));
    exit(1);
}

/* The monotonic clock in nanoseconds. */
static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* CPU time (user + system) of this process in nanoseconds. */
static int64_t cpu_ns(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ((int64_t)ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000 +
           ((int64_t)ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000;
}

/* Parses "a.b.c.d:port" into sa. */
static void parse_addr(const char *s, struct sockaddr_in *sa)
{
    char host[64];
    const char *colon = strrchr(s, ':');
    if (colon == NULL || (size_t)(colon - s) >= sizeof host) {
        fprintf(stderr, "netload: bad address %s\n", s);
        exit(1);
    }
    memcpy(host, s, (size_t)(colon - s));
    host[colon - s] = '\0';
    memset(sa, 0, sizeof *sa);
    sa->sin_family = AF_INET;
    sa->sin_port = htons((uint16_t)atoi(colon + 1));
    if (inet_pton(AF_INET, host, &sa->sin_addr) != 1) {
        fprintf(stderr, "netload: bad address %s\n", s);
        exit(1);
    }
}

/* Opens one connection (blocking connect), then makes it non-blocking. */
static int dial(const struct sockaddr_in *sa)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        die("socket");
    if (connect(fd, (const struct sockaddr *)sa, sizeof *sa) != 0)
        die("connect");
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) != 0)
        die("nonblock");
    return fd;
}

static char msg[MSG];              /* the message: MSG bytes of 'm' */

/* Sends one whole message (the socket buffer is empty: it fits at once;
 * on EAGAIN, waits with poll). */
static void send_msg(conn_t *c)
{
    c->got = 0;
    c->sent = now_ns();
    for (size_t off = 0; off < MSG;) {
        ssize_t n = send(c->fd, msg + off, MSG - off, MSG_NOSIGNAL);
        if (n > 0) {
            off += (size_t)n;
        } else if (n < 0 && errno == EAGAIN) {
            struct pollfd pf = {.fd = c->fd, .events = POLLOUT};
            poll(&pf, 1, 1000);
        } else if (n < 0 && errno != EINTR) {
            die("send");
        }
    }
}

/* Orders latencies for the percentiles. */
static int cmp64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Raises the soft descriptor limit to the hard one. */
static void raise_nofile(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

/* Reads what came on c; true when its whole echo is in. */
static int read_echo(conn_t *c)
{
    char buf[MSG];
    for (;;) {
        ssize_t n = read(c->fd, buf, (size_t)(MSG - c->got));
        if (n > 0) {
            c->got += (int)n;
            if (c->got == MSG)
                return 1;
            continue;
        }
        if (n == 0)
            die("server closed");   /* errno is stale here; the message says it */
        if (errno == EAGAIN)
            return 0;
        if (errno != EINTR)
            die("read");
    }
}

/* The closed loop over one connection: the socket made blocking, one
 * recv that waits for the whole echo instead of an epoll_wait and a
 * read (two system calls a round trip instead of three). */
static void run_one(conn_t *c, int64_t total, int64_t *lat)
{
    char buf[MSG];
    struct timeval tv = {.tv_sec = 10};
    if (fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) & ~O_NONBLOCK) != 0 ||
        setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) != 0)
        die("blocking");
    for (int64_t done = 0; done < total; done++) {
        send_msg(c);
        while (c->got < MSG) {
            ssize_t n = recv(c->fd, buf, (size_t)(MSG - c->got), MSG_WAITALL);
            if (n > 0) {
                c->got += (int)n;
            } else if (n == 0) {
                die("server closed");
            } else if (errno == EAGAIN) {
                fprintf(stderr, "netload: no echo for 10 s (%lld of %lld done)\n",
                        (long long)done, (long long)total);
                exit(1);
            } else if (errno != EINTR) {
                die("recv");
            }
        }
        lat[done] = now_ns() - c->sent;
    }
}

/* Runs the closed loop until every request came back; fills lat. */
static void run(conn_t *cs, int k, int64_t total, int64_t *lat)
{
    if (k == 1) {
        run_one(cs, total, lat);
        return;
    }
    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0)
        die("epoll_create1");
    int64_t issued = 0, done = 0;
    for (int i = 0; i < k; i++) {
        struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
        if (epoll_ctl(ep, EPOLL_CTL_ADD, cs[i].fd, &ev) != 0)
            die("epoll_ctl");
    }
    for (int i = 0; i < k && issued < total; i++, issued++)
        send_msg(&cs[i]);
    struct epoll_event ev[EVENTS];
    while (done < total) {
        int n = epoll_wait(ep, ev, EVENTS, 10000);
        if (n == 0) {
            fprintf(stderr, "netload: no echo for 10 s (%lld of %lld done)\n", (long long)done,
                    (long long)total);
            exit(1);
        }
        for (int j = 0; j < n; j++) {
            conn_t *c = &cs[ev[j].data.u32];
            if (!read_echo(c))
                continue;
            lat[done++] = now_ns() - c->sent;
            if (issued < total) {
                issued++;
                send_msg(c);
            }
        }
    }
    close(ep);
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: netload ADDR CONNS REQUESTS\n");
        return 2;
    }
    struct sockaddr_in sa;
    parse_addr(argv[1], &sa);
    int k = atoi(argv[2]);
    int64_t total = atoll(argv[3]);
    if (k < 1 || total < 1) {
        fprintf(stderr, "netload: CONNS and REQUESTS must be positive\n");
        return 2;
    }
    raise_nofile();
    memset(msg, 'm', sizeof msg);
    conn_t *cs = calloc((size_t)k, sizeof *cs);
    int64_t *lat = malloc((size_t)total * sizeof *lat);
    if (cs == NULL || lat == NULL)
        die("malloc");
    for (int i = 0; i < k; i++)
        cs[i].fd = dial(&sa);
    printf("connected\n");
    fflush(stdout);
    char line[16];
    if (fgets(line, sizeof line, stdin) == NULL)
        return 1;
    int64_t c0 = cpu_ns(), t0 = now_ns();
    run(cs, k, total, lat);
    int64_t el = now_ns() - t0, cpu = cpu_ns() - c0;
    qsort(lat, (size_t)total, sizeof *lat, cmp64);
    printf("done %lld %lld %lld %lld %lld\n", (long long)total, (long long)el,
           (long long)lat[total / 2], (long long)lat[total - 1 - total / 100],
           (long long)(el > 0 ? cpu * 1000 / el : 0));
    fflush(stdout);
    if (getenv("NETLOAD_VERBOSE"))
        fprintf(stderr, "netload: p50 %lld p90 %lld p99 %lld p99.9 %lld max %lld ns\n",
                (long long)lat[total / 2], (long long)lat[total * 9 / 10],
                (long long)lat[total - 1 - total / 100], (long long)lat[total - 1 - total / 1000],
                (long long)lat[total - 1]);
    for (int i = 0; i < k; i++)
        close(cs[i].fd);
    return 0;
}
