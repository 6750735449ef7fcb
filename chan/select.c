/*
 * chan/select.c -- the select statement (Go's runtime/select.go).
 *
 * Owns: chan_select. Polls the cases in a random order (first trying the
 * first case that looks ready with only its channel locked); if none can
 * proceed and the select blocks, enqueues one sudog per case on every
 * channel (locked in address order), parks with "select", and on wake-up
 * dequeues itself from the channels whose case did not fire. A select of
 * two non-nil cases on two channels goes to chan/select2.c, the same
 * algorithm written out for two; what both share is in chan/select.h.
 *
 * May call: chan/chan.c's element moves (chan__sendto, chan__recvfrom,
 * chan__bufput, chan__bufget), the channel lock, go_panic,
 * sched__park/ready/needg.
 *
 * Invariants:
 *  - Channels are locked in increasing address order, each distinct
 *    channel once; so two selects (or a select and a plain operation) can
 *    never deadlock on channel locks.
 *  - The sudogs, poll order and lock order live on the selecting
 *    goroutine's stack (or in memory it frees after the last dequeue); the
 *    park callback reads them only before releasing its last lock, after
 *    which the goroutine may already be running again.
 *  - g->selectdone is 0 whenever the goroutine is not parked in a select;
 *    the one waker that moves it from 0 to 1 owns the wake-up.
 */
#include <alloca.h>

#include "select.h"

/* Selects of at most this many cases take the small path: their orders
 * from one random number and a sorting network, fixed scratch. */
#define SELECT_SMALL 3
/* Selects with at most this many cases keep their scratch on the stack. */
#define SELECT_STACK_CASES 64
/* Up to this many channels are sorted by insertion, beyond by heap sort. */
#define SELECT_INSERTION_SORT 16
/* Go caps a select at 1<<16 cases (uint16 orders). */
#define SELECT_MAX_CASES 65536

/* One select's state, on the selecting goroutine's stack. */
typedef struct {
    select_case_t *cases;
    uint16_t *pollorder;   /* the non-nil cases, in random order */
    uint16_t *lockorder;   /* the same, by channel address */
    int n;                 /* entries of both orders */
    bool sorted;           /* lockorder already made (small selects) */
    sudog_t *sgs;          /* one per entry of lockorder, when blocking */
    g_t *wake;             /* a peer to ready once the locks are released */
} sel_t;

/* Sorts the first n entries of order by channel address (heap sort,
 * constant stack, as Go; insertion sort for small n). */
static void sort_lockorder(select_case_t *cs, uint16_t *lo, const uint16_t *po, int n)
{
#define KEY(i) ((uintptr_t)cs[(i)].c)
    if (n <= SELECT_INSERTION_SORT) {
        for (int i = 0; i < n; i++) {
            uint16_t v = po[i];
            int j = i;
            while (j > 0 && KEY(lo[j - 1]) > KEY(v)) {
                lo[j] = lo[j - 1];
                j--;
            }
            lo[j] = v;
        }
        return;
    }
    for (int i = 0; i < n; i++) {
        int j = i;
        uintptr_t c = KEY(po[i]);
        while (j > 0 && KEY(lo[(j - 1) / 2]) < c) {
            int k = (j - 1) / 2;
            lo[j] = lo[k];
            j = k;
        }
        lo[j] = po[i];
    }
    for (int i = n - 1; i >= 0; i--) {
        uint16_t o = lo[i];
        uintptr_t c = KEY(o);
        lo[i] = lo[0];
        int j = 0;
        for (;;) {
            int k = j * 2 + 1;
            if (k >= i)
                break;
            if (k + 1 < i && KEY(lo[k]) < KEY(lo[k + 1]))
                k++;
            if (c < KEY(lo[k])) {
                lo[j] = lo[k];
                j = k;
                continue;
            }
            break;
        }
        lo[j] = o;
    }
#undef KEY
}

/* Locks every distinct channel in lock order, except skip. */
static void sellock(select_case_t *cs, const uint16_t *lo, int n, chan_t *skip)
{
    chan_t *last = NULL;
    for (int i = 0; i < n; i++) {
        chan_t *c = cs[lo[i]].c;
        if (c != last) {
            last = c;
            if (c != skip)
                chan__lock(c);
        }
    }
}

