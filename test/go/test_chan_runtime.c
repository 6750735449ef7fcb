/*
 * test/go/test_chan_runtime.c -- ports of the tests of Go 1.19's
 * src/runtime/chan_test.go that apply to gort, with their checks:
 * TestChan, TestNonblockRecvRace, TestNonblockSelectRace(2),
 * TestSelfSelect, TestSelectStress, TestSelectFairness,
 * TestChanSendInterface, TestPseudoRandomSend, TestMultiConsumer and
 * TestSelectDuplicateChannel.
 * Not ported: TestShrinkStackDuringBlockedSend, TestNoShrinkStackWhile-
 * Parking and TestSelectStackAdjust (gort stacks never move or shrink).
 * sync.WaitGroup is replaced by a "done" channel so that these tests depend
 * on channels only.
 */
#include <math.h>

#include "helpers.h"
#include "chan_helpers.h"

typedef int64_t gint;

static chan_t *mk(size_t cap) { return chan_make(sizeof(gint), cap); }
static void snd(chan_t *c, gint v) { chan_send(c, &v); }
static gint rcv(chan_t *c) { gint v = 0; chan_recv(c, &v); return v; }
static void done_wait(chan_t *done, int n) { for (int i = 0; i < n; i++) chan_recv(done, NULL); }
static void done_one(chan_t *done) { chan_send(done, NULL); }

/* ------------------------------------------------------------------ */
/* TestChan                                                            */
/* ------------------------------------------------------------------ */

typedef struct { chan_t *c, *done; _Atomic int flag; int n; bool two; } tc_t;

static void tc_recv_flag(void *arg)
{
    tc_t *t = arg;
    if (t->two) {
        gint v;
        chan_recv2(t->c, &v);
    } else {
        chan_recv(t->c, NULL);
    }
    atomic_store(&t->flag, 1);
}

static void tc_send_flag(void *arg)
{
    tc_t *t = arg;
    snd(t->c, 0);
    atomic_store(&t->flag, 1);
}

static void tc_recv_closed(void *arg)
{
    tc_t *t = arg;
    gint v = 5;
    bool ok = chan_recv2(t->c, &v);
    bool r = v == 0 && !ok;
    chan_send(t->done, &r);
}

static void tc_send_n(void *arg)
{
    tc_t *t = arg;
    for (gint i = 0; i < t->n; i++)
        snd(t->c, i);
}

#define TC_P 4
#define TC_L 1000

static void tc_recv_count(void *arg)
{
    tc_t *t = arg;
    int *recv = calloc(TC_L, sizeof *recv);
    for (int i = 0; i < TC_L; i++) {
        gint v = rcv(t->c);
        if (v >= 0 && v < TC_L)
            recv[v]++;
        else
            GT_CHECK(0, "received %ld", (long)v);
    }
    chan_send(t->done, &recv);
}

