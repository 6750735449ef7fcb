/*
 * test/test_panic.c -- go_call frames, go_defer, go_panic, go_recover,
 * runtime_goexit: Go's semantics, and the unrecovered-panic report
 * (run in a child process; its stderr and exit status are matched).
 *
 * Deferred functions are plain static functions; the ones that must not
 * count as "called directly by the deferred function" are noinline.
 */
#include <sys/resource.h>

#include "helpers.h"
#include "sched_helpers.h"

#pragma GCC diagnostic ignored "-Wformat-zero-length"

/* A small log of events, checked against the expected order. */
static char trail[256];
static int ntrail;
static void mark(char c) { if (ntrail < 255) trail[ntrail++] = c; trail[ntrail] = 0; }
static void mark_fn(void *arg) { mark((char)(uintptr_t)arg); }
#define M(c) ((void *)(uintptr_t)(c))

static void panic_fn(void *msg) { go_panic(msg); }

/* ------------------------------------------------------------------ */
/* defer order                                                         */
/* ------------------------------------------------------------------ */

static void three_defers(void *arg)
{
    go_defer(mark_fn, M('1'));
    go_defer(mark_fn, M('2'));
    go_defer(mark_fn, M('3'));
    mark('b');
}

static void nested_frames(void *arg)
{
    go_defer(mark_fn, M('o'));
    go_call(three_defers, NULL);
    mark('a');
}

static void many_defers(void *arg)
{
    for (int i = 0; i < 40; i++)
        go_defer(mark_fn, M('A' + i % 26));
}

/* A deferred call's own defers belong to its own frame. */
static void defers_in_defer(void *arg) { go_defer(mark_fn, M('x')); mark('d'); }
static void outer_with_defer_defer(void *arg)
{
    go_defer(mark_fn, M('z'));
    go_defer(defers_in_defer, NULL);
    go_defer(mark_fn, M('y'));
}

static int defer_order_main(int argc, char **argv)
{
    go_call(three_defers, NULL);
    GT_CHECK(strcmp(trail, "b321") == 0, "%s", trail);
    ntrail = 0;
    go_call(nested_frames, NULL);
    GT_CHECK(strcmp(trail, "b321ao") == 0, "%s", trail);
    ntrail = 0;
    go_call(many_defers, NULL);
    char want[41];
    for (int i = 0; i < 40; i++)
        want[i] = (char)('A' + (39 - i) % 26);
    want[40] = 0;
    GT_CHECK(strcmp(trail, want) == 0, "%s", trail);
    ntrail = 0;
    go_call(outer_with_defer_defer, NULL);
    GT_CHECK(strcmp(trail, "ydxz") == 0, "%s", trail);
    return 0;
}

Test(panic, defer_order) { gt_run(defer_order_main); }

/* The goroutine entry is an implicit frame: its defers run at return. */
static sync_waitgroup_t entry_wg;
static _Atomic int entry_ran;
static void entry_defer(void *arg) { atomic_store(&entry_ran, 1); sync_waitgroup_done(&entry_wg); }
static void entry_fn(void *arg) { go_defer(entry_defer, NULL); }

static int entry_frame_main(int argc, char **argv)
{
    sync_waitgroup_add(&entry_wg, 1);
    go(entry_fn, NULL);
    sync_waitgroup_wait(&entry_wg);
    GT_CHECK(atomic_load(&entry_ran) == 1);
    return 0;
}

Test(panic, goroutine_entry_is_a_frame) { gt_run(entry_frame_main); }

/* ------------------------------------------------------------------ */
/* recover                                                             */
/* ------------------------------------------------------------------ */

static const char *got;
static void recover_into_got(void *arg) { got = go_recover(); }

static void panics_after_defers(void *arg)
{
    go_defer(mark_fn, M('1'));
    go_defer(recover_into_got, NULL);
    go_defer(mark_fn, M('2'));
    mark('b');
    go_panic(arg);
    mark('X');  /* never */
}

static void recovered_frame_returns(void *arg)
{
    go_defer(mark_fn, M('o'));
    go_call(panics_after_defers, arg);
    mark('r');  /* go_call returned normally */
}

static int recover_basic_main(int argc, char **argv)
{
    char msg[16] = "boom";
    go_call(recovered_frame_returns, msg);
    GT_CHECK(got && strcmp(got, "boom") == 0, "%s", got ? got : "(null)");
    GT_CHECK(got != msg, "the message must be a copy");
    GT_CHECK(strcmp(trail, "b21ro") == 0, "%s", trail);
    GT_CHECK(go_recover() == NULL, "no panic: recover returns NULL");
    return 0;
}

