/*
 * net/fd.c -- a descriptor under the poller: references, close, and the
 * read, write, accept and connect loops (try the call; on EAGAIN park on
 * the poll record; retry), plus poll_fd for the program's own descriptors.
 *
 * Owns: net__fd_t's state word (NET_FD_CLOSED and the count of operations
 * in progress) and the moment the descriptor and its poll record go.
 *
 * May call: sched__poll_* (sched/netpoll.c), sync mutexes, libc.
 *
 * Invariants: an operation holds a reference from before its first call
 * on sysfd to after its last; close marks the state, evicts the poll
 * record (waiters get EBADF) and the last reference deregisters and closes
 * the descriptor and frees the record. For poll_fd the program closes the
 * descriptor, so poll_fd_close deregisters at once.
 *
 * Context: G (the loops park); net__fd_finalize on the finalizer goroutine.
 */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "internal.h"

#define NET_MAXRW (1 << 30)       /* bytes per read or write call, as Go */

/* Puts sysfd in non-blocking mode. */
static int set_nonblock(int sysfd)
{
    int fl = fcntl(sysfd, F_GETFL);
    if (fl < 0)
        return errno;
    if (!(fl & O_NONBLOCK) && fcntl(sysfd, F_SETFL, fl | O_NONBLOCK) < 0)
        return errno;
    return 0;
}

int net__fd_init(net__fd_t *fd, int sysfd, int family, bool noclose, int *err)
{
    fd->sysfd = sysfd;
    fd->family = family;
    fd->noclose = noclose;
    atomic_store(&fd->state, 0);
    if ((*err = set_nonblock(sysfd)) != 0)
        return -1;
    fd->pd = sched__poll_open(sysfd, err);
    return fd->pd ? 0 : -1;
}

bool net__fd_incref(net__fd_t *fd)
{
    uint64_t s = atomic_load(&fd->state);
    do {
        if (s & NET_FD_CLOSED)
            return false;
    } while (!atomic_compare_exchange_weak(&fd->state, &s, s + 1));
    return true;
}

/* The last reference of a closed descriptor went: release everything. */
static void fd_destroy(net__fd_t *fd)
{
    if (!fd->noclose)
        sched__poll_deregister(fd->pd);
    sched__poll_free(fd->pd);
    fd->pd = NULL;
    if (!fd->noclose)
        close(fd->sysfd);
}

void net__fd_decref(net__fd_t *fd)
{
    if (atomic_fetch_sub(&fd->state, 1) - 1 == NET_FD_CLOSED)
        fd_destroy(fd);
}

int net__fd_close(net__fd_t *fd)
{
    uint64_t s = atomic_load(&fd->state);
    do {
        if (s & NET_FD_CLOSED)
            return EBADF;
    } while (!atomic_compare_exchange_weak(&fd->state, &s, (s | NET_FD_CLOSED) + 1));
    sched__poll_evict(fd->pd);
    if (fd->noclose)
        sched__poll_deregister(fd->pd);   /* before the program closes it */
    net__fd_decref(fd);
    return 0;
}

void net__fd_finalize(void *obj)
{
    (void)net__fd_close(obj);   /* each net object starts with its net__fd_t */
}

ssize_t net__fd_read(net__fd_t *fd, void *buf, size_t len, int *err)
{
    if (!net__fd_incref(fd)) {
        *err = EBADF;
        return -1;
    }
    ssize_t n = -1;
    if (len > NET_MAXRW)
        len = NET_MAXRW;
    sync_mutex_lock(&fd->rmu);
    *err = sched__poll_check(fd->pd, SCHED_POLL_R);
    while (*err == 0) {
        n = len ? read(fd->sysfd, buf, len) : 0;
        if (n >= 0)
            break;
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN) {
            *err = errno;
            break;
        }
        *err = sched__poll_wait(fd->pd, SCHED_POLL_R);
    }
    sync_mutex_unlock(&fd->rmu);
    net__fd_decref(fd);
    return *err ? -1 : n;
}

ssize_t net__fd_write(net__fd_t *fd, const void *buf, size_t len, int *err)
{
    if (!net__fd_incref(fd)) {
        *err = EBADF;
        return -1;
    }
    size_t off = 0;
    sync_mutex_lock(&fd->wmu);
    *err = sched__poll_check(fd->pd, SCHED_POLL_W);
    while (*err == 0 && off < len) {
        size_t k = len - off > NET_MAXRW ? NET_MAXRW : len - off;
        ssize_t n = send(fd->sysfd, (const char *)buf + off, k, MSG_NOSIGNAL);
        if (n >= 0) {
            off += (size_t)n;
            continue;
        }
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN) {
            *err = errno;
            break;
        }
        *err = sched__poll_wait(fd->pd, SCHED_POLL_W);
    }
    sync_mutex_unlock(&fd->wmu);
    net__fd_decref(fd);
    return *err ? -1 : (ssize_t)off;
}