static int main_test_chan(int argc, char **argv)
{
    runtime_gomaxprocs(4);
    const int N = 200;
    for (int cap = 0; cap < N; cap++) {
        {   /* receive from empty chan blocks */
            tc_t *a = GT_NEW(tc_t, .c = mk(cap)), *b = GT_NEW(tc_t, .c = a->c, .two = true);
            go(tc_recv_flag, a);
            go(tc_recv_flag, b);
            time_sleep(TIME_MILLISECOND);
            GT_CHECK(!atomic_load(&a->flag) && !atomic_load(&b->flag),
                     "chan[%d]: receive from empty chan", cap);
            select_case_t sc = {a->c, SELECT_RECV, NULL, false};
            GT_CHECK(chan_select(&sc, 1, false) == -1, "chan[%d]: receive from empty chan", cap);
            snd(a->c, 0);
            snd(a->c, 0);
        }
        {   /* send to full chan blocks */
            tc_t *a = GT_NEW(tc_t, .c = mk(cap));
            for (int i = 0; i < cap; i++)
                snd(a->c, i);
            go(tc_send_flag, a);
            time_sleep(TIME_MILLISECOND);
            GT_CHECK(!atomic_load(&a->flag), "chan[%d]: send to full chan", cap);
            gint z = 0;
            select_case_t sc = {a->c, SELECT_SEND, &z, false};
            GT_CHECK(chan_select(&sc, 1, false) == -1, "chan[%d]: send to full chan", cap);
            rcv(a->c);
        }
        {   /* receive 0 from closed chan */
            chan_t *c = mk(cap);
            for (int i = 0; i < cap; i++)
                snd(c, i);
            chan_close(c);
            for (int i = 0; i < cap; i++) {
                gint v = rcv(c);
                GT_CHECK(v == i, "chan[%d]: received %ld, expected %d", cap, (long)v, i);
            }
            GT_CHECK(rcv(c) == 0, "chan[%d]: expected 0", cap);
            gint v = 3;
            bool ok = chan_recv2(c, &v);
            GT_CHECK(v == 0 && !ok, "chan[%d]: received %ld/%d, expected 0/false", cap, (long)v, ok);
        }
        {   /* close unblocks receive */
            tc_t *a = GT_NEW(tc_t, .c = mk(cap), .done = chan_make(sizeof(bool), 0));
            go(tc_recv_closed, a);
            time_sleep(TIME_MILLISECOND);
            chan_close(a->c);
            bool r = false;
            chan_recv(a->done, &r);
            GT_CHECK(r, "chan[%d]: received non zero from closed chan", cap);
        }
        {   /* 100 integers in FIFO order, with recv and recv2 */
            tc_t *a = GT_NEW(tc_t, .c = mk(cap), .n = 100);
            go(tc_send_n, a);
            for (int i = 0; i < 100; i++) {
                gint v = rcv(a->c);
                GT_CHECK(v == i, "chan[%d]: received %ld, expected %d", cap, (long)v, i);
            }
            go(tc_send_n, a);
            for (int i = 0; i < 100; i++) {
                gint v = -1;
                bool ok = chan_recv2(a->c, &v);
                GT_CHECK(ok, "chan[%d]: receive failed, expected %d", cap, i);
                GT_CHECK(v == i, "chan[%d]: received %ld, expected %d", cap, (long)v, i);
            }
            /* 1000 integers from 4 goroutines to 4 goroutines (a new
             * tc_t: the senders above may still be reading a->n) */
            a = GT_NEW(tc_t, .c = a->c, .n = TC_L, .done = chan_make(sizeof(int *), 0));
            for (int p = 0; p < TC_P; p++)
                go(tc_send_n, a);
            for (int p = 0; p < TC_P; p++)
                go(tc_recv_count, a);
            int total[TC_L] = {0};
            for (int p = 0; p < TC_P; p++) {
                int *recv = NULL;
                chan_recv(a->done, &recv);
                for (int k = 0; k < TC_L; k++)
                    total[k] += recv[k];
                free(recv);
            }
            int bad = 0;
            for (int k = 0; k < TC_L; k++)
                bad += total[k] != TC_P;
            GT_CHECK(bad == 0, "chan[%d]: %d values not received %d times", cap, bad, TC_P);
        }
        {   /* len/cap */
            chan_t *c = mk(cap);
            GT_CHECK(chan_len(c) == 0 && chan_cap(c) == (size_t)cap, "chan[%d]: bad len/cap", cap);
            for (int i = 0; i < cap; i++)
                snd(c, i);
            GT_CHECK(chan_len(c) == (size_t)cap && chan_cap(c) == (size_t)cap,
                     "chan[%d]: bad len/cap", cap);
        }
    }
    return 0;
}

Test(go_chan_runtime, TestChan, .timeout = 60) { gt_run(main_test_chan); }

/* ------------------------------------------------------------------ */
/* TestNonblockRecvRace                                                */
/* ------------------------------------------------------------------ */

static _Atomic int nrr_fail;

static void nrr_fn(void *c)
{
    select_case_t sc = {c, SELECT_RECV, NULL, false};
    if (chan_select(&sc, 1, false) != 0)
        atomic_store(&nrr_fail, 1);
}

static int main_nonblock_recv_race(int argc, char **argv)
{
    for (int i = 0; i < 10000 && !atomic_load(&nrr_fail); i++) {
        chan_t *c = mk(1);
        snd(c, 1);
        go(nrr_fn, c);
        chan_close(c);
        rcv(c);
    }
    GT_CHECK(!atomic_load(&nrr_fail), "chan is not ready");
    return 0;
}

Test(go_chan_runtime, TestNonblockRecvRace, .timeout = 30) { gt_run(main_nonblock_recv_race); }

/* ------------------------------------------------------------------ */
/* TestNonblockSelectRace, TestNonblockSelectRace2                     */
/* ------------------------------------------------------------------ */

typedef struct { chan_t *c1, *c2, *done; } nsr_t;

static void nsr_fn(void *arg)
{
    nsr_t *t = arg;
    select_case_t cs[2] = {{t->c1, SELECT_RECV, NULL, false}, {t->c2, SELECT_RECV, NULL, false}};
    bool r = chan_select(cs, 2, false) >= 0;
    chan_send(t->done, &r);
}

