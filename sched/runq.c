/*
 * sched/runq.c -- per-P local run queues and the global run queue.
 *
 * A P's local queue is a 256-slot ring: only the owner P adds (at tail)
 * and takes from its own head with a CAS; thieves take half at once from
 * the head with the same CAS. runnext is a one-G fast lane: a G readied by
 * the running G (a channel partner, a new goroutine) runs next and
 * inherits the time slice. When the ring is full, half of it plus the new
 * G move to the global queue in one locked batch, shuffled order kept.
 * Each P also has a yield queue of Gs that called Gosched (below). With a
 * single P there are no thieves, and the owner uses plain loads and
 * stores where it would CAS.
 *
 * The global queue is a growable ring of G pointers under sched.lock:
 * moving a batch in or out copies pointers and touches no G descriptor
 * (descriptors are written by the core that created or readied the G;
 * the one that runs it prefetches them ahead instead).
 */
#include <unistd.h>

#include "internal.h"

#define SCHED_STEAL_NEXT_DELAY_US 3

/* Moves half the local queue plus gp to the global queue. Owner only.
 * Returns false if a thief raced us (the caller retries the fast path). */
static bool runqputslow(p_t *p, g_t *gp, uint32_t h, uint32_t t)
{
    g_t *batch[SCHED_RUNQ_SIZE / 2 + 1];
    uint32_t n = (t - h) / 2;
    runtime__assert(n == SCHED_RUNQ_SIZE / 2);
    for (uint32_t i = 0; i < n; i++)
        batch[i] = p->runq[(h + i) % SCHED_RUNQ_SIZE];
    if (!atomic_compare_exchange_strong_explicit(&p->runqhead, &h, h + n,
            memory_order_release, memory_order_relaxed))
        return false;
    batch[n] = gp;
    /* Shuffle so that the global queue does not keep one P's order. */
    for (uint32_t i = 1; i <= n; i++) {
        uint32_t j = runtime__fastrandn(i + 1);
        g_t *tmp = batch[i]; batch[i] = batch[j]; batch[j] = tmp;
    }
    runtime__lock(&sched__sched.lock);
    sched__globrunqputbatch(batch, (int32_t)(n + 1));
    runtime__unlock(&sched__sched.lock);
    return true;
}

/* Puts gp on p's local queue (owner only). With next, gp takes runnext
 * and the G that held it is queued instead. */
void sched__runqput(p_t *p, g_t *gp, bool next)
{
    if (next) {
        /* Thieves only ever move runnext from non-NULL to NULL, so an
         * empty slot seen by the owner stays empty: fill it with a plain
         * release store, no locked instruction. */
        g_t *old = atomic_load_explicit(&p->runnext, memory_order_relaxed);
        atomic_store_explicit(&p->runnextgen,
                              atomic_load_explicit(&p->runnextgen, memory_order_relaxed) + 1,
                              memory_order_relaxed);
        if (old == NULL || sched__single_p()) {
            atomic_store_explicit(&p->runnext, gp, memory_order_release);
            if (old == NULL)
                return;
        } else {
            old = atomic_exchange_explicit(&p->runnext, gp, memory_order_acq_rel);
        }
        if (old == NULL)
            return;
        gp = old;
    }
    for (;;) {
        uint32_t h = atomic_load_explicit(&p->runqhead, memory_order_acquire);
        uint32_t t = atomic_load_explicit(&p->runqtail, memory_order_relaxed);
        if (t - h < SCHED_RUNQ_SIZE) {
            p->runq[t % SCHED_RUNQ_SIZE] = gp;
            atomic_store_explicit(&p->runqtail, t + 1, memory_order_release);
            return;
        }
        if (runqputslow(p, gp, h, t))
            return;
    }
}

/* Takes a G from p's local queue (owner only); runnext first, and a G
 * from runnext inherits the current time slice. */
g_t *sched__runqget(p_t *p, bool *inherit)
{
    bool single = sched__single_p();
    g_t *next = atomic_load_explicit(&p->runnext, memory_order_relaxed);
    if (next && single) {
        atomic_store_explicit(&p->runnext, NULL, memory_order_relaxed);
        *inherit = true;
        return next;
    }
    if (next && atomic_compare_exchange_strong_explicit(&p->runnext, &next, NULL,
                    memory_order_acq_rel, memory_order_relaxed)) {
        *inherit = true;
        return next;
    }
    *inherit = false;
    for (;;) {
        uint32_t h = atomic_load_explicit(&p->runqhead, memory_order_acquire);
        uint32_t t = atomic_load_explicit(&p->runqtail, memory_order_relaxed);
        if (t == h)
            return NULL;
        g_t *gp = p->runq[h % SCHED_RUNQ_SIZE];
        if (single)
            atomic_store_explicit(&p->runqhead, h + 1, memory_order_release);
        else if (!atomic_compare_exchange_weak_explicit(&p->runqhead, &h, h + 1,
                     memory_order_release, memory_order_relaxed))
            continue;
        /* The Gs queued next were written long ago or by another core:
         * start fetching them while this one runs. */
        if (t - h > SCHED_PREFETCH)
            sched__prefetchw(p->runq[(h + SCHED_PREFETCH) % SCHED_RUNQ_SIZE]);
        return gp;
    }
}

