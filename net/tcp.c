/*
 * net/tcp.c -- listeners and connections (TCP over IPv4/IPv6, Unix
 * stream sockets): net_listen, net_listener_*, net_dial*, net_conn_*.
 *
 * Owns: socket set-up as Go does it (SOCK_NONBLOCK|SOCK_CLOEXEC,
 * SO_REUSEADDR on TCP listeners, IPV6_V6ONLY off for "tcp" on the
 * wildcard, TCP_NODELAY on connections, the kernel's somaxconn backlog),
 * the GC objects and their finalizers, unlinking a Unix listener's file.
 *
 * May call: net/fd.c, net/addr.c, gc_alloc_noscan, runtime_set_finalizer.
 *
 * Context: G. Every public function sets errno last, right before it
 * returns -1 or NULL.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/un.h>
#include <unistd.h>

#include "internal.h"

/* listen(2)'s backlog: the kernel's somaxconn, as Go reads it. */
static int backlog(void)
{
    static _Atomic int cached;
    int n = atomic_load(&cached);
    if (n)
        return n;
    n = SOMAXCONN;
    FILE *f = fopen("/proc/sys/net/core/somaxconn", "r");
    if (f) {
        if (fscanf(f, "%d", &n) != 1 || n <= 0)
            n = SOMAXCONN;
        fclose(f);
    }
    if (n > 65535)
        n = 65535;
    atomic_store(&cached, n);
    return n;
}

/* A non-blocking, close-on-exec stream socket of a's family, or -1. */
static int new_socket(const net__addr_t *a, int *err)
{
    int s = socket(a->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s < 0)
        *err = errno;
    return s;
}

/* Binds and listens on a; the listening socket, or -1. */
static int listen_on(const net__addr_t *a, bool v6only, int *err)
{
    int s = new_socket(a, err);
    if (s < 0)
        return -1;
    int one = 1, v6 = v6only;
    if (a->ss.ss_family != AF_UNIX)
        setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (a->ss.ss_family == AF_INET6)
        setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &v6, sizeof v6);
    if (bind(s, (const struct sockaddr *)&a->ss, a->len) < 0 || listen(s, backlog()) < 0) {
        *err = errno;
        close(s);
        return -1;
    }
    return s;
}

/* The wildcard of "tcp" is dual-stack [::]; without IPv6, 0.0.0.0. */
static void ipv4_wildcard(net__addr_t *a)
{
    uint16_t port = ((struct sockaddr_in6 *)&a->ss)->sin6_port;
    struct sockaddr_in *s4 = (struct sockaddr_in *)&a->ss;
    memset(&a->ss, 0, sizeof a->ss);
    s4->sin_family = AF_INET;
    s4->sin_port = port;
    a->len = sizeof *s4;
}

/* Picks the address a listener binds: the first IPv4 one of a name's. */
static int pick_listen(const net__addr_t *as, int n)
{
    for (int i = 0; i < n; i++)
        if (as[i].ss.ss_family == AF_INET)
            return i;
    return 0;
}

net_listener_t *net_listen(const char *network, const char *address)
{
    net__addr_t as[NET_MAXADDRS];
    int err = 0;
    int n = net__resolve(network, address, true, as, &err);
    if (n < 0) {
        errno = err;
        return NULL;
    }
    net__addr_t a = as[pick_listen(as, n)];
    bool v6only = strcmp(network, "tcp6") == 0;
    int s = listen_on(&a, v6only, &err);
    if (s < 0 && err == EAFNOSUPPORT && a.ss.ss_family == AF_INET6 &&
        strcmp(network, "tcp") == 0 && IN6_IS_ADDR_UNSPECIFIED(&((struct sockaddr_in6 *)&a.ss)->sin6_addr)) {
        ipv4_wildcard(&a);
        s = listen_on(&a, false, &err);
    }
    if (s < 0) {
        errno = err;
        return NULL;
    }
    net_listener_t *l = gc_alloc_noscan(sizeof *l);
    l->laddr.len = sizeof l->laddr.ss;
    getsockname(s, (struct sockaddr *)&l->laddr.ss, &l->laddr.len);
    if (a.ss.ss_family == AF_UNIX) {
        l->laddr = a;   /* the path as given */
        l->unlink = ((struct sockaddr_un *)&a.ss)->sun_path[0] != '\0';
    }
    if (net__fd_init(&l->fd, s, a.ss.ss_family, false, &err) < 0) {
        close(s);
        errno = err;
        return NULL;
    }
    runtime_set_finalizer(l, net__fd_finalize);
    return l;
}