Test(panic, recover_stops_panic_and_frame_returns) { gt_run(recover_basic_main); }

/* recover outside a deferred call, in a nested helper, twice. */
static const char *r_helper, *r_direct, *r_second;
static __attribute__((noinline)) const char *helper_recover(void)
{
    const char *r = go_recover();
    __asm__ volatile("" ::: "memory");  /* no tail call */
    return r;
}
static void helper_calls(void *arg) { r_helper = go_recover(); }
static void recover_matrix(void *arg)
{
    r_helper = helper_recover();   /* not called directly by the deferred fn */
    r_direct = go_recover();
    r_second = go_recover();       /* already recovered */
}
static const char *r_nested_call;
static void deferred_calls_frame(void *arg)
{
    go_call(helper_calls, NULL);   /* recover in a nested frame: nil */
    r_nested_call = r_helper;
    r_helper = (const char *)1;
}
static void panics_matrix(void *arg)
{
    go_defer(recover_matrix, NULL);
    go_defer(deferred_calls_frame, NULL);
    go_panic("m");
}

static int recover_rules_main(int argc, char **argv)
{
    go_call(panics_matrix, NULL);
    GT_CHECK(r_nested_call == NULL, "recover in a go_call'd helper must be nil");
    GT_CHECK(r_helper == NULL, "recover in a helper must be nil");
    GT_CHECK(r_direct && strcmp(r_direct, "m") == 0);
    GT_CHECK(r_second == NULL, "second recover must be nil");
    return 0;
}

Test(panic, recover_only_direct) { gt_run(recover_rules_main); }

/* A deferred call that tail-calls go_recover still recovers. */
static void tail_recover(void *arg) { (void)go_recover(); }
static void panics_tail(void *arg) { go_defer(mark_fn, M('t')); go_defer(tail_recover, NULL); go_panic("t"); }
static int tail_recover_main(int argc, char **argv)
{
    go_call(panics_tail, NULL);
    GT_CHECK(strcmp(trail, "t") == 0, "%s", trail);
    return 0;
}

Test(panic, recover_by_tail_call) { gt_run(tail_recover_main); }

/* ------------------------------------------------------------------ */
/* nested panics (Go's defer_test.go)                                  */
/* ------------------------------------------------------------------ */

static const char *ab_r1, *ab_r2;
static void ab_first(void *arg) { ab_r1 = go_recover(); }      /* runs last */
static void ab_second(void *arg) { ab_r2 = go_recover(); }
static void ab_body(void *arg)
{
    go_defer(ab_first, NULL);
    go_defer(ab_second, NULL);
    go_defer(panic_fn, "panic2");
    go_panic("panic1");
}

/* TestAbortedPanic: panic2 replaces panic1, which cannot be recovered. */
static int aborted_main(int argc, char **argv)
{
    go_call(ab_body, NULL);
    GT_CHECK(ab_r2 && strcmp(ab_r2, "panic2") == 0, "%s", ab_r2 ? ab_r2 : "(null)");
    GT_CHECK(ab_r1 == NULL, "aborted panic1 recovered: %s", ab_r1);
    return 0;
}

Test(panic, aborted_panic) { gt_run(aborted_main); }

/* TestRecoverMatching: a defer of a deferred call does not recover. */
static const char *rm_inner, *rm_outer;
static void rm_inner_fn(void *arg) { rm_inner = go_recover(); }
static void rm_defers(void *arg) { go_defer(rm_inner_fn, NULL); }
static void rm_outer_fn(void *arg) { rm_outer = go_recover(); }
static void rm_body(void *arg)
{
    go_defer(rm_outer_fn, NULL);
    go_defer(rm_defers, NULL);
    go_panic("panic1");
}

static int recover_matching_main(int argc, char **argv)
{
    go_call(rm_body, NULL);
    GT_CHECK(rm_inner == NULL, "%s", rm_inner);
    GT_CHECK(rm_outer && strcmp(rm_outer, "panic1") == 0);
    return 0;
}

Test(panic, recover_matching) { gt_run(recover_matching_main); }

