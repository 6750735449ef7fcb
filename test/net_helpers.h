/*
 * test/net_helpers.h -- shared pieces of the net tests that port Go's
 * net/conn_test.go, net/net_test.go and net/timeout_test.go: a loopback
 * pair, and operations run on their own goroutine whose result the test
 * waits for on a channel (with a bound, so a bug fails instead of hanging).
 */
#ifndef GORT_TEST_NET_HELPERS_H
#define GORT_TEST_NET_HELPERS_H

#include <netinet/in.h>
#include <sys/socket.h>

#include "helpers.h"

#define NT_SEC 1000000000LL
#define NT_MS  1000000LL

/* A deadline d nanoseconds in the past (0 means "none", so at least 1). */
static inline int64_t nt_ago(int64_t d)
{
    int64_t t = time_now() - d;
    return t > 0 ? t : 1;
}

/* Whether ::1 can be bound here. */
static inline bool have_ipv6(void)
{
    int s = socket(AF_INET6, SOCK_STREAM, 0);
    if (s < 0)
        return false;
    struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
    bool ok = bind(s, (struct sockaddr *)&a, sizeof a) == 0;
    close(s);
    return ok;
}

/* Reads exactly len bytes; false on an error or an early EOF. */
static inline bool nt_read_full(net_conn_t *c, char *buf, size_t len)
{
    for (size_t off = 0; off < len;) {
        ssize_t n = net_conn_read(c, buf + off, len - off);
        if (n <= 0)
            return false;
        off += (size_t)n;
    }
    return true;
}

/* A listener on network/addr and its address in where (64+ bytes). */
static inline net_listener_t *nt_listen(const char *network, const char *addr, char *where,
                                        size_t len)
{
    net_listener_t *l = net_listen(network, addr);
    GT_CHECK(l != NULL, "listen %s %s: %s", network, addr, strerror(errno));
    if (l != NULL)
        net_listener_addr(l, where, len);
    return l;
}

/* A connected tcp4 pair: returns the dialed end, *srv the accepted one. */
static inline net_conn_t *nt_pair(net_listener_t **lp, net_conn_t **srv)
{
    char where[64];
    net_listener_t *l = nt_listen("tcp4", "127.0.0.1:0", where, sizeof where);
    net_conn_t *c = l ? net_dial_timeout("tcp", where, 5 * NT_SEC) : NULL;
    GT_CHECK(c != NULL, "dial %s: %s", where, strerror(errno));
    *srv = c ? net_listener_accept(l) : NULL;
    GT_CHECK(*srv != NULL, "accept: %s", strerror(errno));
    *lp = l;
    return c;
}

/* Closes a pair made by nt_pair. */
static inline void nt_unpair(net_listener_t *l, net_conn_t *c, net_conn_t *s)
{
    if (c)
        net_conn_close(c);
    if (s)
        net_conn_close(s);
    if (l)
        net_listener_close(l);
}

typedef enum { NT_READ, NT_WRITE, NT_WRITE_ALL, NT_ACCEPT } nt_kind_t;

/* One operation run on its own goroutine. */
typedef struct {
    nt_kind_t kind;
    net_conn_t *c;
    net_listener_t *l;
    size_t len;
    ssize_t n;                 /* result; NT_WRITE_ALL: bytes written before the error */
    int err;                   /* errno when n < 0, else 0 */
    int64_t end;               /* time_now() when it returned */
    chan_t *done;              /* receives one int when it returned */
    char buf[256];
} nt_op_t;

/* Runs the operation: one call, or for NT_WRITE_ALL writes until an error. */
static inline void nt_op_run(void *arg)
{
    nt_op_t *op = arg;
    ssize_t n = 0;
    switch (op->kind) {
    case NT_READ:
        n = net_conn_read(op->c, op->buf, op->len);
        break;
    case NT_WRITE:
        n = net_conn_write(op->c, op->buf, op->len);
        break;
    case NT_WRITE_ALL:
        for (op->n = 0; (n = net_conn_write(op->c, op->buf, op->len)) >= 0;)
            op->n += n;
        break;
    case NT_ACCEPT:
        n = net_listener_accept(op->l) ? 0 : -1;
        break;
    }
    op->err = n < 0 ? errno : 0;
    if (op->kind != NT_WRITE_ALL)
        op->n = n;
    op->end = time_now();
    int one = 1;
    chan_send(op->done, &one);
}

/* Starts an operation of kind on c (or l) with len bytes. */
static inline nt_op_t *nt_start(nt_kind_t kind, net_conn_t *c, net_listener_t *l, size_t len)
{
    nt_op_t *op = gc_new(nt_op_t);
    op->kind = kind;
    GC_STORE(op->c, c);
    GC_STORE(op->l, l);
    op->len = len < sizeof op->buf ? len : sizeof op->buf;
    GC_STORE(op->done, chan_make(sizeof(int), 1));
    go(nt_op_run, op);
    return op;
}

/* Waits up to wait_ns for op to return; true if it did. */
static inline bool nt_wait(nt_op_t *op, int64_t wait_ns)
{
    int v;
    int64_t t;
    select_case_t cases[] = {
        {.c = op->done, .dir = SELECT_RECV, .elem = &v},
        {.c = time_after(wait_ns), .dir = SELECT_RECV, .elem = &t},
    };
    return chan_select(cases, 2, true) == 0;
}

#endif /* GORT_TEST_NET_HELPERS_H */