/* Locks every distinct channel in lock order while already holding held:
 * channels ordered before it are only tried (taking them while holding a
 * later one could deadlock against an ordered locker), later ones are
 * waited for. Returns false, holding only held, if a try failed. */
static bool sellock_holding(select_case_t *cs, const uint16_t *lo, int n, chan_t *held)
{
    chan_t *last = NULL;
    for (int i = 0; i < n; i++) {
        chan_t *c = cs[lo[i]].c;
        if (c == last)
            continue;
        last = c;
        if (c == held)
            continue;
        if ((uintptr_t)c > (uintptr_t)held) {
            chan__lock(c);
        } else if (!chan__trylock(c)) {
            /* Undo: every channel taken so far is before this one. */
            chan_t *u = NULL;
            for (int j = 0; j < i; j++) {
                chan_t *d = cs[lo[j]].c;
                if (d != u && d != held)
                    chan__unlock(d);
                u = d;
            }
            return false;
        }
    }
    return true;
}

/* Unlocks every distinct channel except skip, in reverse lock order. */
static void selunlock(select_case_t *cs, const uint16_t *lo, int n, chan_t *skip)
{
    for (int i = n - 1; i >= 0; i--) {
        chan_t *c = cs[lo[i]].c;
        if (i > 0 && c == cs[lo[i - 1]].c)
            continue;              /* unlocked at its first occurrence */
        if (c != skip)
            chan__unlock(c);
    }
}

/* Park callback (on g0): releases the channel locks. The last unlock is
 * the last access to the selecting goroutine's stack. */
static bool selparkcommit(g_t *gp, void *arg)
{
    (void)gp;
    sel_t *s = arg;
    select_case_t *cs = s->cases;
    const uint16_t *lo = s->lockorder;
    int n = s->n;
    chan_t *last = NULL;
    for (int i = 0; i < n; i++) {
        chan_t *c = cs[lo[i]].c;
        if (c != last) {
            if (last)
                chan__unlock(last);
            last = c;
        }
    }
    if (last)
        chan__unlock(last);
    return true;
}

/* One-case select: the plain channel operation, as Go's compiler does. */
static int select_one(select_case_t *cs, bool block)
{
    if (cs->dir == SELECT_SEND)
        return chan__send(cs->c, cs->elem, block) ? 0 : -1;
    bool ok = false;
    bool done = chan__recv(cs->c, cs->elem, block, &ok);
    cs->ok = ok;
    return done ? 0 : -1;
}

/* Fills s->pollorder with the non-nil cases in a random order (inside-out
 * shuffle) and sets s->n. */
static void sel_pollorder(sel_t *s, int ncases)
{
    uint16_t *po = s->pollorder;
    int norder = 0;
    for (int i = 0; i < ncases; i++) {
        if (s->cases[i].c == NULL)
            continue;
        uint32_t j = norder ? runtime__fastrandn((uint32_t)norder + 1) : 0;
        po[norder] = po[j];
        po[j] = (uint16_t)i;
        norder++;
    }
    s->n = norder;
}

/* Lock order of a small select: its non-nil cases, in case order, sorted
 * by a network of compare-exchanges. Sorting them in case order rather
 * than poll order makes the comparisons the same at every execution of a
 * select statement, so they predict well. */
static void sel_lockorder_small(sel_t *s, const uint16_t *live, int k)
{
    select_case_t *cs = s->cases;
    uint16_t *lo = s->lockorder;
    const uint16_t *from = live;
#define KEY(i) ((uintptr_t)cs[(i)].c)
#define CMPXCHG(a, b)                                                     \
    do {                                                                  \
        if (KEY(lo[a]) > KEY(lo[b])) {                                    \
            uint16_t t_ = lo[a];                                          \
            lo[a] = lo[b];                                                \
            lo[b] = t_;                                                   \
        }                                                                 \
    } while (0)
again:
    /* Element by element: a loop here becomes a call to memmove. */
    if (k >= 1)
        lo[0] = from[0];
    if (k >= 2) {
        lo[1] = from[1];
        CMPXCHG(0, 1);
    }
    if (k == 3) {
        lo[2] = from[2];
        CMPXCHG(1, 2);
        CMPXCHG(0, 1);
    }
    /* Cases on one channel keep their random poll order among themselves
     * (the network is stable): it is their order in the channel's wait
     * queue, so the peer that comes picks one at random, as in Go. */
    if (from == live && k >= 2 &&
        (KEY(lo[0]) == KEY(lo[1]) || (k == 3 && KEY(lo[1]) == KEY(lo[2])))) {
        from = s->pollorder;
        goto again;
    }
#undef CMPXCHG
#undef KEY
    s->sorted = true;
}