static int steps;
static void step_fn(void *arg)
{
    steps++;
    GT_CHECK(steps == (int)(intptr_t)arg, "have step %d, want %d", steps, (int)(intptr_t)arg);
}
#define EXPECT_RECOVER(name, want)                                              \
    static void name(void *arg)                                                 \
    {                                                                           \
        const char *r = go_recover();                                           \
        GT_CHECK(r && strcmp(r, want) == 0, "have %s, want %s", r ? r : "nil",  \
                 want);                                                         \
        mark(want[0]);                                                          \
    }

/* TestIssue43921 */
EXPECT_RECOVER(i21_exp1, "1")
EXPECT_RECOVER(i21_exp4, "4")
static void i21_empty(void *arg) {}
static void i21_d(void *arg) { go_defer(i21_exp4, NULL); go_panic("4"); }
static void i21_f(void *arg) { go_defer(i21_empty, NULL); go_defer(i21_d, NULL); go_panic("1"); }
static void i21(void *arg) { go_defer(i21_exp1, NULL); go_call(i21_f, NULL); }

/* TestIssue43920 */
EXPECT_RECOVER(i20_exp1, "1")
EXPECT_RECOVER(i20_exp3, "3")
EXPECT_RECOVER(i20_exp5, "5")
static void i20_p4(void *arg) { go_panic("4"); }
static void i20_inner(void *arg) { go_defer(i20_exp5, NULL); go_defer(panic_fn, "5"); go_call(i20_p4, NULL); }
static void i20_d(void *arg) { go_defer(i20_inner, NULL); go_defer(i20_exp3, NULL); go_defer(panic_fn, "3"); }
static void i20_f(void *arg) { go_defer(step_fn, (void *)1); go_panic("1"); }
static void i20(void *arg) { steps = 0; go_defer(i20_exp1, NULL); go_defer(i20_d, NULL); go_call(i20_f, NULL); }

/* TestIssue43941 */
EXPECT_RECOVER(i41_exp1, "1")
EXPECT_RECOVER(i41_exp3, "3")
static void i41_last(void *arg)
{
    step_fn((void *)14);
    const char *r = go_recover();  /* directly: a helper would not recover */
    GT_CHECK(r && strcmp(r, "4") == 0, "have %s, want 4", r ? r : "nil");
    mark('4');
}
static void i41_d2(void *arg) { go_defer(i41_exp3, NULL); go_defer(panic_fn, "3"); go_panic("2"); }
static void i41_a(void *arg) { go_defer(i41_d2, NULL); go_defer(i41_exp1, NULL); go_defer(panic_fn, "1"); }
static void i41_b(void *arg)
{
    go_call(i41_a, NULL);
    go_defer(i21_empty, NULL);
    go_defer(i21_empty, NULL);
    go_defer(step_fn, (void *)10);
    go_defer(step_fn, (void *)9);
    step_fn((void *)8);
}
static void i41_p4(void *arg) { go_defer(step_fn, (void *)11); go_panic("4"); }
static void i41_c(void *arg)
{
    go_defer(step_fn, (void *)13);
    go_defer(step_fn, (void *)12);
    go_call(i41_p4, NULL);
    go_defer(step_fn, (void *)-1);
}
static void i41(void *arg)
{
    steps = 7;
    go_defer(i41_last, NULL);
    go_call(i41_b, NULL);
    go_call(i41_c, NULL);
}

static int issues_main(int argc, char **argv)
{
    go_call(i21, NULL);
    GT_CHECK(strcmp(trail, "41") == 0, "43921: %s", trail);
    ntrail = 0;
    go_call(i20, NULL);
    GT_CHECK(strcmp(trail, "351") == 0, "43920: %s", trail);
    GT_CHECK(steps == 1);
    ntrail = 0;
    go_call(i41, NULL);
    GT_CHECK(strcmp(trail, "134") == 0, "43941: %s", trail);
    GT_CHECK(steps == 14, "steps %d", steps);
    return 0;
}

Test(panic, go_issues_43920_43921_43941) { gt_run(issues_main); }

