/*
 * test/test_sync_stress.c -- many goroutines on few Ps.
 *
 * Mutual exclusion is checked with a plain (non-atomic) counter and an
 * "inside" flag that must never be seen set on entry; goroutines yield and
 * sleep inside critical sections so that the lock is really contended and
 * waiters really park. Every test finishes only if no wake-up was lost
 * (a lost one shows up as a deadlock report or the Criterion timeout).
 * Bounded: each test runs well under 10 s on two cores.
 */
#include "helpers.h"

/* ---- Mutex ---- */

typedef struct {
    sync_mutex_t mu;
    sync_waitgroup_t wg;
    long counter;            /* protected by mu; deliberately not atomic */
    int inside;              /* protected by mu */
    _Atomic int violations;
    int iters;
    int every;               /* every this many iterations, hold the lock */
    bool sleep;              /* ... across a 50 us sleep, else a gosched */
} mstress_t;

static void mutex_worker(void *arg)
{
    mstress_t *s = arg;
    for (int i = 0; i < s->iters; i++) {
        sync_mutex_lock(&s->mu);
        if (s->inside)
            atomic_fetch_add(&s->violations, 1);
        s->inside = 1;
        long c = s->counter;
        if (i % s->every == 0) {
            if (s->sleep)
                time_sleep(50 * TIME_MICROSECOND);
            else
                runtime_gosched();       /* hold the lock across a switch */
        }
        s->counter = c + 1;
        s->inside = 0;
        sync_mutex_unlock(&s->mu);
    }
    sync_waitgroup_done(&s->wg);
}

static void mutex_stress(int procs, int ngs, int iters, int every, bool sleep)
{
    int old = runtime_gomaxprocs(procs);
    mstress_t *s = gc_new(mstress_t);
    s->iters = iters;
    s->every = every;
    s->sleep = sleep;
    sync_waitgroup_add(&s->wg, ngs);
    for (int i = 0; i < ngs; i++)
        go(mutex_worker, s);
    sync_waitgroup_wait(&s->wg);
    GT_CHECK(s->counter == (long)ngs * iters, "procs %d: counter %ld, want %ld",
             procs, s->counter, (long)ngs * iters);
    GT_CHECK(atomic_load(&s->violations) == 0, "procs %d: %d mutual exclusion violations",
             procs, atomic_load(&s->violations));
    GT_CHECK(s->mu.state == 0, "procs %d: final state %d", procs, s->mu.state);
    runtime_gomaxprocs(old);
}

static int test_mutex_stress(int argc, char **argv)
{
    mutex_stress(1, 200, 2000, 64, false);
    mutex_stress(2, 500, 4000, 64, false);
    mutex_stress(4, 100, 4000, 64, false);
    return 0;
}

Test(sync_stress, mutex_many_goroutines_few_ps, .timeout = 60) { gt_run(test_mutex_stress); }

/* Long critical sections: waiters wait > 1 ms, so starvation mode comes
 * and goes under load. */
static int test_mutex_starving_stress(int argc, char **argv)
{
    mutex_stress(2, 50, 200, 4, true);
    return 0;
}

Test(sync_stress, mutex_starvation_under_load, .timeout = 60) { gt_run(test_mutex_starving_stress); }

/* ---- RWMutex ---- */

typedef struct {
    sync_rwmutex_t rw;
    sync_waitgroup_t wg;
    long value;              /* written under the write lock only */
    _Atomic int readers, writers;
    _Atomic int violations;
    int iters;
} rwstress_t;

static void rw_worker(void *arg)
{
    rwstress_t *s = arg;
    for (int i = 0; i < s->iters; i++) {
        if (i % 10 == 0) {
            sync_rwmutex_lock(&s->rw);
            if (atomic_fetch_add(&s->writers, 1) != 0 || atomic_load(&s->readers) != 0)
                atomic_fetch_add(&s->violations, 1);
            long v = s->value;
            if (i % 20 == 0)
                runtime_gosched();
            s->value = v + 1;
            atomic_fetch_sub(&s->writers, 1);
            sync_rwmutex_unlock(&s->rw);
        } else {
            sync_rwmutex_rlock(&s->rw);
            atomic_fetch_add(&s->readers, 1);
            if (atomic_load(&s->writers) != 0)
                atomic_fetch_add(&s->violations, 1);
            if (i % 7 == 0)
                runtime_gosched();
            atomic_fetch_sub(&s->readers, 1);
            sync_rwmutex_runlock(&s->rw);
        }
    }
    sync_waitgroup_done(&s->wg);
}

