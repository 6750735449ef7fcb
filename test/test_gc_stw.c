/*
 * test/test_gc_stw.c -- what keeps a stop of the world short when a P is
 * busy in the collector's or the allocator's code (where the preemption
 * signal never stops it):
 *  - an allocating goroutine asked to stop yields within 64 allocations,
 *    whatever the state of its span;
 *  - a marker ends its turn within 64 objects once a stop is pending;
 *  - a P just handed to an M whose thread has not woken yet is taken back
 *    by the stop (which then waits for no thread wake-up), and the
 *    goroutines it was woken for still run;
 *  - GODEBUG=stwtrace=1 prints one line per stop: time to stop, the P
 *    that came last and what it was doing, time stopped, time to restart.
 * Counted in objects, never timed.
 */
#include "helpers.h"
#include "sched_helpers.h"
#include "../gc/internal.h"

#define ROUNDS 100

/* ---- the allocator's preemption point -------------------------------- */

/* Each round: ask this goroutine to stop, allocate 64 small objects, and
 * find that it yielded (the request is gone). A span of 16-byte objects
 * fills every 512 of them: without a point on every refill of the span's
 * 64-slot cache, most rounds would go unstopped. */
static int alloc_point_main(int argc, char **argv)
{
    (void)argc; (void)argv;
    g_t *g = sched__getg();
    int stopped = 0;
    for (int r = 0; r < ROUNDS; r++) {
        atomic_store(&g->preempt, true);
        for (int i = 0; i < 64 && atomic_load(&g->preempt); i++)
            (void)gc_alloc(16);
        stopped += !atomic_load(&g->preempt);
        atomic_store(&g->preempt, false);
    }
    GT_CHECK(stopped == ROUNDS, "%d of %d rounds yielded within 64 allocations", stopped, ROUNDS);
    return 0;
}

Test(gc_stw, allocator_yields_within_64_allocations)
{
    gt_run(alloc_point_main);
}

/* ---- a marker's turn ------------------------------------------------- */

#define CHAIN 20000

typedef struct link { struct link *next; char pad[56]; } link_t;

/* A chain of CHAIN 64-byte objects, each pointing to the next: a drain
 * of it scans one object at a time. With a stop pending (gcwaiting set by
 * hand: the other P is idle and stays so), a drain with a budget for the
 * whole chain scans at most about 64 objects before returning "not done".
 * Run in a child with the collector off: the marks it leaves are never
 * swept. */
static int drain_main(int argc, char **argv)
{
    (void)argc; (void)argv;
    link_t *head = NULL;
    for (int i = 0; i < CHAIN; i++) {
        link_t *l = gc_alloc(sizeof *l);
        l->next = head;
        head = l;
    }
    gc__work_t w;
    gc__work_init(&w);
    gc__mark_ptr(&w, (uintptr_t)head);
    atomic_store(&sched__sched.gcwaiting, 1);
    bool done = gc__drain_some(&w, CHAIN * 2);
    atomic_store(&sched__sched.gcwaiting, 0);
    uint64_t objs = w.marked_bytes / sizeof(link_t);
    GT_CHECK(!done && objs <= 2 * GC_SHARE_EVERY + 2,
             "with a stop pending the drain marked %llu of %d objects (done %d)",
             (unsigned long long)objs, CHAIN, done);
    /* The stop gone, the same drain goes on to the end of the chain. */
    done = gc__drain_some(&w, CHAIN * 2);
    objs = w.marked_bytes / sizeof(link_t);
    GT_CHECK(done && objs == CHAIN, "then marked %llu of %d (done %d)",
             (unsigned long long)objs, CHAIN, done);
    gc__work_dispose(&w);
    (void)head;
    return atomic_load(&gt_failures) ? 1 : 0;
}

Test(gc_stw, marker_ends_its_turn_on_pending_stop)
{
    static const char *const env[] = {"GOMAXPROCS=2", "GOGC=off", "GODEBUG=", NULL};
    gt_result_t *r = gt_child_new(drain_main, env);
    cr_assert_eq(r->status, 0, "status %d:\n%s", r->status, r->out);
    free(r);
}

/* ---- a P handed to a waking M ---------------------------------------- */

#define HANDOFFS 200

static _Atomic int ran;

static void noop(void *arg)
{
    (void)arg;
    atomic_fetch_add(&ran, 1);
}

/* Each round: go() readies a goroutine and wakes an idle M for the idle
 * P, and the world is stopped at once, before that M's thread runs. */
static int handed_main(int argc, char **argv)
{
    (void)argc; (void)argv;
    runtime_mem_stats_t ms;
    for (int i = 0; i < HANDOFFS; i++) {
        go(noop, NULL);
        runtime_read_mem_stats(&ms);
    }
    for (int i = 0; i < 100000 && atomic_load(&ran) < HANDOFFS; i++)
        runtime_gosched();
    GT_CHECK(atomic_load(&ran) == HANDOFFS, "%d of %d goroutines ran", atomic_load(&ran),
             HANDOFFS);
    return atomic_load(&gt_failures) ? 1 : 0;
}

Test(gc_stw, stop_takes_back_a_p_handed_to_a_waking_m)
{
    static const char *const env[] = {"GOMAXPROCS=2", "GODEBUG=stwtrace=1", NULL};
    gt_result_t *r = malloc(sizeof *r);
    gt_child(r, handed_main, env, 60000);
    cr_assert_eq(r->status, 0, "status %d:\n%s", r->status, r->out);
    int taken = 0;
    for (const char *q = r->out; (q = strstr(q, " taken from waking Ms")) != NULL; q++)
        taken++;
    cr_assert_gt(taken, 0, "no stop of %d took a P back from a waking M:\n%.2000s", HANDOFFS,
                 r->out);
    free(r);
}

/* ---- GODEBUG=stwtrace=1 ---------------------------------------------- */

static int trace_main(int argc, char **argv)
{
    (void)argc; (void)argv;
    runtime_gc();
    return 0;
}

Test(gc_stw, stwtrace_prints_each_stop)
{
    static const char *const env[] = {"GOMAXPROCS=2", "GODEBUG=stwtrace=1", NULL};
    gt_result_t *r = gt_child_new(trace_main, env);
    cr_assert_eq(r->status, 0, "status %d:\n%s", r->status, r->out);
    gt_assert_match(r->out,
                    "(^|\n)stw GC: stop [0-9]+ us( \\(last P[0-9]+, [^)]+ at the request, "
                    "stopped at [0-9]+ us\\))?(, [0-9]+ taken from waking Ms)?, stopped [0-9]+ us, "
                    "restart [0-9]+ us\n",
                    "first stop's line");
    gt_assert_match(r->out, "(^|\n)stw GC mark termination: stop [0-9]+ us.*, restart [0-9]+ us\n",
                    "mark termination's line");
    free(r);
}
