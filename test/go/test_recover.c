/*
 * test/go/test_recover.c -- ports of Go's test/recover.go and
 * test/recover1.go (the cases that do not need methods, reflection or
 * interfaces), with go_call/go_defer/go_panic/go_recover.
 *
 * Go's panic values are ints; here they are strings "1", "2", ...
 *
 * C-specific care: a helper that must NOT count as "called directly by
 * the deferred function" is noinline and must not tail-call go_recover
 * (NO_TAIL): after a tail call the helper's frame is gone, and the
 * recover would look direct (documented in docs/panic.md).
 */
#include "helpers.h"

#pragma GCC diagnostic ignored "-Wformat-zero-length"

#define NOINLINE __attribute__((noinline))
#define NO_TAIL() __asm__ volatile("" ::: "memory")

static void defer_recover(void) { go_defer((void (*)(void *))(void *)go_recover, NULL); }

static bool is(const char *v, const char *want) { return v && strcmp(v, want) == 0; }

static NOINLINE const char *double_recover(void)
{
    const char *v = go_recover();
    NO_TAIL();
    return v;
}

/* mustRecoverBody(doubleRecover(), recover(), recover(), x) */
static void must_recover(void *x)
{
    const char *v1 = double_recover();
    const char *v2 = go_recover();
    const char *v3 = go_recover();
    GT_CHECK(v1 == NULL, "spurious recover %s", v1);
    GT_CHECK(is(v2, x), "missing/wrong recover %s, want %s", v2 ? v2 : "nil", (char *)x);
    GT_CHECK(v3 == NULL, "recover didn't recover: %s", v3);
}

static void must_not_recover(void *arg)
{
    const char *v = go_recover();
    GT_CHECK(v == NULL, "spurious recover %s", v);
}

static NOINLINE void must_not_recover_call(void)
{
    must_not_recover(NULL);
    NO_TAIL();
}

static void without_recover(void *arg) { must_not_recover_call(); NO_TAIL(); }

static NOINLINE void without_recover_recursive(void *arg)
{
    if (arg == NULL) {
        without_recover_recursive((void *)1);
        NO_TAIL();
    } else {
        const char *v = go_recover();
        GT_CHECK(v == NULL, "spurious recover (recursive) %s", v);
    }
}

/* ------------------------------------------------------------------ */
/* recover.go                                                          */
/* ------------------------------------------------------------------ */

static void test1(void *arg)
{
    go_defer(must_not_recover, NULL);          /* because must_recover squelches it */
    go_defer(must_recover, "1");               /* because of the panic below */
    go_defer(without_recover, NULL);           /* no-op, leaves it for must_recover */
    go_defer(without_recover_recursive, NULL); /* ditto */
    go_panic("1");
}

static void t1c_a(void *arg) { GT_CHECK(go_recover() == NULL, "spurious recover in closure"); }
static void t1c_b(void *x)
{
    must_not_recover_call();
    const char *v = go_recover();
    GT_CHECK(is(v, x), "missing recover");
}
static void t1c_c(void *arg) { must_not_recover_call(); NO_TAIL(); }
static void test1_with_closures(void *arg)
{
    go_defer(t1c_a, NULL);
    go_defer(t1c_b, "1");
    go_defer(t1c_c, NULL);
    go_panic("1");
}

/* Recover sees the panic only from a deferred call: not from a call
 * within one (too late), nor when it *is* the deferred call (too early). */
static void test2(void *arg)
{
    go_defer(must_recover, "2");
    defer_recover();  /* no-op */
    go_panic("2");
}

static void squelch(void *arg) { (void)go_recover(); NO_TAIL(); }
static void test3(void *arg)
{
    go_defer(must_not_recover, NULL);
    go_defer(squelch, NULL);
    go_panic("3");
}

static void defers_recover(void *arg) { defer_recover(); }
static void test4(void *arg)
{
    go_defer(must_not_recover, NULL);
    go_defer(defers_recover, NULL);  /* defer recover() inside: squelches */
    go_panic("4");
}