bool sched__runqempty(p_t *p)
{
    /* Read head, tail, runnext, then tail again to get a consistent view
     * while the owner moves runnext into the ring. */
    for (;;) {
        uint32_t h = atomic_load(&p->runqhead);
        uint32_t t = atomic_load(&p->runqtail);
        g_t *next = atomic_load(&p->runnext);
        if (t == atomic_load(&p->runqtail)) {
            if (h != t || next != NULL)
                return false;
            break;
        }
    }
    return atomic_load(&p->yieldhead) == atomic_load(&p->yieldtail);
}

/* ------------------------------------------------------------------ */
/* yield queue                                                         */
/* ------------------------------------------------------------------ */

/* Go's Gosched puts the G on the global queue, so that it runs after the
 * P's local work, after Gs queued globally before it, and on any P that
 * looks. Each P keeps the Gs yielded on it in a ring of its own instead:
 * the global queue costs two locked instructions per yield (sched.lock in
 * and out), this ring none for the owner's put and at most one CAS for
 * its get. It is consulted where the global queue is: every 61st
 * schedule, when the local queue is empty (after the global queue), and
 * by every stealing P; runqempty counts it, so no P idles while it holds
 * a G. A full ring sends its older half to the global queue, so under
 * steady yielding no G stays in the ring for good; and the 61st-tick
 * turn alternates between the ring and the global queue, so neither
 * starves the other. */

/* Moves the oldest half of p's full yield queue, then gp, to the global
 * queue in one locked batch (owner only). Order is kept, so a yielded G
 * waits behind at most a queue's worth of later yields before it reaches
 * the global queue, which every P reads. Returns false if a thief raced
 * us (the caller retries). */
static bool yieldputslow(p_t *p, g_t *gp, uint32_t h)
{
    g_t *batch[SCHED_YIELDQ_SIZE / 2 + 1];
    uint32_t n = SCHED_YIELDQ_SIZE / 2;
    for (uint32_t i = 0; i < n; i++)
        batch[i] = p->yieldq[(h + i) % SCHED_YIELDQ_SIZE];
    if (!atomic_compare_exchange_strong_explicit(&p->yieldhead, &h, h + n,
            memory_order_release, memory_order_relaxed))
        return false;
    batch[n] = gp;
    runtime__lock(&sched__sched.lock);
    sched__globrunqputbatch(batch, (int32_t)(n + 1));
    runtime__unlock(&sched__sched.lock);
    return true;
}

void sched__yieldput(p_t *p, g_t *gp)
{
    for (;;) {
        uint32_t h = atomic_load_explicit(&p->yieldhead, memory_order_acquire);
        uint32_t t = atomic_load_explicit(&p->yieldtail, memory_order_relaxed);
        if (t - h < SCHED_YIELDQ_SIZE) {
            p->yieldq[t % SCHED_YIELDQ_SIZE] = gp;
            atomic_store_explicit(&p->yieldtail, t + 1, memory_order_release);
            return;
        }
        if (yieldputslow(p, gp, h))
            return;
    }
}

g_t *sched__yieldget(p_t *p)
{
    for (;;) {
        uint32_t h = atomic_load_explicit(&p->yieldhead, memory_order_acquire);
        uint32_t t = atomic_load_explicit(&p->yieldtail, memory_order_relaxed);
        if (t == h)
            return NULL;
        g_t *gp = p->yieldq[h % SCHED_YIELDQ_SIZE];
        if (sched__single_p()) {
            atomic_store_explicit(&p->yieldhead, h + 1, memory_order_release);
            return gp;
        }
        if (atomic_compare_exchange_weak_explicit(&p->yieldhead, &h, h + 1,
                memory_order_release, memory_order_relaxed))
            return gp;
    }
}

/* Grabs half of a victim's ring (runq or yieldq) into out[]. */
static uint32_t ringgrab(_Atomic uint32_t *head, _Atomic uint32_t *tail,
                         g_t *const *ring, uint32_t size, g_t **out)
{
    for (;;) {
        uint32_t h = atomic_load_explicit(head, memory_order_acquire);
        uint32_t t = atomic_load_explicit(tail, memory_order_acquire);
        uint32_t n = t - h;
        n -= n / 2;
        if (n == 0)
            return 0;
        if (n > size / 2)   /* inconsistent h/t read: retry */
            continue;
        for (uint32_t i = 0; i < n; i++)
            out[i] = ring[(h + i) % size];
        if (atomic_compare_exchange_strong_explicit(head, &h, h + n,
                memory_order_release, memory_order_relaxed))
            return n;
    }
}

/* Grabs half of victim's local queue, else half of its yield queue, else
 * (with stealnext) its runnext, into out[]; returns the count. */
