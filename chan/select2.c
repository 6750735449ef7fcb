/*
 * chan/select2.c -- the select of two cases on two distinct channels.
 *
 * Owns: chan__select2, which chan_select calls for a select of two
 * non-nil cases on two channels. It is chan/select.c's algorithm (the
 * protocol in chan/select.h) with the orders, loops and duplicate checks
 * of the general one written out for two: the poll order is one random
 * bit, the lock order one comparison, and after a wake-up at most the
 * losing case's channel is locked again, to unlink its sudog.
 *
 * May call: what chan/select.c may (chan/select.h's helpers, the channel
 * lock, sched__park/ready/needg).
 *
 * Invariants: those of chan/select.c. The park callback reads the
 * select's state only before its first unlock; after the last one the
 * goroutine may already be running again.
 */
#include "select.h"

/* A two-case select's state, on the selecting goroutine's stack. */
typedef struct {
    select_case_t *po[2];      /* the cases in poll order */
    chan_t *lo, *hi;           /* their channels by address */
    sudog_t sgs[2];            /* sgs[k] for po[k], when blocking */
    g_t *wake;                 /* a peer to ready once the locks are released */
} sel2_t;

/* Park callback (on g0 or the next G's hook): releases both locks. */
static bool sel2_parkcommit(g_t *gp, void *arg)
{
    (void)gp;
    sel2_t *s = arg;
    chan_t *hi = s->hi;        /* the frame may be gone after an unlock */
    chan__unlock(s->lo);
    chan__unlock(hi);
    return true;
}

/* Fast path: the first case in poll order that looks ready, tried with
 * only its channel locked. Returns it if it proceeded (*r its outcome,
 * its channel unlocked again), else NULL with *held the channel of a
 * failed try, still locked, or NULL. */
static select_case_t *sel2_fast(sel2_t *s, chan_t **held, int *r)
{
    *held = NULL;
    for (int k = 0; k < 2; k++) {
        select_case_t *cs = s->po[k];
        if (!chan__sel_looks_ready(cs))
            continue;
        chan__lock(cs->c);
        *r = chan__sel_try(cs, &s->wake);
        if (*r == CASE_WAIT) {
            *held = cs->c;
            return NULL;
        }
        chan__unlock(cs->c);
        return cs;
    }
    return NULL;
}

/* Locks both channels, keeping held's lock when the order allows: the
 * lower channel is only tried while the higher one is held. Returns held
 * if its lock was kept throughout, else NULL. */
static chan_t *sel2_lockboth(sel2_t *s, chan_t *held)
{
    if (held == s->lo) {
        chan__lock(s->hi);
        return held;
    }
    if (held == s->hi) {
        if (chan__trylock(s->lo))
            return held;
        chan__unlock(held);
    }
    chan__lock(s->lo);
    chan__lock(s->hi);
    return NULL;
}

/* Pass 1, both channels locked: the first case in poll order that can
 * proceed (*r its outcome), or NULL. The case on held (its channel
 * locked since the fast path found it waiting) is not tried again. */
static select_case_t *sel2_poll(sel2_t *s, chan_t *held, int *r)
{
    for (int k = 0; k < 2; k++) {
        select_case_t *cs = s->po[k];
        if (cs->c == held)
            continue;
        *r = chan__sel_try(cs, &s->wake);
        if (*r != CASE_WAIT)
            return cs;
    }
    return NULL;
}

/* Passes 2 and 3: queues a sudog per case (both channels locked), parks,
 * and after the wake-up unlinks the losing sudog unless a waker did.
 * Returns the case that fired, *r its outcome. */
static select_case_t *sel2_park(sel2_t *s, int *r)
{
    g_t *gp = sched__needg(WAIT_SELECT);
    chan__sel_enqueue(&s->sgs[0], s->po[0], gp);
    chan__sel_enqueue(&s->sgs[1], s->po[1], gp);
    gp->param = NULL;
    sched__park(sel2_parkcommit, s, WAIT_SELECT);
    sudog_t *won = gp->param;
    if (won != &s->sgs[0] && won != &s->sgs[1])
        runtime__throw("selectgo: bad wakeup");
    int k = won == &s->sgs[1];
    sudog_t *lost = &s->sgs[k ^ 1];
    /* The winner's channel needs no lock: its waker dequeued won, and
     * the cases are on two channels. */
    if (chan__sel_queued(lost)) {
        chan__lock(lost->c);
        chan__waitq_remove(chan__sel_queue(s->po[k ^ 1]), lost);
        chan__unlock(lost->c);
    }
    *r = chan__sel_woken(gp, s->po[k], won);
    return s->po[k];
}

int chan__select2(select_case_t *cases, bool block)
{
    sel2_t s;
    uint32_t bit = chan__sel_rand() >> 31;
    s.po[0] = &cases[bit];
    s.po[1] = &cases[bit ^ 1];
    s.wake = NULL;
    int r = CASE_WAIT;
    chan_t *held;
    select_case_t *cs = sel2_fast(&s, &held, &r);
    if (cs == NULL) {
        bool swap = (uintptr_t)cases[0].c > (uintptr_t)cases[1].c;
        s.lo = cases[swap].c;
        s.hi = cases[!swap].c;
        held = sel2_lockboth(&s, held);
        cs = sel2_poll(&s, held, &r);
        if (cs != NULL || !block) {
            chan__unlock(s.hi);
            chan__unlock(s.lo);
        } else {
            cs = sel2_park(&s, &r);
        }
    }
    chan__sel_finish(s.wake, r);
    return cs ? (int)(cs - cases) : -1;
}