/* TestDeferWithRepeatedRepanics: an interpreter re-panics level by level. */
static int interp_rec;
typedef struct { int level, max, rec; } interp_t;
static void interp_defer(void *arg)
{
    interp_t *it = arg;
    const char *e = go_recover();
    if (!e)
        return;
    if (atoi(e) != it->level)
        go_panic(e);
    interp_rec++;
}
static void interpreter(void *arg)
{
    interp_t *it = arg;
    go_defer(interp_defer, it);
    if (it->level + 1 < it->max) {
        interp_t next = {it->level + 1, it->max, it->rec};
        go_call(interpreter, &next);
    } else {
        char msg[16];
        snprintf(msg, sizeof msg, "%d", it->rec);
        go_panic(msg);
    }
}
static void recurse_fn(void *arg)
{
    volatile uint32_t a[40];
    for (int i = 0; i < 40; i++)
        a[i] = 0xffffffff;
    int level = (int)(intptr_t)arg;
    if (level + 1 < 10)
        go_call(recurse_fn, (void *)(intptr_t)(level + 1));
    else
        go_panic("recurseFn panic");
    (void)a[4];
}
static void swallow(void *arg) { (void)go_recover(); }
static void recurse_rec(void *arg) { go_defer(swallow, NULL); go_call(recurse_fn, NULL); }

static int repanics_main(int argc, char **argv)
{
    interp_t a = {0, 6, 2}, b = {0, 5, 1}, c = {0, 6, 3};
    go_call(interpreter, &a);
    go_call(recurse_rec, NULL);
    go_call(interpreter, &b);
    go_call(recurse_rec, NULL);
    go_call(interpreter, &c);
    go_call(recurse_rec, NULL);
    GT_CHECK(interp_rec == 3, "%d", interp_rec);
    return 0;
}

Test(panic, repeated_repanics) { gt_run(repanics_main); }

/* "defer recover()" as Go: a no-op in the panicking frame, recovers when
 * deferred by a deferred call. */
static void squelch(void *arg) { go_defer((void (*)(void *))(void *)go_recover, NULL); }
static const char *dr_after;
static void dr_check(void *arg) { dr_after = go_recover(); }
static void dr_noop(void *arg)
{
    go_defer(dr_check, NULL);
    go_defer((void (*)(void *))(void *)go_recover, NULL);  /* no-op */
    go_panic("still");
}
static void dr_squelch(void *arg)
{
    go_defer(mark_fn, M('s'));
    go_defer(squelch, NULL);
    go_panic("gone");
}

static int defer_recover_main(int argc, char **argv)
{
    go_call(dr_noop, NULL);
    GT_CHECK(dr_after && strcmp(dr_after, "still") == 0);
    go_call(dr_squelch, NULL);
    GT_CHECK(strcmp(trail, "s") == 0, "%s", trail);
    return 0;
}

Test(panic, defer_recover_builtin) { gt_run(defer_recover_main); }

/* Recovering in a goroutine other than main. */
static sync_waitgroup_t gwg;
static const char *g_got;
static void g_rec(void *arg) { g_got = go_recover(); sync_waitgroup_done(&gwg); }
static void g_body(void *arg) { go_defer(g_rec, NULL); go_panic("in goroutine"); }
static int goroutine_recover_main(int argc, char **argv)
{
    sync_waitgroup_add(&gwg, 1);
    go(g_body, NULL);
    sync_waitgroup_wait(&gwg);
    GT_CHECK(g_got && strcmp(g_got, "in goroutine") == 0);
    return 0;
}

Test(panic, recover_in_goroutine) { gt_run(goroutine_recover_main); }

/* ------------------------------------------------------------------ */
/* Goexit                                                              */
/* ------------------------------------------------------------------ */

static chan_t *gx_done;
static const char *gx_rec = "unset";
static void gx_try_recover(void *arg) { gx_rec = go_recover(); mark('r'); }
static void gx_signal(void *arg) { mark('e'); chan_close(gx_done); }
static void gx_inner(void *arg)
{
    go_defer(mark_fn, M('1'));
    go_defer(gx_try_recover, NULL);
    runtime_goexit();
    mark('X');
}
static void gx_entry(void *arg)
{
    go_defer(gx_signal, NULL);
    go_defer(mark_fn, M('2'));
    go_call(gx_inner, NULL);
    mark('Y');
}

static int goexit_main(int argc, char **argv)
{
    gx_done = chan_make(0, 0);
    go(gx_entry, NULL);
    chan_recv(gx_done, NULL);
    GT_CHECK(strcmp(trail, "r12e") == 0, "%s", trail);
    GT_CHECK(gx_rec == NULL, "Goexit must not be recoverable");
    return 0;
}

Test(panic, goexit_runs_all_defers) { gt_run(goexit_main); }