static int nonblock_select_race(bool use_close)
{
    runtime_gomaxprocs(2);
    chan_t *done = chan_make(sizeof(bool), 1);
    for (int i = 0; i < 100000; i++) {
        nsr_t *t = GT_NEW(nsr_t, mk(1), mk(use_close ? 0 : 1), done);
        snd(t->c1, 1);
        go(nsr_fn, t);
        if (use_close)
            chan_close(t->c2);
        else
            snd(t->c2, 1);
        select_case_t sc = {t->c1, SELECT_RECV, NULL, false};
        chan_select(&sc, 1, false);
        bool r = false;
        chan_recv(done, &r);
        if (!r) {
            GT_CHECK(r, "no chan is ready (iteration %d)", i);
            break;
        }
    }
    return 0;
}

static int main_nsr1(int argc, char **argv) { return nonblock_select_race(false); }
static int main_nsr2(int argc, char **argv) { return nonblock_select_race(true); }

Test(go_chan_runtime, TestNonblockSelectRace, .timeout = 60) { gt_run(main_nsr1); }
Test(go_chan_runtime, TestNonblockSelectRace2, .timeout = 60) { gt_run(main_nsr2); }

/* ------------------------------------------------------------------ */
/* TestSelfSelect                                                      */
/* ------------------------------------------------------------------ */

typedef struct { chan_t *c, *done; gint p; int cap; } ss_t;

static void ss_fn(void *arg)
{
    ss_t *t = arg;
    for (int i = 0; i < 1000; i++) {
        gint v = -1, p = t->p;
        select_case_t cs[2];
        int recv_idx;
        if (t->p == 0 || i % 2 == 0) {
            cs[0] = (select_case_t){t->c, SELECT_SEND, &p, false};
            cs[1] = (select_case_t){t->c, SELECT_RECV, &v, false};
            recv_idx = 1;
        } else {
            cs[0] = (select_case_t){t->c, SELECT_RECV, &v, false};
            cs[1] = (select_case_t){t->c, SELECT_SEND, &p, false};
            recv_idx = 0;
        }
        int r = chan_select(cs, 2, true);
        if (r == recv_idx && t->cap == 0 && v == t->p) {
            GT_CHECK(0, "self receive");
            break;
        }
    }
    done_one(t->done);
}

static int main_self_select(int argc, char **argv)
{
    runtime_gomaxprocs(2);
    int caps[] = {0, 10};
    for (int k = 0; k < 2; k++) {
        chan_t *c = mk(caps[k]), *done = chan_make(0, 0);
        for (gint p = 0; p < 2; p++)
            go(ss_fn, GT_NEW(ss_t, c, done, p, caps[k]));
        done_wait(done, 2);
    }
    return 0;
}

Test(go_chan_runtime, TestSelfSelect, .timeout = 30) { gt_run(main_self_select); }

/* ------------------------------------------------------------------ */
/* TestSelectStress                                                    */
/* ------------------------------------------------------------------ */

#define STRESS_N 100000
static chan_t *st_c[4], *st_done;

static void st_sender(void *arg)
{
    int k = (int)(intptr_t)arg;
    for (int i = 0; i < STRESS_N; i++)
        snd(st_c[k], 0);
    done_one(st_done);
}

static void st_receiver(void *arg)
{
    int k = (int)(intptr_t)arg;
    for (int i = 0; i < STRESS_N; i++)
        rcv(st_c[k]);
    done_one(st_done);
}

static void st_select_sender(void *arg)
{
    int n[4] = {0};
    chan_t *c1[4] = {st_c[0], st_c[1], st_c[2], st_c[3]};
    static const int order[4] = {3, 2, 0, 1};   /* the Go source's case order */
    gint z = 0;
    for (int i = 0; i < 4 * STRESS_N; i++) {
        select_case_t cs[4];
        for (int j = 0; j < 4; j++)
            cs[j] = (select_case_t){c1[order[j]], SELECT_SEND, &z, false};
        int r = chan_select(cs, 4, true);
        int k = order[r];
        if (++n[k] == STRESS_N)
            c1[k] = NULL;
    }
    done_one(st_done);
}

static void st_select_receiver(void *arg)
{
    int n[4] = {0};
    chan_t *c1[4] = {st_c[0], st_c[1], st_c[2], st_c[3]};
    for (int i = 0; i < 4 * STRESS_N; i++) {
        select_case_t cs[4];
        for (int j = 0; j < 4; j++)
            cs[j] = (select_case_t){c1[j], SELECT_RECV, NULL, false};
        int k = chan_select(cs, 4, true);
        if (++n[k] == STRESS_N)
            c1[k] = NULL;
    }
    done_one(st_done);
}