static int test_rwmutex_stress(int argc, char **argv)
{
    int procs[3] = {1, 2, 4};
    for (int k = 0; k < 3; k++) {
        runtime_gomaxprocs(procs[k]);
        rwstress_t *s = gc_new(rwstress_t);
        s->iters = 5000;
        enum { NG = 100 };
        sync_waitgroup_add(&s->wg, NG);
        for (int i = 0; i < NG; i++)
            go(rw_worker, s);
        sync_waitgroup_wait(&s->wg);
        GT_CHECK(s->value == (long)NG * (s->iters / 10), "procs %d: value %ld",
                 procs[k], s->value);
        GT_CHECK(atomic_load(&s->violations) == 0, "procs %d: %d violations",
                 procs[k], atomic_load(&s->violations));
        GT_CHECK(s->rw.reader_count == 0 && s->rw.reader_wait == 0 && s->rw.w.state == 0,
                 "final state %d/%d/%d", s->rw.reader_count, s->rw.reader_wait, s->rw.w.state);
    }
    return 0;
}

Test(sync_stress, rwmutex_many_goroutines_few_ps, .timeout = 60) { gt_run(test_rwmutex_stress); }

/* ---- Cond: bounded queue, many producers and consumers ---- */

#define QCAP 4
typedef struct {
    sync_mutex_t mu;
    sync_cond_t notfull, notempty;
    int buf[QCAP];
    int head, len;
    long sum;
    int consumed;
    sync_waitgroup_t wg;
} queue_t;

enum { NPROD = 50, NCONS = 50, PER = 4000 };

static void producer(void *arg)
{
    queue_t *q = arg;
    for (int i = 1; i <= PER; i++) {
        sync_mutex_lock(&q->mu);
        while (q->len == QCAP)
            sync_cond_wait(&q->notfull);
        q->buf[(q->head + q->len++) % QCAP] = i;
        sync_cond_signal(&q->notempty);
        sync_mutex_unlock(&q->mu);
    }
    sync_waitgroup_done(&q->wg);
}

static void consumer(void *arg)
{
    queue_t *q = arg;
    for (int i = 0; i < PER; i++) {
        sync_mutex_lock(&q->mu);
        while (q->len == 0)
            sync_cond_wait(&q->notempty);
        q->sum += q->buf[q->head];
        q->head = (q->head + 1) % QCAP;
        q->len--;
        q->consumed++;
        /* Broadcast half the time: both paths must lose nothing. */
        if (i & 1)
            sync_cond_broadcast(&q->notfull);
        else
            sync_cond_signal(&q->notfull);
        sync_mutex_unlock(&q->mu);
    }
    sync_waitgroup_done(&q->wg);
}

static int test_cond_queue(int argc, char **argv)
{
    int procs[2] = {1, 2};
    for (int k = 0; k < 2; k++) {
        runtime_gomaxprocs(procs[k]);
        queue_t *q = gc_new(queue_t);
        q->notfull.l = &q->mu;
        q->notempty.l = &q->mu;
        sync_waitgroup_add(&q->wg, NPROD + NCONS);
        for (int i = 0; i < NPROD; i++) {
            go(producer, q);
            go(consumer, q);
        }
        sync_waitgroup_wait(&q->wg);
        GT_CHECK(q->consumed == NPROD * PER, "consumed %d", q->consumed);
        GT_CHECK(q->sum == (long)NPROD * PER * (PER + 1) / 2, "sum %ld", q->sum);
        GT_CHECK(q->notfull.wait == q->notfull.notify &&
                 q->notempty.wait == q->notempty.notify, "tickets left unnotified");
    }
    return 0;
}

Test(sync_stress, cond_queue_no_lost_wakeups, .timeout = 60) { gt_run(test_cond_queue); }

/* ---- WaitGroup: many rounds of fan-out / fan-in ---- */

typedef struct { sync_waitgroup_t start, done; _Atomic long n; } wgs_t;

