/*
 * chan/select.h -- internals shared by the two implementations of select:
 * the general one (select.c) and the one for two cases on two channels
 * (select2.c). Only these two files include it. Everything here is
 * hidden or file-local.
 *
 * Both follow the same protocol (chan/select.c's header): a lock-free look
 * picks the first case that seems ready in a random poll order and tries
 * it with only its channel locked; otherwise every channel is locked in
 * address order, the cases are polled, and a blocking select queues one
 * sudog per case and parks; a waker claims it by moving g->selectdone
 * from 0 to 1 (chan__waitq_dequeue), and after the wake-up its owner
 * unlinks the losing sudogs no waker has unlinked ("gone").
 */
#ifndef GORT_CHAN_SELECT_H
#define GORT_CHAN_SELECT_H

#include "internal.h"

/* Outcome of trying one case with its channel locked. */
enum { CASE_WAIT = 0, CASE_DONE, CASE_CLOSED_RECV, CASE_CLOSED_SEND };

/* Tries case cs now (cs->c locked): moves the data if a peer or the ring
 * allows; *wake gets a peer to ready once the locks are released. */
static inline __attribute__((always_inline)) int chan__sel_try(select_case_t *cs, g_t **wake)
{
    chan_t *c = cs->c;
    if (cs->dir == SELECT_RECV) {
        sudog_t *sg = chan__waitq_dequeue(&c->sendq);
        if (sg) {
            *wake = chan__recvfrom(c, sg, cs->elem);
            cs->ok = true;
            return CASE_DONE;
        }
        if (c->qcount > 0) {
            chan__bufget(c, cs->elem);
            cs->ok = true;
            return CASE_DONE;
        }
        if (c->closed) {
            if (cs->elem && c->elemsize)
                gc_memclr(cs->elem, c->elemsize);
            cs->ok = false;
            return CASE_CLOSED_RECV;
        }
    } else {
        if (c->closed)
            return CASE_CLOSED_SEND;
        sudog_t *sg = chan__waitq_dequeue(&c->recvq);
        if (sg) {
            *wake = chan__sendto(c, sg, cs->elem);
            return CASE_DONE;
        }
        if (c->qcount < c->dataqsiz) {
            chan__bufput(c, cs->elem);
            return CASE_DONE;
        }
    }
    return CASE_WAIT;
}

/* Lock-free guess whether case cs could proceed now (may be stale). */
static inline bool chan__sel_looks_ready(const select_case_t *cs)
{
    chan_t *c = cs->c;
    if (__atomic_load_n(&c->closed, __ATOMIC_RELAXED))
        return true;
    if (cs->dir == SELECT_RECV)
        return __atomic_load_n(&c->sendq.first, __ATOMIC_RELAXED) != NULL ||
               chan__load(&c->qcount) > 0;
    return __atomic_load_n(&c->recvq.first, __ATOMIC_RELAXED) != NULL ||
           chan__load(&c->qcount) < c->dataqsiz;
}

/* The wait queue of c that a blocked case cs waits in. */
static inline chan__waitq_t *chan__sel_queue(const select_case_t *cs)
{
    return cs->dir == SELECT_SEND ? &cs->c->sendq : &cs->c->recvq;
}

/* Fills sg for case cs of blocking select gp and queues it (cs->c
 * locked). */
static inline void chan__sel_enqueue(sudog_t *sg, const select_case_t *cs, g_t *gp)
{
    *sg = (sudog_t){.g = gp, .elem = cs->elem, .c = cs->c, .isselect = true};
    chan__waitq_enqueue(chan__sel_queue(cs), sg);
}

/* Whether sg is still queued (no waker unlinked it: not "gone"). */
static inline bool chan__sel_queued(const sudog_t *sg)
{
    return !__atomic_load_n(&sg->gone, __ATOMIC_ACQUIRE);
}

/* After the wake-up of gp by won, the sudog of case cs: clears the
 * select's state and sets cs->ok; returns CASE_CLOSED_SEND for a send
 * case woken by close, else CASE_DONE. */
static inline int chan__sel_woken(g_t *gp, select_case_t *cs, const sudog_t *won)
{
    atomic_store_explicit(&gp->selectdone, 0, memory_order_relaxed);
    gp->param = NULL;
    if (cs->dir == SELECT_RECV) {
        cs->ok = won->success;
        return CASE_DONE;
    }
    return won->success ? CASE_DONE : CASE_CLOSED_SEND;
}

/* Readies the peer a select served, once its locks are released, and
 * panics if the select's send case found its channel closed. */
static inline void chan__sel_finish(g_t *wake, int r)
{
    if (wake)
        sched__ready(wake, true);
    if (r == CASE_CLOSED_SEND)
        go_panic("send on closed channel");
}

/* The calling thread's state for select's random numbers. */
GORT_HIDDEN extern __thread __attribute__((tls_model("initial-exec"))) uint64_t chan__sel_rand_state;

/* A random number for a small select's poll order: the generator of
 * runtime__fastrand (wyrand), inline, on a per-thread state seeded from
 * it, so a select makes no call for it. */
static inline uint32_t chan__sel_rand(void)
{
    uint64_t x = chan__sel_rand_state;
    if (unlikely(x == 0))
        x = (uint64_t)runtime__fastrand() << 32 | runtime__fastrand();
    x += 0xa0761d6478bd642fULL;
    chan__sel_rand_state = x;
    __uint128_t r = (__uint128_t)x * (x ^ 0xe7037ed1a0b428dbULL);
    return (uint32_t)((uint64_t)(r >> 64) ^ (uint64_t)r);
}

/* G for a blocking call. The select of two cases on two distinct
 * channels (select2.c); returns the index of the case that proceeded, or
 * -1. */
GORT_HIDDEN int chan__select2(select_case_t *cases, bool block);

#endif /* GORT_CHAN_SELECT_H */
