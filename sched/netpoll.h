/*
 * sched/netpoll.h -- the network poller's interface (sched/netpoll.c), for
 * the scheduler (findrunnable, the idle M, sysmon, checkdead, timers) and
 * for net/ and poll_fd. Included by sched/internal.h.
 */
#ifndef GORT_SCHED_NETPOLL_H
#define GORT_SCHED_NETPOLL_H

/* ------------------------------------------------------------------ */
/* network poller (sched/netpoll.c)                                    */
/* ------------------------------------------------------------------ */

/* The poll record of one registered descriptor (opaque outside netpoll.c). */
typedef struct sched_pollfd sched_pollfd_t;
#define SCHED_POLL_R 1                /* wait modes, and deadline masks */
#define SCHED_POLL_W 2

/* Any context with an M. Registers fd (non-blocking already) with the
 * poller, edge-triggered; NULL and *err set if epoll refuses it. */
GORT_HIDDEN sched_pollfd_t *sched__poll_open(int fd, int *err);
/* G. Parks until the descriptor is ready for mode (one of R, W): 0, or
 * EBADF after an evict, ETIMEDOUT once the deadline passed. It may return
 * 0 without readiness: the caller retries its call and waits again. */
GORT_HIDDEN int sched__poll_wait(sched_pollfd_t *pd, int mode);
GORT_HIDDEN int sched__poll_check(sched_pollfd_t *pd, int mode);  /* a wait's error now, or 0 */
/* Sets the deadline (time_now clock, 0: none) of the modes in mask; a
 * passed one wakes the waiter with ETIMEDOUT. */
GORT_HIDDEN void sched__poll_set_deadline(sched_pollfd_t *pd, int64_t deadline, int mask);
/* Marks the record closing: every waiter, now and later, gets EBADF. */
GORT_HIDDEN void sched__poll_evict(sched_pollfd_t *pd);
/* Removes the descriptor from the epoll set (before its close). */
GORT_HIDDEN void sched__poll_deregister(sched_pollfd_t *pd);
/* Returns an evicted record with no waiters to the free list. */
GORT_HIDDEN void sched__poll_free(sched_pollfd_t *pd);
/* Whether goroutines are parked on descriptors (checkdead: they can wake). */
GORT_HIDDEN bool sched__netpoll_active(void);
GORT_HIDDEN bool sched__netpoll_blocked(void);   /* an M waits in epoll_wait */
/* Interrupts the M blocked in epoll_wait, if any. */
GORT_HIDDEN void sched__netpoll_break(void);
/* A timer due at when was added: break the poll if it would sleep past it. */
GORT_HIDDEN void sched__netpoll_timer_added(int64_t when);
/* g0 with a P. Polls without blocking (unless an M blocks in epoll);
 * readies all but one of the Gs found and returns that one, runnable. */
GORT_HIDDEN g_t *sched__netpoll_check(void);
/* g0, no P, not spinning. Becomes the M blocked in epoll_wait until the
 * next timer (0: none) if waiters exist and no M does; returns false if
 * it did not, else returns holding a P, with *gpp the first G found
 * (runnable, for this M to run) or NULL and the others readied. */
GORT_HIDDEN bool sched__netpoll_idle(int64_t next, g_t **gpp);
/* sysmon: whether goroutines wait on descriptors and nobody polled for
 * 10 ms; then sched__netpoll_sysmon polls and readies what it found. */
GORT_HIDDEN bool sched__netpoll_due(int64_t now);
GORT_HIDDEN void sched__netpoll_sysmon(int64_t now);

#endif /* GORT_SCHED_NETPOLL_H */