int net__fd_accept(net__fd_t *fd, net__addr_t *ra, int *err)
{
    if (!net__fd_incref(fd)) {
        *err = EBADF;
        return -1;
    }
    int s = -1;
    sync_mutex_lock(&fd->rmu);
    *err = sched__poll_check(fd->pd, SCHED_POLL_R);
    while (*err == 0) {
        ra->len = sizeof ra->ss;
        s = accept4(fd->sysfd, (struct sockaddr *)&ra->ss, &ra->len,
                    SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (s >= 0)
            break;
        if (errno == EINTR || errno == ECONNABORTED)
            continue;
        if (errno != EAGAIN) {
            *err = errno;
            break;
        }
        *err = sched__poll_wait(fd->pd, SCHED_POLL_R);
    }
    sync_mutex_unlock(&fd->rmu);
    net__fd_decref(fd);
    return *err ? -1 : s;
}

/* Waits for a non-blocking connect in progress; 0 or the error. */
static int connect_wait(net__fd_t *fd)
{
    for (;;) {
        int e = sched__poll_wait(fd->pd, SCHED_POLL_W);
        if (e)
            return e;
        int soerr = 0;
        socklen_t sl = sizeof soerr;
        if (getsockopt(fd->sysfd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
            return errno;
        if (soerr == 0) {
            /* Writable and no error: connected, unless the event was for
             * another reason; getpeername tells. */
            struct sockaddr_storage ss;
            socklen_t l = sizeof ss;
            if (getpeername(fd->sysfd, (struct sockaddr *)&ss, &l) == 0)
                return 0;
            if (errno != ENOTCONN)
                return errno;
            continue;
        }
        if (soerr != EINPROGRESS && soerr != EALREADY && soerr != EINTR)
            return soerr;
    }
}

int net__fd_connect(net__fd_t *fd, const net__addr_t *a, int64_t deadline, int *err)
{
    if (!net__fd_incref(fd)) {
        *err = EBADF;
        return -1;
    }
    if (deadline)
        sched__poll_set_deadline(fd->pd, deadline, SCHED_POLL_W);
    *err = sched__poll_check(fd->pd, SCHED_POLL_W);
    if (*err == 0) {
        int r = connect(fd->sysfd, (const struct sockaddr *)&a->ss, a->len);
        if (r < 0 && errno == EINTR)
            errno = EINPROGRESS;   /* the connect goes on in the background */
        if (r < 0)
            *err = errno == EINPROGRESS ? connect_wait(fd) : errno;
    }
    if (deadline && *err == 0)
        sched__poll_set_deadline(fd->pd, 0, SCHED_POLL_W);
    net__fd_decref(fd);
    return *err ? -1 : 0;
}

/* ------------------------------------------------------------------ */
/* poll_fd                                                             */
/* ------------------------------------------------------------------ */

poll_fd_t *poll_fd_open(int fd)
{
    poll_fd_t *p = gc_alloc_noscan(sizeof *p);
    int err;
    if (net__fd_init(&p->fd, fd, AF_UNSPEC, true, &err) < 0) {
        errno = err;
        return NULL;
    }
    runtime_set_finalizer(p, net__fd_finalize);
    return p;
}

/* Parks until the descriptor is ready for mode or the deadline passes. */
static int poll_fd_wait(poll_fd_t *p, int64_t deadline, int mode)
{
    net__fd_t *fd = &p->fd;
    if (!net__fd_incref(fd)) {
        errno = EBADF;
        return -1;
    }
    sync_mutex_t *mu = mode == SCHED_POLL_R ? &fd->rmu : &fd->wmu;
    sync_mutex_lock(mu);
    if (deadline)
        sched__poll_set_deadline(fd->pd, deadline, mode);
    int err = sched__poll_wait(fd->pd, mode);
    if (deadline)
        sched__poll_set_deadline(fd->pd, 0, mode);
    sync_mutex_unlock(mu);
    net__fd_decref(fd);
    if (err) {
        errno = err;
        return -1;
    }
    return 0;
}

int poll_fd_wait_read(poll_fd_t *pd, int64_t deadline)
{
    return poll_fd_wait(pd, deadline, SCHED_POLL_R);
}

int poll_fd_wait_write(poll_fd_t *pd, int64_t deadline)
{
    return poll_fd_wait(pd, deadline, SCHED_POLL_W);
}

int poll_fd_close(poll_fd_t *pd)
{
    int err = net__fd_close(&pd->fd);
    if (err) {
        errno = err;
        return -1;
    }
    return 0;
}