/* try(g, deflt): runs g deferred; returns the panic value or deflt. */
typedef struct { void (*g)(void *); const char *x; } try_t;
static void try_recover(void *arg)
{
    try_t *t = arg;
    const char *v = go_recover();
    if (v)
        t->x = v;
}
static void try_g(void *arg) { try_t *t = arg; t->g(NULL); }
static void try_body(void *arg) { go_defer(try_recover, arg); go_defer(try_g, arg); }
static const char *try(void (*g)(void *), const char *deflt)
{
    try_t t = {g, deflt};
    go_call(try_body, &t);
    return t.x;
}
static void panic5(void *arg) { go_panic("5"); }
static void nothing(void *arg) {}
static void test5(void *arg)
{
    GT_CHECK(is(try(panic5, "55"), "5"));
    GT_CHECK(is(try(nothing, "hi"), "hi"));
}

/* A deferred call with a big frame still recovers correctly (Go used a
 * new stack segment; here the frame is as big as a 64 KiB stack allows). */
static NOINLINE void big(void *must)
{
    volatile char x[16384];
    x[0] = 1;
    x[sizeof x - 1] = 1;
    const char *v = go_recover();
    if (must)
        GT_CHECK(v != NULL, "missing big recover");
    else
        GT_CHECK(v == NULL, "spurious big recover");
    (void)x[0];
}
static void test6(void *arg)
{
    go_defer(big, NULL);
    go_defer(big, (void *)1);
    go_panic("6");
}

static bool ok7;
static void set_ok(void *arg) { ok7 = true; }
static void test7_inner(void *arg)
{
    go_defer(set_ok, NULL);
    go_defer(must_recover, "7");
    go_panic("7");
}
static void test7(void *arg)
{
    go_call(test7_inner, NULL);
    GT_CHECK(ok7, "did not run ok func");
}

/* Deferred calls can set the frame's results through pointers. */
typedef struct { int *s; int a[3]; } varargs_t;
static void varargs(void *arg)
{
    varargs_t *v = arg;
    *v->s = v->a[0] + v->a[1] + v->a[2];
    if (go_recover() != NULL)
        *v->s += 100;
}
static void test8a(void *arg) { static varargs_t v; v = (varargs_t){arg, {1, 2, 3}}; go_defer(varargs, &v); go_panic("0"); }
static void test8b(void *arg) { static varargs_t v; v = (varargs_t){arg, {4, 5, 6}}; go_defer(varargs, &v); }
static void test8(void *arg)
{
    int r = 0;
    go_call(test8a, &r);
    GT_CHECK(r == 106, "%d", r);
    go_call(test8b, &r);
    GT_CHECK(r == 15, "%d", r);
}

static int recover_go_main(int argc, char **argv)
{
    void (*tests[])(void *) = {test1, test1_with_closures, test2, test3, test4,
                               test5, test6, test7, test8};
    for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++)
        go_call(tests[i], NULL);
    return 0;
}

Test(go_recover, recover_go) { gt_run(recover_go_main); }

/* ------------------------------------------------------------------ */
/* recover1.go                                                         */
/* ------------------------------------------------------------------ */

/* mustRecover(x) of recover1.go: also checks a sub-call does not see it. */
static void must_recover1(void *x)
{
    must_not_recover_call();
    const char *v = go_recover();
    GT_CHECK(is(v, x), "have %s, want %s", v ? v : "nil", (char *)x);
    GT_CHECK(go_recover() == NULL, "recover didn't recover");
}

/* Easy nested recursive panic. */
static void r1_t1_d(void *arg) { go_defer(must_recover1, "2"); go_panic("2"); }
static void r1_test1(void *arg) { go_defer(must_recover1, "1"); go_defer(r1_t1_d, NULL); go_panic("1"); }

/* Sequential panic. */
static void r1_t2_d(void *arg)
{
    const char *v = go_recover();
    GT_CHECK(is(v, "2"), "wrong value %s", v ? v : "nil");
    go_defer(must_recover1, "3");
    go_panic("3");
}
static void r1_test2(void *arg) { go_defer(must_not_recover, NULL); go_defer(r1_t2_d, NULL); go_panic("2"); }

static void r1_t3_d(void *arg) { (void)go_recover(); go_defer(must_recover1, "3"); go_panic("3"); }
static void r1_test3(void *arg) { go_defer(must_not_recover, NULL); go_defer(r1_t3_d, NULL); go_panic("2"); }