static void wg_worker(void *arg)
{
    wgs_t *w = arg;
    sync_waitgroup_wait(&w->start);
    atomic_fetch_add(&w->n, 1);
    sync_waitgroup_done(&w->done);
}

static int test_waitgroup_stress(int argc, char **argv)
{
    runtime_gomaxprocs(2);
    for (int round = 0; round < 2000; round++) {
        wgs_t *w = gc_new(wgs_t);
        sync_waitgroup_add(&w->start, 1);
        sync_waitgroup_add(&w->done, 50);
        for (int i = 0; i < 50; i++)
            go(wg_worker, w);
        if (round & 1)
            runtime_gosched();
        sync_waitgroup_done(&w->start);  /* releases every waiter at once */
        sync_waitgroup_wait(&w->done);
        GT_CHECK(atomic_load(&w->n) == 50, "round %d: %ld", round, atomic_load(&w->n));
        if (atomic_load(&w->n) != 50)
            break;
    }
    return 0;
}

Test(sync_stress, waitgroup_rounds, .timeout = 60) { gt_run(test_waitgroup_stress); }

/* ---- thousands of waiters on one object ---- */

enum { NMANY = 10000 };

typedef struct {
    sync_mutex_t mu;
    sync_cond_t cond;
    sync_waitgroup_t gate, done;
    int woken;               /* under mu */
    bool go_;                /* under mu */
} many_t;

static void many_wg(void *arg)
{
    many_t *m = arg;
    sync_waitgroup_wait(&m->gate);
    sync_mutex_lock(&m->mu);
    m->woken++;
    sync_mutex_unlock(&m->mu);
    sync_waitgroup_done(&m->done);
}

static void many_cond(void *arg)
{
    many_t *m = arg;
    sync_mutex_lock(&m->mu);
    while (!m->go_)
        sync_cond_wait(&m->cond);
    m->woken++;
    sync_mutex_unlock(&m->mu);
    sync_waitgroup_done(&m->done);
}

static int test_many_waiters(int argc, char **argv)
{
    runtime_gomaxprocs(2);
    /* WaitGroup: one Done releases NMANY waiters */
    many_t *m = gc_new(many_t);
    sync_waitgroup_add(&m->gate, 1);
    sync_waitgroup_add(&m->done, NMANY);
    for (int i = 0; i < NMANY; i++)
        go(many_wg, m);
    for (int k = 0; k < 100000 && (uint32_t)__atomic_load_n(&m->gate.state, __ATOMIC_SEQ_CST) != NMANY; k++)
        time_sleep(100 * TIME_MICROSECOND);
    GT_CHECK((uint32_t)m->gate.state == NMANY, "%u waiters", (uint32_t)m->gate.state);
    sync_waitgroup_done(&m->gate);
    sync_waitgroup_wait(&m->done);
    GT_CHECK(m->woken == NMANY, "woken %d", m->woken);

    /* Cond: NMANY waiters, one Broadcast; the mutex queue gets long too */
    m = gc_new(many_t);
    m->cond.l = &m->mu;
    sync_waitgroup_add(&m->done, NMANY);
    for (int i = 0; i < NMANY; i++)
        go(many_cond, m);
    for (int k = 0; k < 100000; k++) {
        sync_mutex_lock(&m->mu);
        uint32_t waiting = m->cond.wait - m->cond.notify;
        sync_mutex_unlock(&m->mu);
        if (waiting == NMANY)
            break;
        time_sleep(100 * TIME_MICROSECOND);
    }
    sync_mutex_lock(&m->mu);
    GT_CHECK(m->cond.wait == NMANY, "%u cond waiters", m->cond.wait);
    m->go_ = true;
    sync_cond_broadcast(&m->cond);
    sync_mutex_unlock(&m->mu);
    sync_waitgroup_wait(&m->done);
    GT_CHECK(m->woken == NMANY, "woken %d", m->woken);
    GT_CHECK(m->mu.state == 0, "mutex state %d", m->mu.state);
    return 0;
}

Test(sync_stress, thousands_of_waiters, .timeout = 60)
{
    GT_SKIP_UNDER("thread", "TSan counts each live goroutine as a thread, at most "
                  "8128 at once, and this test keeps more");
    gt_run(test_many_waiters);
}
