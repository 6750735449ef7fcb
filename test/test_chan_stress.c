/*
 * test/test_chan_stress.c -- bounded stress of channels and select: many
 * goroutines send unique values through random multi-case selects (and
 * plain sends) over a mix of unbuffered and buffered channels, many others
 * receive them through selects over every channel plus a quit channel;
 * every value must arrive exactly once. Runs at
 * GOMAXPROCS 2 and 4, and once with a GC forced in the middle. Then
 * two-case selects on both sides of two channels, with their cases in
 * both orders (chan/select2.c: the lower channel only tried while the
 * higher one is held, the losing sudog unlinked after a wake-up).
 */
#include "helpers.h"
#include "chan_helpers.h"

#define NCHAN    8
#define SENDERS  16
#define RECVERS  16
#define PER      15000
#define TOTAL    (SENDERS * PER)

static chan_t *chans[NCHAN], *quit, *done;
static _Atomic uint8_t seen[TOTAL];
static _Atomic int64_t received, dups;

/* A small per-goroutine xorshift generator. */
static uint32_t rnd(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

static void sender(void *arg)
{
    int id = (int)(intptr_t)arg;
    uint32_t s = (uint32_t)id * 2654435761u + 1;
    for (int i = 0; i < PER; i++) {
        int64_t v = (int64_t)id * PER + i;
        if (rnd(&s) % 4 == 0) {
            chan_send(chans[rnd(&s) % NCHAN], &v);
            continue;
        }
        int n = 2 + (int)(rnd(&s) % 3);
        select_case_t cs[4];
        for (int k = 0; k < n; k++)
            cs[k] = (select_case_t){chans[rnd(&s) % NCHAN], SELECT_SEND, &v, false};
        int r = chan_select(cs, n, true);
        GT_CHECK(r >= 0 && r < n);
    }
    chan_send(done, NULL);
}

static void count(int64_t v)
{
    if (v < 0 || v >= TOTAL || atomic_fetch_add(&seen[v], 1) != 0)
        atomic_fetch_add(&dups, 1);
    if (atomic_fetch_add(&received, 1) + 1 == TOTAL)
        chan_close(quit);
}

/* Receives through selects over every data channel (in a random case
 * order) plus quit, so that no sender can wait forever on a channel no
 * receiver watches. */
static void receiver(void *arg)
{
    uint32_t s = (uint32_t)(intptr_t)arg * 40503u + 7;
    for (;;) {
        int64_t v = -1;
        select_case_t cs[NCHAN + 1];
        int off = (int)(rnd(&s) % NCHAN);
        for (int k = 0; k < NCHAN; k++)
            cs[k] = (select_case_t){chans[(k + off) % NCHAN], SELECT_RECV, &v, false};
        cs[NCHAN] = (select_case_t){quit, SELECT_RECV, NULL, false};
        int r = chan_select(cs, NCHAN + 1, true);
        if (r == NCHAN)
            break;                      /* quit closed: everything arrived */
        GT_CHECK(r >= 0 && cs[r].ok, "receive from a closed data channel");
        count(v);
    }
    chan_send(done, NULL);
}

static int run(bool gc)
{
    for (int i = 0; i < NCHAN; i++)
        GC_STORE(chans[i], chan_make(sizeof(int64_t), (size_t)(i % 3 == 0 ? 0 : i)));
    GC_STORE(quit, chan_make(0, 0));
    GC_STORE(done, chan_make(0, SENDERS + RECVERS));
    for (int i = 0; i < RECVERS; i++)
        go(receiver, (void *)(intptr_t)(i + 1));
    for (int i = 0; i < SENDERS; i++)
        go(sender, (void *)(intptr_t)i);
    if (gc) {
        time_sleep(2 * TIME_MILLISECOND);
        runtime_gc();
    }
    for (int i = 0; i < SENDERS + RECVERS; i++)
        chan_recv(done, NULL);
    GT_CHECK(atomic_load(&received) == TOTAL, "received %ld of %d",
             (long)atomic_load(&received), TOTAL);
    GT_CHECK(atomic_load(&dups) == 0, "%ld duplicates", (long)atomic_load(&dups));
    int missing = 0;
    for (int i = 0; i < TOTAL; i++)
        missing += atomic_load(&seen[i]) != 1;
    GT_CHECK(missing == 0, "%d values not received exactly once", missing);
    return 0;
}

static int main_p2(int argc, char **argv) { runtime_gomaxprocs(2); return run(false); }
static int main_p4(int argc, char **argv) { runtime_gomaxprocs(4); return run(false); }
static int main_p1(int argc, char **argv) { runtime_gomaxprocs(1); return run(false); }
static int main_gc(int argc, char **argv) { runtime_gomaxprocs(2); return run(true); }

Test(chan_stress, select_mix_gomaxprocs1, .timeout = 60) { gt_run(main_p1); }
Test(chan_stress, select_mix_gomaxprocs2, .timeout = 60) { gt_run(main_p2); }
Test(chan_stress, select_mix_gomaxprocs4, .timeout = 60) { gt_run(main_p4); }
Test(chan_stress, select_mix_with_gc, .timeout = 60) { gt_run(main_gc); }

/* ---- two-case selects on both sides ------------------------------------ */

#define PAIR_GS   4
#define PAIR_PER  20000

static chan_t *pa, *pb, *pdone;
static _Atomic int64_t pair_sum, pair_count;

/* Sends its PAIR_PER values through selects {a, b} or {b, a}. */
static void pair_sender(void *arg)
{
    int id = (int)(intptr_t)arg;
    for (int i = 0; i < PAIR_PER; i++) {
        int64_t v = (int64_t)id * PAIR_PER + i + 1;
        select_case_t cs[2] = {{pa, SELECT_SEND, &v, false}, {pb, SELECT_SEND, &v, false}};
        if ((i + id) & 1) {
            cs[0].c = pb;
            cs[1].c = pa;
        }
        GT_CHECK(chan_select(cs, 2, true) >= 0);
    }
    chan_send(pdone, NULL);
}

/* Receives PAIR_PER values through selects {a, b} or {b, a}. */
static void pair_receiver(void *arg)
{
    int id = (int)(intptr_t)arg;
    for (int i = 0; i < PAIR_PER; i++) {
        int64_t v = 0;
        select_case_t cs[2] = {{pb, SELECT_RECV, &v, false}, {pa, SELECT_RECV, &v, false}};
        if ((i + id) & 1) {
            cs[0].c = pa;
            cs[1].c = pb;
        }
        int r = chan_select(cs, 2, true);
        GT_CHECK(r >= 0 && cs[r].ok && v > 0);
        atomic_fetch_add(&pair_sum, v);
        atomic_fetch_add(&pair_count, 1);
    }
    chan_send(pdone, NULL);
}

static int run_pairs(int procs, size_t cap)
{
    runtime_gomaxprocs(procs);
    GC_STORE(pa, chan_make(sizeof(int64_t), cap));
    GC_STORE(pb, chan_make(sizeof(int64_t), cap));
    GC_STORE(pdone, chan_make(0, 2 * PAIR_GS));
    atomic_store(&pair_sum, 0);
    atomic_store(&pair_count, 0);
    for (int i = 0; i < PAIR_GS; i++) {
        go(pair_sender, (void *)(intptr_t)i);
        go(pair_receiver, (void *)(intptr_t)i);
    }
    for (int i = 0; i < 2 * PAIR_GS; i++)
        chan_recv(pdone, NULL);
    int64_t n = (int64_t)PAIR_GS * PAIR_PER;
    GT_CHECK(atomic_load(&pair_count) == n);
    GT_CHECK(atomic_load(&pair_sum) == n * (n + 1) / 2, "sum %ld", (long)atomic_load(&pair_sum));
    /* nothing is left queued on either channel */
    int64_t v = 0;
    select_case_t cs[2] = {{pa, SELECT_RECV, &v, false}, {pb, SELECT_RECV, &v, false}};
    GT_CHECK(chan_select(cs, 2, false) == -1);
    cs[0].dir = cs[1].dir = SELECT_SEND;
    GT_CHECK(cap > 0 || chan_select(cs, 2, false) == -1);
    return 0;
}

static int main_pairs_p2(int argc, char **argv) { return run_pairs(2, 0); }
static int main_pairs_p4(int argc, char **argv) { return run_pairs(4, 0); }
static int main_pairs_buf(int argc, char **argv) { return run_pairs(2, 3); }

Test(chan_stress, select2_pairs_gomaxprocs2, .timeout = 60) { gt_run(main_pairs_p2); }
Test(chan_stress, select2_pairs_gomaxprocs4, .timeout = 60) { gt_run(main_pairs_p4); }
Test(chan_stress, select2_pairs_buffered, .timeout = 60) { gt_run(main_pairs_buf); }