static int main_select_stress(int argc, char **argv)
{
    runtime_gomaxprocs(10);
    GC_STORE(st_c[0], mk(0));
    GC_STORE(st_c[1], mk(0));
    GC_STORE(st_c[2], mk(2));
    GC_STORE(st_c[3], mk(3));
    GC_STORE(st_done, chan_make(0, 0));
    for (int k = 0; k < 4; k++) {
        go(st_sender, (void *)(intptr_t)k);
        go(st_receiver, (void *)(intptr_t)k);
    }
    go(st_select_sender, NULL);
    go(st_select_receiver, NULL);
    done_wait(st_done, 10);
    return 0;
}

Test(go_chan_runtime, TestSelectStress, .timeout = 60) { gt_run(main_select_stress); }

/* ------------------------------------------------------------------ */
/* TestSelectFairness                                                  */
/* ------------------------------------------------------------------ */

#define FAIR_TRIALS 10000
typedef struct { chan_t *c1, *c2, *c3, *c4, *out, *done, *wg; } sf_t;

static void sf_fn(void *arg)
{
    sf_t *t = arg;
    for (;;) {
        uint8_t b = 0;
        select_case_t cs[4] = {{t->c3, SELECT_RECV, &b, false}, {t->c4, SELECT_RECV, &b, false},
                               {t->c1, SELECT_RECV, &b, false}, {t->c2, SELECT_RECV, &b, false}};
        chan_select(cs, 4, true);
        select_case_t cs2[2] = {{t->out, SELECT_SEND, &b, false}, {t->done, SELECT_RECV, NULL, false}};
        if (chan_select(cs2, 2, true) == 1)
            break;
    }
    done_one(t->wg);
}

static int main_select_fairness(int argc, char **argv)
{
    sf_t *t = GT_NEW(sf_t, chan_make(1, FAIR_TRIALS + 1), chan_make(1, FAIR_TRIALS + 1),
                     chan_make(1, 0), chan_make(1, 0), chan_make(1, 0), chan_make(1, 0),
                     chan_make(0, 0));
    for (int i = 0; i < FAIR_TRIALS + 1; i++) {
        uint8_t one = 1, two = 2;
        chan_send(t->c1, &one);
        chan_send(t->c2, &two);
    }
    go(sf_fn, t);
    int cnt1 = 0, cnt2 = 0;
    for (int i = 0; i < FAIR_TRIALS; i++) {
        uint8_t b = 0;
        chan_recv(t->out, &b);
        if (b == 1) cnt1++;
        else if (b == 2) cnt2++;
        else GT_CHECK(0, "unexpected value %d on channel", b);
    }
    const double mean = FAIR_TRIALS * 0.5, variance = FAIR_TRIALS * 0.5 * (1 - 0.5);
    double stddev = sqrt(variance);
    GT_CHECK(fabs(cnt1 - mean) <= 10 * stddev,
             "unfair select: in %d trials, results were %d, %d", FAIR_TRIALS, cnt1, cnt2);
    chan_close(t->done);
    done_wait(t->wg, 1);
    return 0;
}

Test(go_chan_runtime, TestSelectFairness, .timeout = 30) { gt_run(main_select_fairness); }

/* ------------------------------------------------------------------ */
/* TestChanSendInterface                                               */
/* ------------------------------------------------------------------ */

static int main_send_interface(int argc, char **argv)
{
    void *m = gc_alloc(1);
    chan_t *c = chan_make(sizeof(void *), 1);
    chan_send(c, &m);
    select_case_t s1 = {c, SELECT_SEND, &m, false};
    GT_CHECK(chan_select(&s1, 1, false) == -1);
    void *m2 = gc_alloc(1);
    select_case_t s2[2] = {{c, SELECT_SEND, &m, false}, {c, SELECT_SEND, &m2, false}};
    GT_CHECK(chan_select(s2, 2, false) == -1);
    return 0;
}

Test(go_chan_runtime, TestChanSendInterface) { gt_run(main_send_interface); }

/* ------------------------------------------------------------------ */
/* TestPseudoRandomSend                                                */
/* ------------------------------------------------------------------ */

#define PRS_N 100
typedef struct { chan_t *c, *done; gint *l; } prs_t;

static void prs_fn(void *arg)
{
    prs_t *t = arg;
    for (int i = 0; i < PRS_N; i++) {
        runtime_gosched();
        t->l[i] = rcv(t->c);
    }
    done_one(t->done);
}

