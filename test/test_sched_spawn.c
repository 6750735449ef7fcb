/*
 * test/test_sched_spawn.c -- goroutine creation: 100,000 goroutines all run
 * exactly once (from one spawner, which overflows the local run queue into
 * the global one, and from many spawners at GOMAXPROCS=2), goroutine ids
 * (main is 1, ids stay distinct when G descriptors are reused) and
 * runtime_num_goroutine.
 */
#include "helpers.h"
#include "sched_helpers.h"

#define NSPAWN 100000

static _Atomic unsigned char ran[NSPAWN];
static gt_count_t left;

static void mark(void *arg)
{
    size_t i = (size_t)arg;
    GT_CHECK(i < NSPAWN);
    if (i < NSPAWN)
        atomic_fetch_add(&ran[i], 1);
    gt_count_done(&left);
}

static int check_all_ran_once(void)
{
    int bad = 0;
    for (size_t i = 0; i < NSPAWN; i++)
        if (atomic_load(&ran[i]) != 1) {
            if (bad < 5)
                fprintf(stderr, "goroutine %zu ran %d times\n", i, ran[i]);
            bad++;
        }
    return bad;
}

static int main_one_spawner(int argc, char **argv)
{
    gt_count_init(&left, NSPAWN);
    for (size_t i = 0; i < NSPAWN; i++)
        go(mark, (void *)i);
    gt_count_wait(&left);
    GT_CHECK(check_all_ran_once() == 0);
    return 0;
}

Test(sched_spawn, hundred_thousand_from_main, .timeout = 30)
{
    gt_run(main_one_spawner);
}

static int main_one_spawner_p1(int argc, char **argv)
{
    runtime_gomaxprocs(1);
    return main_one_spawner(argc, argv);
}

Test(sched_spawn, hundred_thousand_gomaxprocs1, .timeout = 30)
{
    gt_run(main_one_spawner_p1);
}

#define NSPAWNERS 10

static void spawner(void *arg)
{
    size_t base = (size_t)arg * (NSPAWN / NSPAWNERS);
    for (size_t i = 0; i < NSPAWN / NSPAWNERS; i++) {
        go(mark, (void *)(base + i));
        if (i % 1000 == 0)
            runtime_gosched();
    }
}

static int main_many_spawners(int argc, char **argv)
{
    runtime_gomaxprocs(2);
    gt_count_init(&left, NSPAWN);
    for (size_t s = 0; s < NSPAWNERS; s++)
        go(spawner, (void *)s);
    gt_count_wait(&left);
    GT_CHECK(check_all_ran_once() == 0);
    return 0;
}

Test(sched_spawn, hundred_thousand_from_ten_spawners, .timeout = 30)
{
    gt_run(main_many_spawners);
}

/* Nested spawning: a binary tree of goroutines, each spawning two. */
static _Atomic int tree_nodes;
static gt_count_t tree_left;

static void tree(void *arg)
{
    intptr_t depth = (intptr_t)arg;
    atomic_fetch_add(&tree_nodes, 1);
    if (depth > 0) {
        go(tree, (void *)(depth - 1));
        go(tree, (void *)(depth - 1));
    }
    gt_count_done(&tree_left);
}

static int main_tree(int argc, char **argv)
{
    const int depth = 15; /* 2^16 - 1 goroutines */
    gt_count_init(&tree_left, (1 << (depth + 1)) - 1);
    go(tree, (void *)(intptr_t)depth);
    gt_count_wait(&tree_left);
    GT_CHECK(atomic_load(&tree_nodes) == (1 << (depth + 1)) - 1, "%d",
             atomic_load(&tree_nodes));
    return 0;
}

Test(sched_spawn, tree_of_goroutines, .timeout = 30)
{
    gt_run(main_tree);
}

/* ---- goroutine ids ---------------------------------------------------- */

#define NIDS 10000
static int64_t ids[NIDS];
static gt_count_t ids_left;

static void record_id(void *arg)
{
    ids[(size_t)arg] = runtime_goid();
    gt_count_done(&ids_left);
}

static int cmp64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static int main_goid(int argc, char **argv)
{
    GT_CHECK(runtime_goid() == 1, "main goroutine id %lld",
             (long long)runtime_goid());
    /* In waves of 100, so that G descriptors are reused: a reused G must
     * still get a fresh id. */
    for (size_t w = 0; w < NIDS / 100; w++) {
        gt_count_init(&ids_left, 100);
        for (size_t i = 0; i < 100; i++)
            go(record_id, (void *)(w * 100 + i));
        gt_count_wait(&ids_left);
    }
    qsort(ids, NIDS, sizeof ids[0], cmp64);
    GT_CHECK(ids[0] > 1, "smallest spawned id %lld", (long long)ids[0]);
    for (size_t i = 1; i < NIDS; i++)
        if (ids[i] == ids[i - 1]) {
            GT_CHECK(ids[i] != ids[i - 1], "duplicate goroutine id %lld",
                     (long long)ids[i]);
            break;
        }
    GT_CHECK(runtime_goid() == 1);
    return 0;
}

Test(sched_spawn, goid_main_is_1_and_ids_distinct, .timeout = 30)
{
    gt_run(main_goid);
}