/* A panic raised by a deferred call during Goexit and recovered further
 * out: Goexit continues with the remaining defers (Go 1.14+). */
static void gxp_rec(void *arg) { const char *r = go_recover(); mark(r && !strcmp(r, "p") ? 'R' : '?'); }
static void gxp_inner(void *arg)
{
    go_defer(mark_fn, M('2'));
    go_defer(panic_fn, "p");
    go_defer(mark_fn, M('1'));
    runtime_goexit();
}
static void gxp_entry(void *arg)
{
    go_defer(gx_signal, NULL);
    go_defer(mark_fn, M('3'));
    go_defer(gxp_rec, NULL);
    go_call(gxp_inner, NULL);
    mark('Y');  /* never: the goroutine still exits */
}

static int goexit_panic_main(int argc, char **argv)
{
    gx_done = chan_make(0, 0);
    go(gxp_entry, NULL);
    chan_recv(gx_done, NULL);
    GT_CHECK(strcmp(trail, "12R3e") == 0, "%s", trail);
    return 0;
}

Test(panic, goexit_resumes_after_recovered_panic) { gt_run(goexit_panic_main); }

/* ------------------------------------------------------------------ */
/* unrecovered panics: the report                                      */
/* ------------------------------------------------------------------ */


static __attribute__((noinline)) void crash_here(void *arg)
{
    go_panic("boom");
    __asm__ volatile("");
}
static int unrecovered_main(int argc, char **argv)
{
    printf("before\n");  /* stdout is flushed before the report */
    go_call(crash_here, NULL);
    return 0;
}

Test(panic, unrecovered_report)
{
    gt_result_t *r = gt_child_new(unrecovered_main, NULL);
    cr_assert_eq(r->status, 2, "status %d\n%s", r->status, r->out);
    cr_assert_not_null(strstr(r->out, "before\npanic: boom\n\ngoroutine 1 [running]:\ncrash_here(...)\n\t"),
                       "%s", r->out);
    cr_assert_not_null(strstr(r->out, "test/test_panic.c:"), "file:line missing:\n%s", r->out);
    cr_assert_not_null(strstr(r->out, "\nunrecovered_main(...)\n"), "%s", r->out);
    cr_assert_null(strstr(r->out, "call_frame"), "runtime frames shown:\n%s", r->out);
    free(r);
}

static void nested_b(void *arg) { (void)go_recover(); go_panic("B"); }
static void nested_body(void *arg) { go_defer(panic_fn, "C"); go_defer(nested_b, NULL); go_panic("A"); }
static int nested_main(int argc, char **argv) { go_call(nested_body, NULL); return 0; }

Test(panic, unrecovered_nested_report)
{
    gt_result_t *r = gt_child_new(nested_main, NULL);
    cr_assert_eq(r->status, 2, "status %d\n%s", r->status, r->out);
    cr_assert_not_null(strstr(r->out, "panic: A [recovered]\n\tpanic: B\n\tpanic: C\n\ngoroutine 1 [running]:\n"),
                       "%s", r->out);
    /* The panics raised inside deferred calls show go_panic frames. */
    cr_assert_not_null(strstr(r->out, "go_panic(...)"), "%s", r->out);
    free(r);
}

static chan_t *never;
static __attribute__((noinline)) void parked_worker(void *arg)
{
    chan_recv(never, NULL);
    __asm__ volatile("");
}
static void crash_in_goroutine(void *arg) { go_panic("from worker"); }
static int goroutine_crash_main(int argc, char **argv)
{
    never = chan_make(0, 0);
    go(parked_worker, NULL);
    gt_wait_parked(parked_worker, 1);
    go(crash_in_goroutine, NULL);
    chan_recv(never, NULL);
    return 0;
}

Test(panic, unrecovered_in_goroutine_single)
{
    gt_result_t *r = gt_child_new(goroutine_crash_main, NULL);
    cr_assert_eq(r->status, 2, "status %d\n%s", r->status, r->out);
    cr_assert_not_null(strstr(r->out, "panic: from worker\n\ngoroutine "),
                       "%s", r->out);
    cr_assert_not_null(strstr(r->out, " [running]:\ncrash_in_goroutine(...)\n"), "%s", r->out);
    cr_assert_not_null(strstr(r->out, "created by goroutine_crash_main\n\t"), "%s", r->out);
    cr_assert_null(strstr(r->out, "goroutine 1 ["), "single: others shown\n%s", r->out);
    free(r);
}