/* Wraps a connected socket as a connection object (closing s on error). */
static net_conn_t *new_conn(int s, int family, const net__addr_t *ra, int *err)
{
    net_conn_t *c = gc_alloc_noscan(sizeof *c);
    if (family != AF_UNIX) {
        int one = 1;
        setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    c->laddr.len = sizeof c->laddr.ss;
    getsockname(s, (struct sockaddr *)&c->laddr.ss, &c->laddr.len);
    if (ra)
        c->raddr = *ra;
    if (net__fd_init(&c->fd, s, family, false, err) < 0) {
        close(s);
        return NULL;
    }
    runtime_set_finalizer(c, net__fd_finalize);
    return c;
}

net_conn_t *net_listener_accept(net_listener_t *l)
{
    net__addr_t ra;
    int err = 0;
    int s = net__fd_accept(&l->fd, &ra, &err);
    net_conn_t *c = s < 0 ? NULL : new_conn(s, l->fd.family, &ra, &err);
    if (c == NULL)
        errno = err;
    return c;
}

int net_listener_close(net_listener_t *l)
{
    int err = net__fd_close(&l->fd);
    if (err == 0 && l->unlink)
        unlink(((struct sockaddr_un *)&l->laddr.ss)->sun_path);
    if (err) {
        errno = err;
        return -1;
    }
    return 0;
}

size_t net_listener_addr(net_listener_t *l, char *buf, size_t len)
{
    return net__addr_format(&l->laddr, buf, len);
}

/* Dials one address before the deadline; the connection, or NULL. */
static net_conn_t *dial_one(const net__addr_t *a, int64_t deadline, int *err)
{
    int s = new_socket(a, err);
    if (s < 0)
        return NULL;
    net_conn_t *c = new_conn(s, a->ss.ss_family, a, err);
    if (c == NULL)
        return NULL;
    if (net__fd_connect(&c->fd, a, deadline, err) < 0) {
        net__fd_close(&c->fd);
        return NULL;
    }
    c->laddr.len = sizeof c->laddr.ss;
    getsockname(s, (struct sockaddr *)&c->laddr.ss, &c->laddr.len);
    return c;
}

/* Dials each address of network/address in turn until one connects. */
static net_conn_t *dial(const char *network, const char *address, int64_t deadline)
{
    net__addr_t as[NET_MAXADDRS];
    int err = 0;
    int n = net__resolve(network, address, false, as, &err);
    net_conn_t *c = NULL;
    for (int i = 0; i < n && c == NULL; i++) {
        c = dial_one(&as[i], deadline, &err);
        if (err == ETIMEDOUT)
            break;
    }
    if (c == NULL)
        errno = err;
    return c;
}

net_conn_t *net_dial(const char *network, const char *address)
{
    return dial(network, address, 0);
}

net_conn_t *net_dial_timeout(const char *network, const char *address, int64_t timeout_ns)
{
    if (timeout_ns <= 0)
        return dial(network, address, 0);
    int64_t d = time_now() + timeout_ns;
    return dial(network, address, d < 0 ? INT64_MAX : d);
}

ssize_t net_conn_read(net_conn_t *c, void *buf, size_t len)
{
    int err;
    ssize_t n = net__fd_read(&c->fd, buf, len, &err);
    if (n < 0)
        errno = err;
    return n;
}

ssize_t net_conn_write(net_conn_t *c, const void *buf, size_t len)
{
    int err;
    ssize_t n = net__fd_write(&c->fd, buf, len, &err);
    if (n < 0)
        errno = err;
    return n;
}

int net_conn_close(net_conn_t *c)
{
    int err = net__fd_close(&c->fd);
    if (err) {
        errno = err;
        return -1;
    }
    return 0;
}

int net_conn_close_write(net_conn_t *c)
{
    if (!net__fd_incref(&c->fd)) {
        errno = EBADF;
        return -1;
    }
    int r = shutdown(c->fd.sysfd, SHUT_WR);
    int err = errno;
    net__fd_decref(&c->fd);
    if (r < 0)
        errno = err;
    return r < 0 ? -1 : 0;
}

/* Sets the deadlines of the modes in mask. */
static int set_deadline(net_conn_t *c, int64_t deadline, int mask)
{
    if (!net__fd_incref(&c->fd)) {
        errno = EBADF;
        return -1;
    }
    sched__poll_set_deadline(c->fd.pd, deadline, mask);
    net__fd_decref(&c->fd);
    return 0;
}

int net_conn_set_deadline(net_conn_t *c, int64_t deadline)
{
    return set_deadline(c, deadline, SCHED_POLL_R | SCHED_POLL_W);
}

int net_conn_set_read_deadline(net_conn_t *c, int64_t deadline)
{
    return set_deadline(c, deadline, SCHED_POLL_R);
}

int net_conn_set_write_deadline(net_conn_t *c, int64_t deadline)
{
    return set_deadline(c, deadline, SCHED_POLL_W);
}

size_t net_conn_local_addr(net_conn_t *c, char *buf, size_t len)
{
    return net__addr_format(&c->laddr, buf, len);
}

size_t net_conn_remote_addr(net_conn_t *c, char *buf, size_t len)
{
    return net__addr_format(&c->raddr, buf, len);
}

int net_conn_fd(net_conn_t *c)
{
    return c->fd.sysfd;
}
