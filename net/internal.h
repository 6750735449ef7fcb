/*
 * net/internal.h -- the net package: TCP and Unix-domain listeners and
 * connections, and poll_fd for descriptors the program owns.
 *
 * Owns: the descriptor wrapper (net__fd_t: the socket, its poll record,
 * the count of operations in progress, the read and write locks), address
 * parsing and formatting, and the public net_* and poll_fd_* functions.
 * Listeners, connections and poll_fds are GC objects without GC pointers
 * (gc_alloc_noscan); their finalizers close what the program forgot.
 *
 * May call: the poller (sched/internal.h: sched__poll_*), the public API
 * (sync mutexes, gc_alloc, runtime_set_finalizer, runtime_entersyscall
 * around getaddrinfo), libc. Nothing includes net/.
 *
 * Invariants: a descriptor is closed only when it is marked closed and no
 * operation holds a reference (net__fd_incref), so no call ever reaches a
 * descriptor number reused by someone else; its poll record goes back to
 * the poller at the same time. errno is set last, right before a public
 * function returns: a goroutine may change threads inside any wait.
 *
 * Context: every public function runs on a goroutine (it may park);
 * finalizers run on the collector's finalizer goroutine.
 */
#ifndef GORT_NET_INTERNAL_H
#define GORT_NET_INTERNAL_H

#include <sys/socket.h>
#include <sys/types.h>

#include "../sched/internal.h"

#define NET_MAXADDRS 8            /* addresses tried by one dial */

/* A descriptor under the poller. */
typedef struct net__fd {
    int sysfd;
    int family;
    bool noclose;                 /* poll_fd: the program closes sysfd */
    _Atomic uint64_t state;       /* NET_FD_CLOSED | operations in progress */
    sched_pollfd_t *pd;
    sync_mutex_t rmu, wmu;        /* one reader, one writer at a time */
} net__fd_t;

#define NET_FD_CLOSED (UINT64_C(1) << 63)

/* One socket address. */
typedef struct {
    struct sockaddr_storage ss;
    socklen_t len;
} net__addr_t;

struct net_conn {
    net__fd_t fd;
    net__addr_t laddr, raddr;
};

struct net_listener {
    net__fd_t fd;
    net__addr_t laddr;
    bool unlink;                  /* a Unix socket file this listener made */
};

struct poll_fd {
    net__fd_t fd;
};

/* net/fd.c */
/* Wraps sysfd (non-blocking) and registers it; -1 with the error in *err. */
GORT_HIDDEN int net__fd_init(net__fd_t *fd, int sysfd, int family, bool noclose, int *err);
/* Takes a reference for one operation; false if the descriptor is closed. */
GORT_HIDDEN bool net__fd_incref(net__fd_t *fd);
GORT_HIDDEN void net__fd_decref(net__fd_t *fd);
/* Marks closed and wakes every waiter; the descriptor goes when the last
 * reference does. Returns 0, or EBADF if it was closed already. */
GORT_HIDDEN int net__fd_close(net__fd_t *fd);
/* The operations: >= 0, or -1 with the error in *err (errno untouched). */
GORT_HIDDEN ssize_t net__fd_read(net__fd_t *fd, void *buf, size_t len, int *err);
GORT_HIDDEN ssize_t net__fd_write(net__fd_t *fd, const void *buf, size_t len, int *err);
GORT_HIDDEN int net__fd_accept(net__fd_t *fd, net__addr_t *ra, int *err);
/* Connects a fresh socket fd to a within the deadline (0: none). */
GORT_HIDDEN int net__fd_connect(net__fd_t *fd, const net__addr_t *a, int64_t deadline, int *err);
/* The finalizer of every net object: closes it if the program did not. */
GORT_HIDDEN void net__fd_finalize(void *obj);

/* net/addr.c */
/* Resolves network and address into at most NET_MAXADDRS addresses
 * (passive: for a listener). Returns the count, or -1 with *err. */
GORT_HIDDEN int net__resolve(const char *network, const char *address, bool passive,
                             net__addr_t *out, int *err);
/* Formats a as Go's Addr.String(), snprintf-style. */
GORT_HIDDEN size_t net__addr_format(const net__addr_t *a, char *buf, size_t len);

#endif /* GORT_NET_INTERNAL_H */
