/*
 * test/go/test_crash_panic.c -- ports of the panic cases of Go's
 * src/runtime/crash_test.go (programs in testdata/testprog/deadlock.go):
 * each runs as a child process and its output is matched as Go matches
 * it (prefix, or functions in order in the traceback).
 *
 * Go's fmt.Println(recover()) prints "<nil>" for no value; so does show().
 */
#include "helpers.h"

#define NOINLINE __attribute__((noinline))
#define KEEP_FRAME() __asm__ volatile("" ::: "memory")

static void panic_fn(void *msg) { go_panic(msg); }
static void show(const char *v) { printf("%s\n", v ? v : "<nil>"); }
static void show_recover(void *arg) { show(go_recover()); }
static void nothing(void *arg) {}

static gt_result_t *run(int (*fn)(int, char **))
{
    gt_result_t *r = malloc(sizeof *r);
    gt_child(r, fn, NULL, 20000);
    return r;
}

static void expect_prefix(int (*fn)(int, char **), const char *want)
{
    gt_result_t *r = run(fn);
    cr_assert_eq(r->status, 2, "status %d\n%s", r->status, r->out);
    cr_assert(strncmp(r->out, want, strlen(want)) == 0,
              "output does not start with \"%s\":\n%s", want, r->out);
    free(r);
}

/* RecursivePanic: a deferred call recovers and panics with a wrapped
 * value, recovered further out; then a new panic. */
static char wrapped[64];
static void rp_wrap(void *arg)
{
    const char *err = go_recover();
    if (err) {
        snprintf(wrapped, sizeof wrapped, "wrap: %s", err);
        go_panic(wrapped);
    }
}
static void rp_inner(void *arg)
{
    volatile char x[8192];
    x[0] = 1;
    (void)x[0];
    go_defer(rp_wrap, NULL);
    go_panic("bad");
}
static void rp_outer(void *arg) { go_defer(show_recover, NULL); go_call(rp_inner, NULL); KEEP_FRAME(); }
static int recursive_panic(int argc, char **argv) { go_call(rp_outer, NULL); go_panic("again"); }

Test(go_crash, recursive_panic) { expect_prefix(recursive_panic, "wrap: bad\npanic: again\n\n"); }

/* RecursivePanic2: the recover and the second panic in separate defers. */
static void rp2_inner(void *arg)
{
    go_defer(panic_fn, "second panic");
    go_defer(show_recover, NULL);
    go_panic("first panic");
}
static void rp2_outer(void *arg) { go_defer(show_recover, NULL); go_call(rp2_inner, NULL); KEEP_FRAME(); }
static int recursive_panic2(int argc, char **argv) { go_call(rp2_outer, NULL); go_panic("third panic"); }

Test(go_crash, recursive_panic2)
{
    expect_prefix(recursive_panic2, "first panic\nsecond panic\npanic: third panic\n\n");
}

/* RecursivePanic3: the first panic finishes as a panic even though the
 * second one was recovered. */
static void rp3_recover(void *arg) { (void)go_recover(); }
static void rp3_d2(void *arg) { go_defer(rp3_recover, NULL); go_panic("second panic"); }
static int recursive_panic3(int argc, char **argv)
{
    go_defer(rp3_d2, NULL);
    go_panic("first panic");
}

Test(go_crash, recursive_panic3) { expect_prefix(recursive_panic3, "panic: first panic\n\n"); }

/* RecursivePanic4: one defer recovers the first panic and starts a second:
 * the first stays on the panic stack, labelled [recovered]. */
static void rp4_d(void *arg) { (void)go_recover(); go_panic("second panic"); }
static int recursive_panic4(int argc, char **argv) { go_defer(rp4_d, NULL); go_panic("first panic"); }

Test(go_crash, recursive_panic4)
{
    expect_prefix(recursive_panic4, "panic: first panic [recovered]\n\tpanic: second panic\n");
}

/* RecursivePanic5: a recover in a defer while another defer of the same
 * frame is still to run, with defers higher up the stack. */
static void rp5_recover_repanic(void *arg) { show(go_recover()); go_panic("second panic"); }
static NOINLINE void three(void *arg)
{
    go_defer(nothing, NULL);
    go_defer(show_recover, NULL);
    go_defer(rp5_recover_repanic, NULL);
    go_panic("first panic");
}
static NOINLINE void two(void *arg) { go_defer(nothing, NULL); go_call(three, NULL); KEEP_FRAME(); }
static NOINLINE void one(void *arg) { go_call(two, NULL); KEEP_FRAME(); }
static int recursive_panic5(int argc, char **argv) { go_call(one, NULL); go_panic("third panic"); }

