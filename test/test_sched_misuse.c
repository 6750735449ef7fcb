/*
 * test/test_sched_misuse.c -- the API called where no goroutine exists:
 * before runtime_main, or from a thread the runtime did not create. Each
 * call must either work or stop the program with a message that says what
 * was done wrong ("gort: ..." on stderr, then abort); never crash silently
 * or corrupt the scheduler.
 */

#include "helpers.h"
#include "sched_helpers.h"

static int run_void_fn(void *arg)
{
    void (*fn)(void) = *(void (**)(void))arg;
    alarm(20);
    fn();
    return 0;
}

/* Runs fn in a forked child with stdout+stderr captured (no runtime_main
 * unless fn calls it); the child exits 0 when fn returns, and SIGALRM
 * ends it after 20 s. */
static void fork_capture(gt_result_t *r, void (*fn)(void))
{
    gt_spawn(r, run_void_fn, &fn, 25000);
}

/* Either it worked (status 0 and the work was done, as `worked` says in
 * the output), or it aborted with a "gort: " message. */
static void expect_works_or_clear_abort(gt_result_t *r, const char *what)
{
    if (r->status == 0) {
        cr_assert_not_null(strstr(r->out, "WORKED"),
                           "%s: exited 0 without doing the work; output:\n%s",
                           what, r->out);
        return;
    }
    cr_assert_not_null(strstr(r->out, "gort: "),
                       "%s: status %d without a clear message; output:\n%s",
                       what, r->status, r->out);
    cr_assert_eq(r->status, 128 + SIGABRT, "%s: status %d; output:\n%s", what,
                 r->status, r->out);
}

/* ---- before runtime_main ------------------------------------------------ */

static _Atomic int early_ran;
static void early(void *arg) { atomic_store(&early_ran, 1); }

static int main_wait_early(int argc, char **argv)
{
    gt_yield_until(&early_ran, 5000);
    if (atomic_load(&early_ran))
        printf("WORKED\n");
    return atomic_load(&early_ran) ? 0 : 1;
}

static void go_before_main(void)
{
    go(early, NULL); /* queued for when the runtime starts, or abort */
    char *argv[] = {(char *)"misuse", NULL};
    _exit(runtime_main(main_wait_early, 1, argv));
}

Test(sched_misuse, go_before_runtime_main, .timeout = 30)
{
    gt_result_t *r = malloc(sizeof *r);
    fork_capture(r, go_before_main);
    expect_works_or_clear_abort(r, "go() before runtime_main");
    free(r);
}

static void gosched_before_main(void)
{
    runtime_gosched(); /* nothing to yield to: return, or abort */
    printf("WORKED\n");
}

Test(sched_misuse, gosched_before_runtime_main, .timeout = 30)
{
    gt_result_t *r = malloc(sizeof *r);
    fork_capture(r, gosched_before_main);
    expect_works_or_clear_abort(r, "runtime_gosched() before runtime_main");
    free(r);
}

static void queries_before_main(void)
{
    /* Plain queries have obvious answers without a runtime. */
    int ok = runtime_num_cpu() >= 1 && runtime_gomaxprocs(0) >= 1;
    if (ok)
        printf("WORKED\n");
}

Test(sched_misuse, queries_before_runtime_main, .timeout = 30)
{
    gt_result_t *r = malloc(sizeof *r);
    fork_capture(r, queries_before_main);
    expect_works_or_clear_abort(r, "runtime_num_cpu/gomaxprocs(0) before runtime_main");
    free(r);
}

static int main_twice_inner(int argc, char **argv) { return 0; }

static int main_calls_main(int argc, char **argv)
{
    char *av[] = {(char *)"again", NULL};
    runtime_main(main_twice_inner, 1, av); /* at most once per process */
    printf("WORKED\n");
    return 0;
}

static void runtime_main_twice(void)
{
    char *argv[] = {(char *)"misuse", NULL};
    _exit(runtime_main(main_calls_main, 1, argv));
}

Test(sched_misuse, runtime_main_inside_runtime_main, .timeout = 30)
{
    gt_result_t *r = malloc(sizeof *r);
    fork_capture(r, runtime_main_twice);
    /* "Works" makes no sense here: it must be refused clearly (abort with
     * "gort: ", or a Go-style fatal error, exit 2). */
    cr_assert_neq(r->status, 0, "nested runtime_main accepted; output:\n%s", r->out);
    cr_assert(strstr(r->out, "gort: ") || strstr(r->out, "fatal error: "),
              "status %d without a clear message; output:\n%s", r->status, r->out);
    free(r);
}

/* ---- from a foreign pthread -------------------------------------------- */

static _Atomic int foreign_spawned_ran;
static void spawned_by_foreign(void *arg) { atomic_store(&foreign_spawned_ran, 1); }

static void *foreign_go(void *arg)
{
    go(spawned_by_foreign, NULL);
    return NULL;
}

static int main_foreign_go(int argc, char **argv)
{
    gt_on_foreign_thread(foreign_go, NULL);
    gt_yield_until(&foreign_spawned_ran, 5000);
    if (atomic_load(&foreign_spawned_ran))
        printf("WORKED\n");
    return atomic_load(&foreign_spawned_ran) ? 0 : 1;
}

static void run_main_foreign_go(void)
{
    char *argv[] = {(char *)"misuse", NULL};
    _exit(runtime_main(main_foreign_go, 1, argv));
}

Test(sched_misuse, go_from_foreign_thread, .timeout = 30)
{
    gt_result_t *r = malloc(sizeof *r);
    fork_capture(r, run_main_foreign_go);
    expect_works_or_clear_abort(r, "go() from a foreign pthread");
    free(r);
}

static void *foreign_gosched(void *arg)
{
    for (int i = 0; i < 10; i++)
        runtime_gosched();
    return (void *)1;
}

static int main_foreign_gosched(int argc, char **argv)
{
    void *ret = gt_on_foreign_thread(foreign_gosched, NULL);
    if (ret == (void *)1)
        printf("WORKED\n");
    /* The scheduler is still fine. */
    runtime_gosched();
    return 0;
}

static void run_main_foreign_gosched(void)
{
    char *argv[] = {(char *)"misuse", NULL};
    _exit(runtime_main(main_foreign_gosched, 1, argv));
}

Test(sched_misuse, gosched_from_foreign_thread, .timeout = 30)
{
    gt_result_t *r = malloc(sizeof *r);
    fork_capture(r, run_main_foreign_gosched);
    expect_works_or_clear_abort(r, "runtime_gosched() from a foreign pthread");
    free(r);
}

/* exitsyscall without entersyscall: a bracket mismatch is a bug in the
 * program; it must be reported, not corrupt the P. */
static int main_bad_exitsyscall(int argc, char **argv)
{
    runtime_exitsyscall();
    printf("WORKED\n");
    runtime_gosched();
    return 0;
}

static void run_main_bad_exitsyscall(void)
{
    char *argv[] = {(char *)"misuse", NULL};
    _exit(runtime_main(main_bad_exitsyscall, 1, argv));
}

Test(sched_misuse, exitsyscall_without_entersyscall, .timeout = 30)
{
    gt_result_t *r = malloc(sizeof *r);
    fork_capture(r, run_main_bad_exitsyscall);
    /* Tolerating it (no-op) is acceptable too; crashing silently is not. */
    if (r->status != 0)
        cr_assert(strstr(r->out, "gort: ") || strstr(r->out, "fatal error: "),
                  "status %d without a clear message; output:\n%s", r->status,
                  r->out);
    else
        cr_assert_not_null(strstr(r->out, "WORKED"), "output:\n%s", r->out);
    free(r);
}