static uint32_t runqgrab(p_t *victim, g_t **out, bool stealnext)
{
    uint32_t n = ringgrab(&victim->runqhead, &victim->runqtail, victim->runq,
                          SCHED_RUNQ_SIZE, out);
    if (n == 0)
        n = ringgrab(&victim->yieldhead, &victim->yieldtail, victim->yieldq,
                     SCHED_YIELDQ_SIZE, out);
    if (n > 0 || !stealnext)
        return n;
    g_t *next = atomic_load(&victim->runnext);
    /* A running victim is likely about to run its runnext (a channel
     * partner): give it a moment, and take the G only if it sat there all
     * along. (A pair handing off to each other refills runnext many times
     * in that moment: the CAS below only compares the G, so the
     * generation tells whether it is still the same stay.) */
    if (next && atomic_load(&victim->status) == P_RUNNING) {
        uint32_t gen = atomic_load(&victim->runnextgen);
        usleep(SCHED_STEAL_NEXT_DELAY_US);
        if (atomic_load(&victim->runnextgen) != gen)
            return 0;
    }
    if (next && atomic_compare_exchange_strong(&victim->runnext, &next, NULL)) {
        out[0] = next;
        return 1;
    }
    return 0;
}

/* Steals half of victim's queue into p's (empty) queue; returns one G to
 * run now in *out and the number stolen. */
uint32_t sched__runqsteal(p_t *p, p_t *victim, bool stealnext, g_t **out)
{
    g_t *batch[SCHED_RUNQ_SIZE / 2 + 1];
    uint32_t n = runqgrab(victim, batch, stealnext);
    if (n == 0)
        return 0;
    *out = batch[n - 1];
    /* The victim's core wrote these: start fetching the first ones. */
    sched__prefetchw(batch[n - 1]);
    for (uint32_t i = 0; i + 1 < n && i < SCHED_PREFETCH; i++)
        sched__prefetchw(batch[i]);
    if (n > 1) {
        uint32_t t = atomic_load_explicit(&p->runqtail, memory_order_relaxed);
        for (uint32_t i = 0; i < n - 1; i++)
            p->runq[(t + i) % SCHED_RUNQ_SIZE] = batch[i];
        atomic_store_explicit(&p->runqtail, t + n - 1, memory_order_release);
    }
    return n;
}

/* ------------------------------------------------------------------ */
/* global queue (sched.lock held)                                      */
/* ------------------------------------------------------------------ */

#define GLOBRUNQ_MIN_CAP 1024

/* Makes room for n more Gs, doubling the ring (order kept). */
static void globrunq_reserve(int32_t n)
{
    sched_t *s = &sched__sched;
    uint32_t need = (uint32_t)(s->runqsize + n);
    if (need <= s->runqcap)
        return;
    uint32_t ncap = s->runqcap ? s->runqcap : GLOBRUNQ_MIN_CAP;
    while (ncap < need)
        ncap *= 2;
    g_t **nq = runtime__malloc(ncap * sizeof(g_t *));
    for (int32_t i = 0; i < s->runqsize; i++)
        nq[i] = s->runq[(s->runqfirst + (uint32_t)i) % s->runqcap];
    runtime__free(s->runq, s->runqcap * sizeof(g_t *));
    s->runq = nq;
    s->runqcap = ncap;
    s->runqfirst = 0;
}

void sched__globrunqput(g_t *gp)
{
    sched_t *s = &sched__sched;
    globrunq_reserve(1);
    s->runq[(s->runqfirst + (uint32_t)s->runqsize) % s->runqcap] = gp;
    s->runqsize++;
}

void sched__globrunqputbatch(g_t **batch, int32_t n)
{
    sched_t *s = &sched__sched;
    globrunq_reserve(n);
    for (int32_t i = 0; i < n; i++)
        s->runq[(s->runqfirst + (uint32_t)(s->runqsize + i)) % s->runqcap] = batch[i];
    s->runqsize += n;
}

/* Pops the head of the global queue (non-empty). */
static g_t *globrunqpop(void)
{
    sched_t *s = &sched__sched;
    g_t *gp = s->runq[s->runqfirst];
    s->runqfirst = (s->runqfirst + 1) % s->runqcap;
    s->runqsize--;
    return gp;
}

/* Takes a batch from the global queue for p: returns one G and puts the
 * rest on p's local queue. n = min(len/GOMAXPROCS + 1, len, local/2), and
 * at most max when max > 0. */
g_t *sched__globrunqget(p_t *p, int32_t max)
{
    int32_t size = sched__sched.runqsize;
    if (size == 0)
        return NULL;
    int32_t n = size / atomic_load(&sched__gomaxprocs) + 1;
    if (n > size)
        n = size;
    if (max > 0 && n > max)
        n = max;
    if (n > SCHED_RUNQ_SIZE / 2)
        n = SCHED_RUNQ_SIZE / 2;
    g_t *gp = globrunqpop();
    sched__prefetchw(gp);
    for (int32_t i = 1; i < n; i++) {
        g_t *q = globrunqpop();
        if (i <= SCHED_PREFETCH)
            sched__prefetchw(q);
        sched__runqput(p, q, false);
    }
    return gp;
}