Test(go_crash, recursive_panic5)
{
    expect_prefix(recursive_panic5, "first panic\nsecond panic\npanic: third panic\n");
}

/* GoexitInPanic: a goroutine's deferred Goexit cancels its panic; main
 * Goexits: no goroutines left. */
static void call_goexit(void *arg) { runtime_goexit(); }
static void gip_g(void *arg) { go_defer(call_goexit, NULL); go_panic("hello"); }
static int goexit_in_panic(int argc, char **argv) { go(gip_g, NULL); runtime_goexit(); return 0; }

Test(go_crash, goexit_in_panic)
{
    expect_prefix(goexit_in_panic, "fatal error: no goroutines (main called runtime.Goexit) - deadlock!");
}

/* PanicAfterGoexit: an uncaught panic still works after Goexit. */
static int panic_after_goexit(int argc, char **argv)
{
    go_defer(panic_fn, "hello");
    runtime_goexit();
    return 0;
}

Test(go_crash, panic_after_goexit) { expect_prefix(panic_after_goexit, "panic: hello"); }

/* RecoveredPanicAfterGoexit: the Goexit goes on after the recovered
 * panic. */
static void must_recover(void *arg)
{
    if (go_recover() == NULL)
        go_panic("bad recover");
}
static void rpag_d(void *arg) { go_defer(must_recover, NULL); go_panic("hello"); }
static int recovered_panic_after_goexit(int argc, char **argv)
{
    go_defer(rpag_d, NULL);
    runtime_goexit();
    return 0;
}

Test(go_crash, recovered_panic_after_goexit)
{
    expect_prefix(recovered_panic_after_goexit,
                  "fatal error: no goroutines (main called runtime.Goexit) - deadlock!");
}

/* RecoverBeforePanicAfterGoexit(2): the recovery resumes the Goexit loop,
 * not the caller (which would make the Goexit disappear). */
static int recover_before_panic_after_goexit(int argc, char **argv)
{
    go_defer(must_recover, NULL);
    go_defer(panic_fn, "hello");
    runtime_goexit();
    return 0;
}

static int recover_before_panic_after_goexit2(int argc, char **argv)
{
    for (int i = 0; i < 2; i++)
        go_defer(nothing, NULL);
    go_defer(must_recover, NULL);
    go_defer(panic_fn, "hello");
    runtime_goexit();
    return 0;
}

Test(go_crash, recover_before_panic_after_goexit)
{
    expect_prefix(recover_before_panic_after_goexit,
                  "fatal error: no goroutines (main called runtime.Goexit) - deadlock!");
    expect_prefix(recover_before_panic_after_goexit2,
                  "fatal error: no goroutines (main called runtime.Goexit) - deadlock!");
}

/* PanicTraceback: the chain, and the functions in order in the stack. */
static void pt1_d(void *arg) { go_panic("panic pt1"); }
static void pt2_d(void *arg) { go_panic("panic pt2"); }
static NOINLINE void pt2(void *arg) { go_defer(pt2_d, NULL); go_panic("hello"); }
static NOINLINE void pt1(void *arg) { go_defer(pt1_d, NULL); go_call(pt2, NULL); KEEP_FRAME(); }
static int panic_traceback(int argc, char **argv) { go_call(pt1, NULL); return 0; }

Test(go_crash, panic_traceback)
{
    gt_result_t *r = run(panic_traceback);
    cr_assert_eq(r->status, 2, "status %d\n%s", r->status, r->out);
    const char *want = "panic: hello\n\tpanic: panic pt2\n\tpanic: panic pt1\n";
    cr_assert(strncmp(r->out, want, strlen(want)) == 0, "%s", r->out);
    static const char *const fns[] = {"pt1_d", "go_panic", "pt2_d", "go_panic", "pt2", "pt1"};
    const char *at = r->out;
    for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++) {
        char line[64];
        snprintf(line, sizeof line, "\n%s(...)\n", fns[i]);
        const char *f = strstr(at, line);
        cr_assert_not_null(f, "expected %s in traceback after offset %zu:\n%s", fns[i],
                           (size_t)(at - r->out), r->out);
        at = f + strlen(line);
    }
    free(r);
}
