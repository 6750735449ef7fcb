/*
 * test/test_context.c -- the context package, after Go 1.19's
 * context_test.go: Background and TODO, cancel propagation through value
 * contexts, a parent finishing its children and a child leaving its
 * parent, deadlines and timeouts (nested, later than the parent's,
 * already past), cancelling a timeout early, values, simultaneous and
 * interlocked cancels, layered cancels and timeouts, flat memory and
 * goroutine counts over many WithCancel+cancel pairs, and 10,000
 * goroutines woken by one cancel.
 */
#include "helpers.h"
#include "../chan/internal.h"

#define SHORT (20 * TIME_MILLISECOND)
#define LONG  (10 * TIME_SECOND)

/* Whether Done is closed now (a select with default). */
static bool is_done(context_t *ctx)
{
    chan_t *d = context_done(ctx);
    return d && chan_try_recv(d, NULL, NULL);
}

/* Waits for Done at most ns; true if it closed. */
static bool wait_done(context_t *ctx, int64_t ns)
{
    chan_t *t = time_after(ns);
    select_case_t cs[2] = {{context_done(ctx), SELECT_RECV, NULL, false},
                           {t, SELECT_RECV, NULL, false}};
    return chan_select(cs, 2, true) == 0;
}

static int main_background(int argc, char **argv)
{
    context_t *b = context_background(), *t = context_todo();
    GT_CHECK(b != NULL && t != NULL && b != t);
    GT_CHECK(context_done(b) == NULL && context_done(t) == NULL);
    GT_CHECK(context_err(b) == NULL && context_err(t) == NULL);
    GT_CHECK(!context_deadline(b, NULL));
    GT_CHECK(context_value(b, &b) == NULL);
    context_cancel(b);                    /* not cancelable: nothing */
    context_t *v = context_with_value(b, &b, &t);
    GT_CHECK(context_done(v) == NULL, "a value context over Background");
    context_cancel(v);
    GT_CHECK(context_err(v) == NULL);
    GT_CHECK(strcmp(context_canceled, "context canceled") == 0);
    GT_CHECK(strcmp(context_deadline_exceeded, "context deadline exceeded") == 0);
    return 0;
}
Test(context, background_todo) { gt_run(main_background); }

static int k1, k2, k3;

/* TestWithCancel: cancel of the root reaches through value contexts. */
static int main_with_cancel(int argc, char **argv)
{
    context_t *c1 = context_with_cancel(context_background());
    context_t *o = context_with_value(c1, &k1, &k1);
    context_t *c2 = context_with_cancel(o);
    context_t *o2 = context_with_value(c2, &k2, &k2);
    context_t *all[] = {c1, o, c2, o2};
    for (int i = 0; i < 4; i++) {
        GT_CHECK(context_done(all[i]) != NULL, "%d", i);
        GT_CHECK(!is_done(all[i]) && context_err(all[i]) == NULL, "%d", i);
    }
    GT_CHECK(context_done(o) == context_done(c1));
    context_cancel(c1);
    for (int i = 0; i < 4; i++) {
        GT_CHECK(is_done(all[i]), "%d not done", i);
        GT_CHECK(context_err(all[i]) == context_canceled, "%d", i);
    }
    context_cancel(c1);                   /* later calls do nothing */
    context_cancel(c2);
    GT_CHECK(context_err(c2) == context_canceled);
    return 0;
}
Test(context, with_cancel_propagates) { gt_run(main_with_cancel); }