Test(panic, unrecovered_gotraceback_all)
{
    static const char *const env[] = {"GOTRACEBACK=all", NULL};
    gt_result_t *r = gt_child_new(goroutine_crash_main, env);
    cr_assert_eq(r->status, 2, "status %d\n%s", r->status, r->out);
    cr_assert_not_null(strstr(r->out, " [running]:\ncrash_in_goroutine(...)\n"), "%s", r->out);
    cr_assert_not_null(strstr(r->out, "\n\ngoroutine 1 [chan receive]:\ngoroutine_crash_main(...)\n"), "%s", r->out);
    cr_assert_not_null(strstr(r->out, " [chan receive]:\nparked_worker(...)\n"), "%s", r->out);
    free(r);
}

Test(panic, unrecovered_gotraceback_none)
{
    static const char *const env[] = {"GOTRACEBACK=none", NULL};
    gt_result_t *r = gt_child_new(goroutine_crash_main, env);
    cr_assert_eq(r->status, 2, "status %d\n%s", r->status, r->out);
    cr_assert_not_null(strstr(r->out, "panic: from worker\n"), "%s", r->out);
    cr_assert_null(strstr(r->out, "goroutine "), "%s", r->out);
    free(r);
}

Test(panic, unrecovered_gotraceback_crash_aborts)
{
    static const char *const env[] = {"GOTRACEBACK=crash", NULL};
    struct rlimit nocore = {0, 0};
    setrlimit(RLIMIT_CORE, &nocore);
    gt_result_t *r = gt_child_new(goroutine_crash_main, env);
    cr_assert_eq(r->status, 128 + SIGABRT, "status %d\n%s", r->status, r->out);
    cr_assert_not_null(strstr(r->out, "goroutine 1 [chan receive]:"), "crash implies all:\n%s", r->out);
    free(r);
}

/* GOTRACEBACK values as Go 1.19's setTraceback reads them: a number n is
 * level n with all goroutines (0 none, 1 all, 2 and up system); anything
 * else is level 0, no traceback at all, and gort says so on stderr. */
Test(panic, gotraceback_unknown_value_prints_no_traceback)
{
    static const char *const env[] = {"GOTRACEBACK=bogus", NULL};
    gt_result_t *r = gt_child_new(goroutine_crash_main, env);
    cr_assert_eq(r->status, 2, "status %d\n%s", r->status, r->out);
    cr_assert_not_null(strstr(r->out, "gort: GOTRACEBACK=bogus: unknown value, no tracebacks (as Go)\n"),
                       "%s", r->out);
    cr_assert_not_null(strstr(r->out, "panic: from worker\n"), "%s", r->out);
    cr_assert_null(strstr(r->out, "goroutine "), "%s", r->out);
    free(r);
}

Test(panic, gotraceback_out_of_range_number_prints_no_traceback)
{
    static const char *const env[] = {"GOTRACEBACK=-1", NULL};
    gt_result_t *r = gt_child_new(goroutine_crash_main, env);
    cr_assert_eq(r->status, 2, "status %d\n%s", r->status, r->out);
    cr_assert_not_null(strstr(r->out, "gort: GOTRACEBACK=-1: unknown value"), "%s", r->out);
    cr_assert_null(strstr(r->out, "goroutine "), "%s", r->out);
    free(r);
}

Test(panic, gotraceback_0_is_none)
{
    static const char *const env[] = {"GOTRACEBACK=0", NULL};
    gt_result_t *r = gt_child_new(goroutine_crash_main, env);
    cr_assert_eq(r->status, 2, "status %d\n%s", r->status, r->out);
    cr_assert_not_null(strstr(r->out, "panic: from worker\n"), "%s", r->out);
    cr_assert_null(strstr(r->out, "goroutine "), "%s", r->out);
    cr_assert_null(strstr(r->out, "gort: "), "a valid value:\n%s", r->out);
    free(r);
}