static int main_pseudo_random_send(int argc, char **argv)
{
    int caps[] = {0, PRS_N};
    for (int k = 0; k < 2; k++) {
        prs_t *t = GT_NEW(prs_t, mk(caps[k]), chan_make(0, 0), calloc(PRS_N, sizeof(gint)));
        go(prs_fn, t);
        for (int i = 0; i < PRS_N; i++) {
            gint one = 1, zero = 0;
            select_case_t cs[2] = {{t->c, SELECT_SEND, &one, false}, {t->c, SELECT_SEND, &zero, false}};
            chan_select(cs, 2, true);
        }
        done_wait(t->done, 1);
        int n0 = 0, n1 = 0;
        for (int i = 0; i < PRS_N; i++) {
            n0 += (int)((t->l[i] + 1) % 2);
            n1 += (int)t->l[i];
        }
        GT_CHECK(n0 > PRS_N / 10 && n1 > PRS_N / 10,
                 "Want pseudorandom, got %d zeros and %d ones (chan cap %d)", n0, n1, caps[k]);
        free(t->l);
    }
    return 0;
}

Test(go_chan_runtime, TestPseudoRandomSend) { gt_run(main_pseudo_random_send); }

/* ------------------------------------------------------------------ */
/* TestMultiConsumer                                                   */
/* ------------------------------------------------------------------ */

#define MC_NWORK 23
#define MC_NITER 271828
static const gint mc_pn[] = {2, 3, 7, 11, 13, 17, 19, 23, 27, 31};
#define MC_NPN ((int)(sizeof mc_pn / sizeof mc_pn[0]))
static chan_t *mc_q, *mc_r, *mc_wg;
static gint mc_expect;

static void mc_worker(void *arg)
{
    int w = (int)(intptr_t)arg;
    gint v;
    while (chan_recv2(mc_q, &v)) {
        if (mc_pn[w % MC_NPN] == v)
            runtime_gosched();
        snd(mc_r, v);
    }
    done_one(mc_wg);
}

static void mc_feeder(void *arg)
{
    for (int i = 0; i < MC_NITER; i++) {
        gint v = mc_pn[i % MC_NPN];
        mc_expect += v;
        snd(mc_q, v);
    }
    chan_close(mc_q);
    done_wait(mc_wg, MC_NWORK);
    chan_close(mc_r);
}

static int main_multi_consumer(int argc, char **argv)
{
    GC_STORE(mc_q, mk(MC_NWORK * 3));
    GC_STORE(mc_r, mk(MC_NWORK * 3));
    GC_STORE(mc_wg, chan_make(0, 0));
    for (int i = 0; i < MC_NWORK; i++)
        go(mc_worker, (void *)(intptr_t)i);
    go(mc_feeder, NULL);
    int n = 0;
    gint s = 0, v;
    while (chan_recv2(mc_r, &v)) {
        n++;
        s += v;
    }
    GT_CHECK(n == MC_NITER && s == mc_expect, "Expected sum %ld (got %ld) from %d iter (saw %d)",
             (long)mc_expect, (long)s, MC_NITER, n);
    return 0;
}

Test(go_chan_runtime, TestMultiConsumer, .timeout = 30) { gt_run(main_multi_consumer); }

static int main_multi_consumer_p2(int argc, char **argv)
{
    runtime_gomaxprocs(2);
    return main_multi_consumer(argc, argv);
}

Test(go_chan_runtime, TestMultiConsumer_gomaxprocs2, .timeout = 30) { gt_run(main_multi_consumer_p2); }

/* ------------------------------------------------------------------ */
/* TestSelectDuplicateChannel                                          */
/* ------------------------------------------------------------------ */

static chan_t *dc_c, *dc_d, *dc_e;

static void dc_a(void *arg)
{
    select_case_t cs[3] = {{dc_c, SELECT_RECV, NULL, false}, {dc_c, SELECT_RECV, NULL, false},
                           {dc_d, SELECT_RECV, NULL, false}};
    chan_select(cs, 3, true);
    snd(dc_e, 9);
}

static void dc_b(void *arg) { rcv(dc_c); }

static int main_select_duplicate(int argc, char **argv)
{
    GC_STORE(dc_c, mk(0));
    GC_STORE(dc_d, mk(0));
    GC_STORE(dc_e, mk(0));
    go(dc_a, NULL);
    time_sleep(TIME_MILLISECOND);
    go(dc_b, NULL);
    time_sleep(TIME_MILLISECOND);
    snd(dc_d, 7);
    rcv(dc_e);
    snd(dc_c, 8);
    return 0;
}

Test(go_chan_runtime, TestSelectDuplicateChannel) { gt_run(main_select_duplicate); }