/* TestParentFinishesChild and TestChildFinishesFirst. */
static int main_parent_child(int argc, char **argv)
{
    context_t *parent = context_with_cancel(context_background());
    context_t *cancel_child = context_with_cancel(parent);
    context_t *value_child = context_with_value(parent, &k1, &k1);
    context_t *timer_child = context_with_timeout(value_child, LONG);
    GT_CHECK(chan__context_nchildren(parent) == 2, "%ld",
             (long)chan__context_nchildren(parent));
    context_cancel(parent);
    GT_CHECK(chan__context_nchildren(parent) == 0);
    context_t *all[] = {parent, cancel_child, value_child, timer_child};
    for (int i = 0; i < 4; i++)
        GT_CHECK(is_done(all[i]) && context_err(all[i]) == context_canceled, "%d", i);
    /* A child of a cancelled parent is cancelled at once, never linked. */
    context_t *late = context_with_cancel(parent);
    GT_CHECK(context_err(late) == context_canceled && is_done(late));
    GT_CHECK(chan__context_nchildren(parent) == 0);

    context_t *p2 = context_with_cancel(context_background());
    context_t *ch = context_with_cancel(p2);
    GT_CHECK(chan__context_nchildren(p2) == 1);
    context_cancel(ch);
    GT_CHECK(chan__context_nchildren(p2) == 0, "child removed itself");
    GT_CHECK(!is_done(p2) && context_err(p2) == NULL);
    context_cancel(p2);
    return 0;
}
Test(context, parent_and_child_finish) { gt_run(main_parent_child); }

/* TestDeadline and TestTimeout, nested under value contexts. */
static int main_deadline(int argc, char **argv)
{
    int64_t t0 = time_now();
    context_t *c = context_with_deadline(context_background(), t0 + SHORT);
    int64_t d;
    GT_CHECK(context_deadline(c, &d) && d == t0 + SHORT);
    GT_CHECK(wait_done(c, LONG) && context_err(c) == context_deadline_exceeded);
    GT_CHECK(time_now() - t0 >= SHORT);

    context_t *o = context_with_value(context_background(), &k1, &k1);
    c = context_with_deadline(o, time_now() + SHORT);
    context_t *c2 = context_with_deadline(c, time_now() + 4 * TIME_SECOND);
    int64_t d1, d2;
    GT_CHECK(context_deadline(c, &d1) && context_deadline(c2, &d2) && d1 == d2,
             "a later deadline gives the parent's");
    GT_CHECK(wait_done(c2, LONG) && context_err(c2) == context_deadline_exceeded);

    c = context_with_timeout(context_background(), SHORT);
    GT_CHECK(wait_done(c, LONG) && context_err(c) == context_deadline_exceeded);
    c = context_with_timeout(context_with_value(c, &k2, &k2), LONG);
    GT_CHECK(is_done(c) && context_err(c) == context_deadline_exceeded);

    c = context_with_deadline(context_background(), time_now() - 1);
    GT_CHECK(is_done(c) && context_err(c) == context_deadline_exceeded, "past deadline");
    c = context_with_timeout(context_background(), 0);
    GT_CHECK(is_done(c) && context_err(c) == context_deadline_exceeded);
    c = context_with_timeout(context_background(), INT64_MAX);
    GT_CHECK(!is_done(c) && context_deadline(c, &d) && d == INT64_MAX);
    context_cancel(c);
    return 0;
}
Test(context, deadline_and_timeout, .timeout = 30) { gt_run(main_deadline); }

/* TestCanceledTimeout: an early cancel wins over the timer, and the
 * timer goes with it. */
static int main_cancel_timeout(int argc, char **argv)
{
    context_t *p = context_with_timeout(context_background(), TIME_SECOND);
    context_t *o = context_with_value(p, &k1, &k1);
    context_t *c = context_with_timeout(o, 2 * TIME_SECOND);
    int64_t t0 = time_now();
    context_cancel(c);
    GT_CHECK(wait_done(c, TIME_SECOND) && time_now() - t0 < TIME_SECOND / 2);
    GT_CHECK(context_err(c) == context_canceled);
    GT_CHECK(context_err(p) == NULL && chan__context_nchildren(p) == 0);
    context_cancel(p);
    GT_CHECK(context_err(p) == context_canceled);
    return 0;
}
Test(context, cancelled_timeout) { gt_run(main_cancel_timeout); }