static void r1_test4(void *arg) { go_defer(must_not_recover, NULL); go_defer(squelch, NULL); go_panic("4"); }

/* Single panic, recover called via defer. */
static void r1_test5(void *arg) { go_defer(must_not_recover, NULL); go_defer(defers_recover, NULL); go_panic("5"); }

/* Like test3 with "defer recover()", which runs once must_recover1
 * stopped panic 3, like a normal call from this function: it recovers 2. */
static void r1_t6_d(void *arg) { defer_recover(); go_defer(must_recover1, "3"); go_panic("3"); }
static void r1_test6(void *arg) { go_defer(must_not_recover, NULL); go_defer(r1_t6_d, NULL); go_panic("2"); }

/* Swapped: "defer recover()" now runs from panic 3's walk: a no-op. */
static void r1_t7_d(void *arg) { go_defer(must_recover1, "3"); defer_recover(); go_panic("3"); }
static void r1_test7(void *arg) { go_defer(must_recover1, "2"); go_defer(r1_t7_d, NULL); go_panic("2"); }

static int recover1_go_main(int argc, char **argv)
{
    void (*tests[])(void *) = {r1_test1, r1_test2, r1_test3, r1_test4,
                               r1_test5, r1_test6, r1_test7};
    for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++)
        go_call(tests[i], NULL);
    return 0;
}

Test(go_recover, recover1_go) { gt_run(recover1_go_main); }

/* ------------------------------------------------------------------ */
/* recover4.go: with debug_set_panic_on_fault, a fault at any address   */
/* panics; memcopy across a PROT_NONE hole returns what it copied.      */
/* ------------------------------------------------------------------ */

#include <sys/mman.h>

typedef struct { char *dst, *src; size_t len, n; const char *err; } memcopy_t;
static void memcopy_recover(void *arg) { ((memcopy_t *)arg)->err = go_recover(); }
static NOINLINE void memcopy_body(void *arg)
{
    memcopy_t *m = arg;
    go_defer(memcopy_recover, m);
    for (size_t i = 0; i < m->len; i++) {
        ((volatile char *)m->dst)[i] = m->src[i];
        m->n++;
    }
}

static int recover4_main(int argc, char **argv)
{
    size_t size = (size_t)getpagesize();
    char *data = mmap(NULL, 16 * size, PROT_READ | PROT_WRITE, MAP_ANON | MAP_PRIVATE, -1, 0);
    GT_CHECK(data != MAP_FAILED);
    GT_CHECK(mprotect(data + 8 * size, 4 * size, PROT_NONE) == 0);
    char *src = calloc(16, size);
    GT_CHECK(debug_set_panic_on_fault(true) == false);
    const size_t offset = 5;
    memcopy_t m = {data + offset, src, 16 * size - offset, 0, NULL};
    go_call(memcopy_body, &m);
    GT_CHECK(m.err && strcmp(m.err, "runtime error: invalid memory address or nil pointer dereference") == 0,
             "%s", m.err ? m.err : "no error from memcopy across memory hole");
    GT_CHECK(m.n == 8 * size - offset, "memcopy returned %zu, want %zu", m.n, 8 * size - offset);
    GT_CHECK(debug_set_panic_on_fault(false) == true);
    free(src);
    return 0;
}

Test(go_recover, recover4_go) { gt_run(recover4_main); }

/* Without it, the same fault is fatal ("unexpected fault address"). */
static int recover4_off_main(int argc, char **argv)
{
    size_t size = (size_t)getpagesize();
    char *data = mmap(NULL, 2 * size, PROT_READ | PROT_WRITE, MAP_ANON | MAP_PRIVATE, -1, 0);
    mprotect(data + size, size, PROT_NONE);
    char src[64] = {0};
    memcopy_t m = {data + size - 32, src, 64, 0, NULL};
    go_call(memcopy_body, &m);
    return 0;
}

Test(go_recover, fault_without_panic_on_fault_is_fatal)
{
    GT_EXPECT_EXIT(recover4_off_main, NULL, 20000, 2, "unexpected fault address 0x",
                   "fatal error: fault\n");
}