__thread __attribute__((tls_model("initial-exec"))) uint64_t chan__sel_rand_state;

/* Poll and lock orders of a select of at most SELECT_SMALL cases: the
 * non-nil cases in a uniformly random order drawn with one random number,
 * and by channel address. */
static void sel_orders_small(sel_t *s, int ncases)
{
    static const uint8_t perm3[6][3] = {{0, 1, 2}, {0, 2, 1}, {1, 0, 2},
                                        {1, 2, 0}, {2, 0, 1}, {2, 1, 0}};
    uint16_t live[SELECT_SMALL];
    int k = 0;
    for (int i = 0; i < ncases; i++)
        if (s->cases[i].c != NULL)
            live[k++] = (uint16_t)i;
    uint16_t *po = s->pollorder;
    if (k == 3) {
        const uint8_t *p = perm3[((uint64_t)chan__sel_rand() * 6) >> 32];
        po[0] = live[p[0]];
        po[1] = live[p[1]];
        po[2] = live[p[2]];
    } else if (k == 2) {
        uint32_t r = chan__sel_rand() >> 31;
        po[0] = live[r];
        po[1] = live[r ^ 1];
    } else if (k == 1) {
        po[0] = live[0];
    }
    s->n = k;
    sel_lockorder_small(s, live, k);
}

/* Fast path: the first case in poll order that looks ready is tried with
 * only its own channel locked. Only success commits: returns that case
 * (its channel unlocked again), *r its outcome. Any doubt (a stale look,
 * nothing ready) returns -1 for the full algorithm, which decides under
 * every lock, so the select still acts on one instant's state; *held is
 * then the channel of a failed try, still locked, or NULL. */
static int sel_fast(sel_t *s, chan_t **held, const select_case_t **tried, int *r)
{
    *held = NULL;
    *tried = NULL;
    for (int k = 0; k < s->n; k++) {
        select_case_t *cs = &s->cases[s->pollorder[k]];
        if (!chan__sel_looks_ready(cs))
            continue;
        chan__lock(cs->c);
        *r = chan__sel_try(cs, &s->wake);
        if (*r == CASE_WAIT) {
            *held = cs->c;
            *tried = cs;
            return -1;
        }
        chan__unlock(cs->c);
        return s->pollorder[k];
    }
    return -1;
}

/* Sorts the lock order and locks every channel in it, keeping held's lock
 * if the order allows. Returns held if its lock was kept throughout (its
 * cases' outcome is then still the one sel_fast saw), else NULL. */
static chan_t *sel_lockall(sel_t *s, chan_t *held)
{
    if (!s->sorted)
        sort_lockorder(s->cases, s->lockorder, s->pollorder, s->n);
    if (held == NULL) {
        sellock(s->cases, s->lockorder, s->n, NULL);
    } else if (!sellock_holding(s->cases, s->lockorder, s->n, held)) {
        chan__unlock(held);
        sellock(s->cases, s->lockorder, s->n, NULL);
        return NULL;
    }
    return held;
}

/* Pass 1, every channel locked: the first case in poll order that can
 * proceed now, with its outcome in *r, or -1. A case sel_fast found
 * waiting, its channel locked ever since, is not tried again. */
static int sel_poll(sel_t *s, int *r, const select_case_t *tried)
{
    for (int k = 0; k < s->n; k++) {
        int casi = s->pollorder[k];
        if (&s->cases[casi] == tried)
            continue;
        *r = chan__sel_try(&s->cases[casi], &s->wake);
        if (*r != CASE_WAIT)
            return casi;
    }
    return -1;
}

/* Pass 2, every channel locked: enqueues one sudog per case on its
 * channel, in lock order, and parks; the locks are released once gp is
 * switched out (selparkcommit). */
static void sel_enqueue_park(sel_t *s, g_t *gp)
{
    for (int k = 0; k < s->n; k++)
        chan__sel_enqueue(&s->sgs[k], &s->cases[s->lockorder[k]], gp);
    gp->param = NULL;
    sched__park(selparkcommit, s, WAIT_SELECT);
}

/* The winner's channel needs no lock in pass 3 unless another of our
 * sudogs is queued there too (duplicate cases): returns it, or NULL. */