/* ---- runtime_num_goroutine -------------------------------------------- */

#define NPARK 1000
static gt_gate_t park_gates[NPARK];
static gt_count_t parked, finished;

static void park_then_finish(void *arg)
{
    gt_count_done(&parked);
    gt_gate_wait(&park_gates[(size_t)arg]);
    gt_count_done(&finished);
}

static int main_num_goroutine(int argc, char **argv)
{
    GT_CHECK(runtime_num_goroutine() == 1, "at start: %d",
             runtime_num_goroutine());
    gt_count_init(&parked, NPARK);
    gt_count_init(&finished, NPARK);
    for (size_t i = 0; i < NPARK; i++)
        go(park_then_finish, (void *)i);
    gt_count_wait(&parked);
    GT_CHECK(runtime_num_goroutine() == NPARK + 1, "with %d parked: %d",
             NPARK, runtime_num_goroutine());
    for (size_t i = 0; i < NPARK; i++)
        gt_gate_open(&park_gates[i]);
    gt_count_wait(&finished);
    /* The last one may still be on its way out. */
    int64_t end = gt_ms() + 5000;
    while (runtime_num_goroutine() != 1 && gt_ms() < end)
        runtime_gosched();
    GT_CHECK(runtime_num_goroutine() == 1, "after all exited: %d",
             runtime_num_goroutine());
    return 0;
}

Test(sched_spawn, num_goroutine, .timeout = 30)
{
    gt_run(main_num_goroutine);
}

/* main returning ends the program even with goroutines still runnable or
 * parked, and its value is runtime_main's. */
static void spin_forever(void *arg)
{
    for (;;)
        runtime_gosched();
}

static int main_returns_7(int argc, char **argv)
{
    for (int i = 0; i < 4; i++)
        go(spin_forever, NULL);
    go(park_then_finish, (void *)0);
    runtime_gosched();
    return 7;
}

Test(sched_spawn, main_return_ends_program, .timeout = 30)
{
    gt_count_init(&parked, 1);
    gt_count_init(&finished, 1);
    GT_EXPECT_EXIT(main_returns_7, NULL, 10000, 7, NULL);
}

/* go(NULL, ...) is Go's `go f()` with a nil f: a fatal error (a throw, not
 * a recoverable panic): "fatal error: go of nil func value", exit 2. */
static int main_go_nil(int argc, char **argv)
{
    void (*volatile fn)(void *) = NULL;
    go(fn, NULL);
    printf("go(NULL) returned\n");
    return 0;
}

Test(sched_spawn, go_nil_func_is_fatal, .timeout = 30)
{
    gt_result_t *r = GT_CHILD_EXPECT(main_go_nil, NULL, 10000, 2,
                                     "fatal error: go of nil func value");
    cr_assert_null(strstr(r->out, "go(NULL) returned"), "output:\n%s", r->out);
    free(r);
}

/* ---- goroutines that have not started --------------------------------- */

/* A queued goroutine has no stack until it first runs (sched/galloc.c):
 * 100,000 of them, queued at GOMAXPROCS=1 by a main that does not yield
 * (sysmon may preempt it once or twice), cost a descriptor each, far
 * below the page a started one needs. */
#define NQUEUED 100000
static gt_count_t queued_left;
static _Atomic int64_t queued_sum;

static void queued(void *arg)
{
    atomic_fetch_add(&queued_sum, (int64_t)(intptr_t)arg);
    gt_count_done(&queued_left);
}

static int main_queued_cheap(int argc, char **argv)
{
    runtime_gomaxprocs(1);
    gt_count_init(&queued_left, NQUEUED);
    long before = gt_status_kib("VmRSS:");
    for (intptr_t i = 0; i < NQUEUED; i++)
        go(queued, (void *)i);
    long grown = gt_status_kib("VmRSS:") - before;
    double per = grown * 1024.0 / NQUEUED;
    GT_CHECK(per < 1024, "%.0f bytes per queued goroutine (a stack page is 4096)", per);
    gt_count_wait(&queued_left);
    GT_CHECK(atomic_load(&queued_sum) == (int64_t)NQUEUED * (NQUEUED - 1) / 2);
    return 0;
}

Test(sched_spawn, queued_goroutines_have_no_stack, .timeout = 30)
{
    gt_run(main_queued_cheap);
}

/* GOTRACEBACK=all shows a goroutine that never ran with its entry
 * function and its creator, as Go shows startpc. */
static void never_started(void *arg) { (void)arg; }

static int main_dump_unstarted(int argc, char **argv)
{
    runtime_gomaxprocs(1);
    go(never_started, NULL);
    go_panic("dump");
    return 0;
}

Test(sched_spawn, unstarted_goroutine_in_traceback, .timeout = 30)
{
    static const char *const env[] = {"GOTRACEBACK=all", NULL};
    gt_result_t *r = gt_child_new(main_dump_unstarted, env);
    cr_assert_eq(r->status, 2, "status %d\n%s", r->status, r->out);
    cr_assert_not_null(strstr(r->out, " [runnable]:\nnever_started(...)\n"), "%s", r->out);
    cr_assert_not_null(strstr(r->out, "created by main_dump_unstarted\n\t"), "%s", r->out);
    free(r);
}