Test(panic, gotraceback_1_is_all)
{
    static const char *const vals[] = {"GOTRACEBACK=1", "GOTRACEBACK=01"};   /* Go's atoi */
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        const char *env[] = {vals[i], NULL};
        gt_result_t *r = gt_child_new(goroutine_crash_main, env);
        cr_assert_eq(r->status, 2, "%s: status %d\n%s", vals[i], r->status, r->out);
        cr_assert_not_null(strstr(r->out, " [running]:\ncrash_in_goroutine(...)\n"), "%s", r->out);
        cr_assert_not_null(strstr(r->out, "\n\ngoroutine 1 [chan receive]:\ngoroutine_crash_main(...)\n"),
                           "%s:\n%s", vals[i], r->out);
        cr_assert_null(strstr(r->out, " sp=0x"), "%s: not system:\n%s", vals[i], r->out);
        cr_assert_null(strstr(r->out, "gort: "), "%s: a valid value:\n%s", vals[i], r->out);
        free(r);
    }
}

Test(panic, gotraceback_2_and_up_are_system)
{
    static const char *const vals[] = {"GOTRACEBACK=2", "GOTRACEBACK=3"};
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        const char *env[] = {vals[i], NULL};
        gt_result_t *r = gt_child_new(goroutine_crash_main, env);
        cr_assert_eq(r->status, 2, "%s: status %d\n%s", vals[i], r->status, r->out);
        cr_assert_not_null(strstr(r->out, "\n\ngoroutine 1 [chan receive]:\n"), "%s:\n%s",
                           vals[i], r->out);
        cr_assert_not_null(strstr(r->out, " sp=0x"), "%s: runtime frames:\n%s", vals[i], r->out);
        cr_assert_null(strstr(r->out, "gort: "), "%s: a valid value:\n%s", vals[i], r->out);
        free(r);
    }
}

/* A panic in a deferred call during Goexit is reported normally. */
static void gx_crash_entry(void *arg) { go_defer(panic_fn, "during goexit"); runtime_goexit(); }
static int goexit_crash_main(int argc, char **argv)
{
    go(gx_crash_entry, NULL);
    time_sleep(10 * TIME_SECOND);   /* the report ends the process first */
    return 0;
}

Test(panic, panic_during_goexit_report)
{
    gt_result_t *r = gt_child_new(goexit_crash_main, NULL);
    cr_assert_eq(r->status, 2, "status %d\n%s", r->status, r->out);
    cr_assert_not_null(strstr(r->out, "panic: during goexit\n\ngoroutine "), "%s", r->out);
    free(r);
}

/* runtime_stack and debug_print_stack. */
static __attribute__((noinline)) void stack_here(void *arg)
{
    char *buf = arg;
    size_t n = runtime_stack(buf, 4096, false);
    buf[n < 4096 ? n : 4095] = 0;
    __asm__ volatile("");
}
static __attribute__((noinline)) void stack_all_worker(void *arg)
{
    chan_recv(never, NULL);
    __asm__ volatile("");
}
static int stack_main(int argc, char **argv)
{
    never = chan_make(0, 0);
    char buf[4096];
    go_call(stack_here, buf);
    GT_CHECK(strncmp(buf, "goroutine 1 [running]:\nstack_here(...)\n", 39) == 0, "%s", buf);
    GT_CHECK(strstr(buf, "\nstack_main(...)\n") != NULL, "%s", buf);
    GT_CHECK(runtime_stack(buf, 10, false) == 10, "truncates");
    go(stack_all_worker, NULL);
    gt_wait_parked(stack_all_worker, 1);
    char big[16384];
    size_t n = runtime_stack(big, sizeof big - 1, true);
    big[n] = 0;
    GT_CHECK(strstr(big, "goroutine 1 [running]:\n") == big, "%s", big);
    GT_CHECK(strstr(big, " [chan receive]:\nstack_all_worker(...)\n") != NULL, "%s", big);
    return 0;
}

Test(panic, runtime_stack) { gt_run(stack_main); }

/* Deferred arguments keep GC objects alive, inline and in the grown
 * defer array alike, across collections. */
#define GC_DEFERS 40
static int gc_checked;
static void check_obj(void *arg)
{
    uint64_t *o = arg;
    GT_CHECK(o[0] == 0x5eed0000u + o[1] && o[2] == ~o[0], "object %llu clobbered",
             (unsigned long long)o[1]);
    gc_checked++;
}
static void defer_gc_objects(void *arg)
{
    for (uint64_t i = 0; i < GC_DEFERS; i++) {
        uint64_t *o = gc_alloc(64);
        o[0] = 0x5eed0000u + i;
        o[1] = i;
        o[2] = ~o[0];
        go_defer(check_obj, o);
    }
    for (int k = 0; k < 3; k++) {
        runtime_gc();
        for (int j = 0; j < 1000; j++)  /* reuse freed memory if any */
            memset(gc_alloc(64), 0xab, 64);
    }
}
static int defer_gc_main(int argc, char **argv)
{
    go_call(defer_gc_objects, NULL);
    GT_CHECK(gc_checked == GC_DEFERS, "%d", gc_checked);
    return 0;
}