/* TestValues: nearest key wins; other keys pass through. */
static int main_values(int argc, char **argv)
{
    context_t *c0 = context_background();
    context_t *c1 = context_with_value(c0, &k1, "c1k1");
    context_t *c2 = context_with_value(c1, &k2, "c2k2");
    context_t *c3 = context_with_value(c2, &k3, "c3k3");
    context_t *c4 = context_with_value(c3, &k1, NULL);
    context_t *c5 = context_with_cancel(c2);
    GT_CHECK(context_value(c0, &k1) == NULL);
    GT_CHECK(strcmp(context_value(c1, &k1), "c1k1") == 0 && !context_value(c1, &k2));
    GT_CHECK(strcmp(context_value(c3, &k1), "c1k1") == 0);
    GT_CHECK(strcmp(context_value(c3, &k2), "c2k2") == 0);
    GT_CHECK(strcmp(context_value(c3, &k3), "c3k3") == 0);
    GT_CHECK(context_value(c4, &k1) == NULL, "shadowed by NULL");
    GT_CHECK(strcmp(context_value(c4, &k3), "c3k3") == 0);
    GT_CHECK(strcmp(context_value(c5, &k2), "c2k2") == 0 && !context_value(c5, &k3));
    context_cancel(c5);
    GT_CHECK(strcmp(context_value(c5, &k1), "c1k1") == 0, "values survive cancel");
    return 0;
}
Test(context, values) { gt_run(main_values); }

#define SIM_N 100
static context_t *sim_ctx[SIM_N];
static sync_waitgroup_t sim_wg;

static void sim_cancel(void *arg)
{
    context_cancel(arg);
    sync_waitgroup_done(&sim_wg);
}

/* TestSimultaneousCancels: a tree of 100, every cancel from its own
 * goroutine at once. */
static int main_simultaneous(int argc, char **argv)
{
    runtime_gomaxprocs(2);
    GC_STORE(sim_ctx[0], context_with_cancel(context_background()));
    for (int i = 1; i < SIM_N; i++)
        GC_STORE(sim_ctx[i], context_with_cancel(sim_ctx[(i - 1) / 4]));
    sync_waitgroup_add(&sim_wg, SIM_N);
    for (int i = SIM_N - 1; i >= 0; i--)
        go(sim_cancel, sim_ctx[(i * 37) % SIM_N]);
    for (int i = 0; i < SIM_N; i++)
        GT_CHECK(wait_done(sim_ctx[i], LONG), "%d stuck", i);
    sync_waitgroup_wait(&sim_wg);
    for (int i = 0; i < SIM_N; i++) {
        GT_CHECK(chan__context_nchildren(sim_ctx[i]) == 0);
        GC_STORE(sim_ctx[i], NULL);
    }
    return 0;
}
Test(context, simultaneous_cancels, .timeout = 30) { gt_run(main_simultaneous); }

static context_t *il_parent, *il_child;

static void il_waiter(void *arg)
{
    chan_recv(context_done(il_parent), NULL);
    context_cancel(il_child);
}

/* TestInterlockedCancels: a child cancelled from a goroutine woken by
 * its parent's cancel. */
static int main_interlocked(int argc, char **argv)
{
    GC_STORE(il_parent, context_with_cancel(context_background()));
    GC_STORE(il_child, context_with_cancel(il_parent));
    go(il_waiter, NULL);
    context_cancel(il_parent);
    GT_CHECK(wait_done(il_child, LONG));
    return 0;
}
Test(context, interlocked_cancels) { gt_run(main_interlocked); }

/* testLayers: a random stack of value, cancel and timeout layers. */
static void layers(uint32_t seed, bool timeout)
{
    static int keys[200];
    context_t *cancels[200];
    int nvals = 0, ncancels = 0, ntimers = 0;
    context_t *ctx = context_background();
    for (int i = 0; i < 30 || ntimers == 0 || ncancels == 0 || nvals == 0; i++) {
        seed = seed * 1103515245 + 12345;
        switch ((seed >> 16) % 3) {
        case 0:
            ctx = context_with_value(ctx, &keys[nvals], &keys[nvals]);
            nvals++;
            break;
        case 1:
            ctx = context_with_cancel(ctx);
            cancels[ncancels++] = ctx;
            break;
        default:
            ctx = context_with_timeout(ctx, timeout ? SHORT : LONG);
            cancels[ncancels++] = ctx;
            ntimers++;
        }
    }
    for (int i = 0; i < nvals; i++)
        GT_CHECK(context_value(ctx, &keys[i]) == &keys[i], "seed %u key %d", seed, i);
    if (timeout) {
        GT_CHECK(wait_done(ctx, LONG), "seed %u: no timeout", seed);
        GT_CHECK(context_err(ctx) == context_deadline_exceeded);
    } else {
        GT_CHECK(!is_done(ctx), "seed %u: done too soon", seed);
        context_cancel(cancels[(seed >> 8) % (uint32_t)ncancels]);
        GT_CHECK(is_done(ctx) && context_err(ctx) == context_canceled, "seed %u", seed);
        for (int i = 0; i < ncancels; i++)
            context_cancel(cancels[i]);
    }
    for (int i = 0; i < nvals; i++)
        GT_CHECK(context_value(ctx, &keys[i]) == &keys[i], "after, key %d", i);
}