static chan_t *sel_unlocked_winner(const sel_t *s, const sudog_t *won)
{
    for (int k = 0; k < s->n; k++)
        if (&s->sgs[k] != won && s->sgs[k].c == won->c)
            return NULL;
    return won->c;
}

/* Whether some losing sudog is still queued (not unlinked by a waker that
 * skipped it: "gone"). If none is, no lock is needed; each channel's lock
 * was then taken after the park's commit released it, so the commit is
 * over and cannot still be reading this frame. */
static bool sel_losers_queued(const sel_t *s, const sudog_t *won)
{
    for (int k = 0; k < s->n; k++)
        if (&s->sgs[k] != won && chan__sel_queued(&s->sgs[k]))
            return true;
    return false;
}

/* Pass 3, after the wake-up: dequeues the losing sudogs. The winning one
 * was dequeued by its waker, and everything it wrote is visible since it
 * readied us. Returns the case that fired, *r CASE_CLOSED_SEND for a
 * send case woken by close, else CASE_DONE. */
static int sel_dequeue(sel_t *s, g_t *gp, int *r)
{
    sudog_t *won = gp->param;
    if (won == NULL)
        runtime__throw("selectgo: bad wakeup");
    chan_t *skip = sel_unlocked_winner(s, won);
    bool relock = sel_losers_queued(s, won);
    if (relock)
        sellock(s->cases, s->lockorder, s->n, skip);
    int casi = -1;
    for (int k = 0; k < s->n; k++) {
        select_case_t *cs = &s->cases[s->lockorder[k]];
        sudog_t *sg = &s->sgs[k];
        if (sg == won)
            casi = s->lockorder[k];
        else if (relock)
            chan__waitq_remove(chan__sel_queue(cs), sg);
    }
    if (casi < 0)
        runtime__throw("selectgo: bad wakeup");
    if (relock)
        selunlock(s->cases, s->lockorder, s->n, skip);
    *r = chan__sel_woken(gp, &s->cases[casi], won);
    return casi;
}

/* The select statement: the index of the case that proceeded, or -1. */
int chan_select(select_case_t *cases, int n, bool block)
{
    if (n <= 0) {
        if (!block)
            return -1;
        chan__block(WAIT_SELECT_NOCASES);
    }
    if (n == 1)
        return select_one(cases, block);
    if (n == 2 && cases[0].c != cases[1].c && cases[0].c && cases[1].c)
        return chan__select2(cases, block);
    if (n > SELECT_MAX_CASES)
        go_panic("select: too many cases");

    sel_t s = {.cases = cases};
    void *heap = NULL;
    size_t heapsize = 0;
    uint16_t small_orders[2 * SELECT_SMALL];
    sudog_t small_sgs[SELECT_SMALL];
    if (n <= SELECT_SMALL) {
        s.pollorder = small_orders;
        s.sgs = small_sgs;
    } else if (n <= SELECT_STACK_CASES) {
        s.pollorder = alloca(2 * sizeof(uint16_t) * (size_t)n);
    } else {
        heapsize = 2 * sizeof(uint16_t) * (size_t)n + sizeof(sudog_t) * (size_t)n;
        heap = runtime__malloc(heapsize);
        s.sgs = (sudog_t *)heap;
        s.pollorder = (uint16_t *)(s.sgs + n);
    }
    s.lockorder = s.pollorder + n;
    if (n <= SELECT_SMALL)
        sel_orders_small(&s, n);
    else
        sel_pollorder(&s, n);

    chan_t *held;
    const select_case_t *tried;
    int r = CASE_WAIT;
    int casi = sel_fast(&s, &held, &tried, &r);
    if (casi < 0) {
        if (sel_lockall(&s, held) == NULL)
            tried = NULL;
        casi = sel_poll(&s, &r, tried);
        if (casi >= 0 || !block) {
            selunlock(cases, s.lockorder, s.n, NULL);
        } else {
            g_t *gp = sched__needg(WAIT_SELECT);
            if (s.sgs == NULL)
                s.sgs = alloca(sizeof(sudog_t) * (size_t)(s.n ? s.n : 1));
            sel_enqueue_park(&s, gp);
            casi = sel_dequeue(&s, gp, &r);
        }
    }
    if (heap)
        runtime__free(heap, heapsize);
    chan__sel_finish(s.wake, r);
    return casi;
}