Test(panic, deferred_args_survive_gc) { gt_run(defer_gc_main); }

Test(panic, unrecovered_gotraceback_system)
{
    static const char *const env[] = {"GOTRACEBACK=system", NULL};
    gt_result_t *r = gt_child_new(unrecovered_main, env);
    cr_assert_eq(r->status, 2, "status %d\n%s", r->status, r->out);
    cr_assert_not_null(strstr(r->out, "\ncall_frame(...)\n\tsched/panic.c:"), "runtime frames:\n%s", r->out);
    cr_assert_not_null(strstr(r->out, " sp=0x"), "%s", r->out);
    cr_assert_not_null(strstr(r->out, " pc=0x"), "%s", r->out);
    free(r);
}

/* go_panic / go_call on a thread the runtime does not run: a misuse. */
static void *foreign_panic(void *arg) { go_panic("from a foreign thread"); }
static int foreign_main(int argc, char **argv)
{
    gt_on_foreign_thread(foreign_panic, NULL);
    return 0;
}

Test(panic, panic_outside_goroutine_is_misuse)
{
    struct rlimit nocore = {0, 0};
    setrlimit(RLIMIT_CORE, &nocore);
    gt_result_t *r = gt_child_new(foreign_main, NULL);
    cr_assert_eq(r->status, 128 + SIGABRT, "status %d\n%s", r->status, r->out);
    cr_assert_not_null(strstr(r->out, "gort: go_panic(\"from a foreign thread\") called outside a goroutine"),
                       "%s", r->out);
    free(r);
}

/* Goexit called by a deferred call while panicking ends the goroutine:
 * the panic is cancelled, the remaining defers run (as Go). */
static void call_goexit(void *arg) { runtime_goexit(); }
static void gxc_entry(void *arg)
{
    go_defer(gx_signal, NULL);
    go_defer(mark_fn, M('d'));
    go_defer(call_goexit, NULL);
    go_panic("cancelled by Goexit");
}
static int goexit_cancels_panic_main(int argc, char **argv)
{
    gx_done = chan_make(0, 0);
    go(gxc_entry, NULL);
    chan_recv(gx_done, NULL);
    time_sleep(20 * TIME_MILLISECOND);  /* the process must still be alive */
    GT_CHECK(strcmp(trail, "de") == 0, "%s", trail);
    return 0;
}

Test(panic, goexit_in_deferred_call_cancels_panic) { gt_run(goexit_cancels_panic_main); }

static __attribute__((noinline)) void print_stack_here(void *arg)
{
    debug_print_stack();
    __asm__ volatile("");
}
static int print_stack_main(int argc, char **argv)
{
    go_call(print_stack_here, NULL);
    return 0;
}

Test(panic, debug_print_stack_output)
{
    gt_result_t *r = gt_child_new(print_stack_main, NULL);
    cr_assert_eq(r->status, 0, "status %d\n%s", r->status, r->out);
    cr_assert_not_null(strstr(r->out, "goroutine 1 [running]:\nprint_stack_here(...)\n\ttest/test_panic.c:"),
                       "%s", r->out);
    cr_assert_not_null(strstr(r->out, "\nprint_stack_main(...)\n"), "%s", r->out);
    free(r);
}

/* ---- main's own deferred calls ------------------------------------------ */

static void main_defer_print(void *arg) { printf("deferred %s\n", (const char *)arg); }
static void main_defer_recover(void *arg)
{
    const char *m = go_recover();
    printf("recovered %s\n", m ? m : "(nothing)");
}

/* Defers registered by the main function itself run when it returns (or
 * panics), and may recover: then main returns normally, as Go's. */
static int main_with_defers(int argc, char **argv)
{
    go_defer(main_defer_print, "first");
    go_defer(main_defer_recover, NULL);
    go_panic("in main");
    return 7;
}

Test(panic, main_function_defers_run_and_recover, .timeout = 30)
{
    GT_EXPECT_EXIT(main_with_defers, NULL, 20000, 0, "recovered in main\ndeferred first\n");
}