static int main_layers(int argc, char **argv)
{
    for (uint32_t s = 1; s <= 20; s++) {
        layers(s, false);
        layers(s * 7919, true);
    }
    return 0;
}
Test(context, layers_cancel_and_timeout, .timeout = 30) { gt_run(main_layers); }

/* Many short-lived children of one long-lived parent: the parent's list,
 * the live heap and the goroutine count stay flat. */
static int main_flat(int argc, char **argv)
{
    context_t *parent = context_with_cancel(context_background());
    int g0 = runtime_num_goroutine();
    runtime_mem_stats_t ms;
    uint64_t live[2];
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < 200000; i++) {
            context_t *c = (i & 1) ? context_with_cancel(parent)
                                   : context_with_timeout(parent, LONG);
            if (i % 3 == 0)
                (void)context_done(c);
            context_cancel(c);
        }
        GT_CHECK(chan__context_nchildren(parent) == 0);
        runtime_gc();
        runtime_read_mem_stats(&ms);
        live[round] = ms.heap_alloc;
    }
    GT_CHECK(runtime_num_goroutine() == g0);
    GT_CHECK(live[1] < live[0] + (1u << 20), "live heap %lu -> %lu",
             (unsigned long)live[0], (unsigned long)live[1]);
    context_cancel(parent);
    return 0;
}
Test(context, cancel_removes_child_flat, .timeout = 60) { gt_run(main_flat); }

#define WAITERS 10000
static context_t *big_ctx;
static chan_t *other;
static sync_waitgroup_t big_wg;
static _Atomic int woke;

static void big_waiter(void *arg)
{
    if ((intptr_t)arg & 1) {
        select_case_t cs[2] = {{context_done(big_ctx), SELECT_RECV, NULL, false},
                               {other, SELECT_RECV, NULL, false}};
        GT_CHECK(chan_select(cs, 2, true) == 0);
    } else {
        GT_CHECK(!chan_recv2(context_done(big_ctx), NULL));
    }
    GT_CHECK(context_err(big_ctx) == context_canceled);
    atomic_fetch_add(&woke, 1);
    sync_waitgroup_done(&big_wg);
}

/* One cancel wakes 10,000 goroutines parked on Done. */
static int main_many_waiters(int argc, char **argv)
{
    runtime_gomaxprocs(2);
    GC_STORE(big_ctx, context_with_cancel(context_background()));
    GC_STORE(other, chan_make(0, 0));
    sync_waitgroup_add(&big_wg, WAITERS);
    for (intptr_t i = 0; i < WAITERS; i++)
        go(big_waiter, (void *)i);
    time_sleep(50 * TIME_MILLISECOND);
    GT_CHECK(atomic_load(&woke) == 0);
    context_cancel(big_ctx);
    sync_waitgroup_wait(&big_wg);
    GT_CHECK(atomic_load(&woke) == WAITERS);
    return 0;
}
Test(context, ten_thousand_waiters, .timeout = 60) { gt_run(main_many_waiters); }

/* A deadline's timer cancels a whole subtree from the timer callback. */
static int main_timer_tree(int argc, char **argv)
{
    context_t *root = context_with_timeout(context_background(), SHORT);
    context_t *kids[64];
    for (int i = 0; i < 64; i++)
        kids[i] = context_with_cancel(i ? kids[(i - 1) / 2] : root);
    GT_CHECK(wait_done(kids[63], LONG));
    for (int i = 0; i < 64; i++)
        GT_CHECK(context_err(kids[i]) == context_deadline_exceeded, "%d", i);
    GT_CHECK(chan__context_nchildren(root) == 0);
    return 0;
}
Test(context, deadline_cancels_subtree) { gt_run(main_timer_tree); }
