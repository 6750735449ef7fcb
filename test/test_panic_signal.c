/*
 * test/test_panic_signal.c -- faults turned into Go's runtime-error
 * panics, fatal signals, stack overflow, SIGQUIT goroutine dumps and the
 * deadlock dump: stderr and exit status of a child process are matched.
 *
 * Faulting functions are noinline and keep their frame (no tail call), so
 * the traceback shows them by name.
 */
#include <signal.h>

#include "helpers.h"
#include "sched_helpers.h"

#pragma GCC diagnostic ignored "-Wformat-zero-length"

#define NOINLINE __attribute__((noinline))
#define KEEP_FRAME() __asm__ volatile("" ::: "memory")
#define NILMSG "runtime error: invalid memory address or nil pointer dereference"

/* A child running fn (env NULL for none) exits 2 with each string in its
 * output: FATAL_CHILD returns the result (the caller frees it),
 * EXPECT_FATAL has nothing more to check. */
#define FATAL_CHILD(fn, env, ...) GT_CHILD_EXPECT(fn, env, 30000, 2, __VA_ARGS__)
#define EXPECT_FATAL(fn, env, ...) GT_EXPECT_EXIT(fn, env, 30000, 2, __VA_ARGS__)

static int *volatile nilp;
static volatile int zero;

static NOINLINE void deref_nil(void *arg)
{
    *nilp = 42;
    KEEP_FRAME();
}

static NOINLINE void divide_by_zero(void *arg)
{
    volatile int x = 7;
    *(volatile int *)arg = x / zero;
    KEEP_FRAME();
}

/* ------------------------------------------------------------------ */
/* recovered runtime errors                                            */
/* ------------------------------------------------------------------ */

static const char *got;
static int after_fault;
static void catch_it(void *arg) { got = go_recover(); }
static void guarded(void *arg)
{
    go_defer(catch_it, NULL);
    ((void (*)(void *))arg)(&after_fault);
    after_fault = 1;  /* never: the faulting frame is abandoned */
}

static int recover_nil_main(int argc, char **argv)
{
    for (int i = 0; i < 200; i++) {
        got = NULL;
        go_call(guarded, (void *)deref_nil);
        GT_CHECK(got && strcmp(got, NILMSG) == 0, "%s", got ? got : "(null)");
        if (!got)
            break;
        runtime_gosched();
    }
    GT_CHECK(after_fault == 0);
    got = NULL;
    go_call(guarded, (void *)divide_by_zero);
    GT_CHECK(got && strcmp(got, "runtime error: integer divide by zero") == 0, "%s",
             got ? got : "(null)");
    return 0;
}

Test(panic_signal, recover_nil_deref_and_divide) { gt_run(recover_nil_main); }

/* Calling a nil function pointer is Go's nil dereference too. */
static void (*volatile nilfn)(void *);
static NOINLINE void call_nil(void *arg)
{
    nilfn(arg);
    KEEP_FRAME();
}
static int nil_call_main(int argc, char **argv)
{
    got = NULL;
    go_call(guarded, (void *)call_nil);
    GT_CHECK(got && strcmp(got, NILMSG) == 0, "%s", got ? got : "(null)");
    return 0;
}

Test(panic_signal, recover_nil_function_call) { gt_run(nil_call_main); }

static int nil_call_fatal_main(int argc, char **argv) { call_nil(NULL); return 0; }

Test(panic_signal, unrecovered_nil_function_call_report)
{
    EXPECT_FATAL(nil_call_fatal_main, NULL,
                 "panic: " NILMSG "\n"
                 "[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x0]\n\n"
                 "goroutine 1 [running]:\ncall_nil(...)\n");
}

/* A goroutine recovers its own fault while others keep running. */
static sync_waitgroup_t wg;
static _Atomic int recovered;
static void g_catch(void *arg)
{
    const char *r = go_recover();
    if (r && strcmp(r, NILMSG) == 0)
        atomic_fetch_add(&recovered, 1);
}
/* Faults once under a deferred g_catch (guarded's catch_it would write
 * the shared `got` from eight goroutines at once). */
static void g_guarded(void *arg)
{
    go_defer(g_catch, NULL);
    deref_nil(NULL);
}
static void g_faulter(void *arg)
{
    for (int i = 0; i < 20; i++)
        go_call(g_guarded, NULL);
    go_defer(g_catch, NULL);
    deref_nil(NULL);
}
static void g_done(void *arg) { sync_waitgroup_done(&wg); }
static void g_entry(void *arg) { go_defer(g_done, NULL); go_call(g_faulter, NULL); }

static int goroutines_fault_main(int argc, char **argv)
{
    sync_waitgroup_add(&wg, 8);
    for (int i = 0; i < 8; i++)
        go(g_entry, NULL);
    sync_waitgroup_wait(&wg);
    GT_CHECK(atomic_load(&recovered) == 8 * 21, "%d", atomic_load(&recovered));
    return 0;
}

Test(panic_signal, goroutines_recover_faults)
{
    GT_SKIP_UNDER("thread", "TSan records each nil write before it faults, so eight "
                  "goroutines' deliberate nil writes look like a race on address 0");
    gt_run(goroutines_fault_main);
}

/* ------------------------------------------------------------------ */
/* fatal reports                                                       */
/* ------------------------------------------------------------------ */

static int nil_main(int argc, char **argv)
{
    go_call(deref_nil, NULL);
    return 0;
}

Test(panic_signal, unrecovered_nil_deref_report)
{
    EXPECT_FATAL(nil_main, NULL,
                 "panic: " NILMSG "\n"
                 "[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x",
                 "]\n\ngoroutine 1 [running]:\nderef_nil(...)\n\t",
                 "\nnil_main(...)\n");
}

static int divide_main(int argc, char **argv)
{
    int out;
    divide_by_zero(&out);
    return 0;
}

Test(panic_signal, unrecovered_divide_report)
{
    EXPECT_FATAL(divide_main, NULL,
                 "panic: runtime error: integer divide by zero\n"
                 "[signal SIGFPE: floating-point exception code=0x1 addr=0x",
                 "goroutine 1 [running]:\ndivide_by_zero(...)\n");
}

/* A wild (non-nil) address is fatal in Go: "unexpected fault address". */
static NOINLINE void deref_wild(void *arg)
{
    *(volatile int *)(uintptr_t)0xdead0000 = 1;
    KEEP_FRAME();
}
static void wild_catch(void *arg) { (void)go_recover(); }
static void wild_body(void *arg) { go_defer(wild_catch, NULL); deref_wild(NULL); }
static int wild_main(int argc, char **argv) { go_call(wild_body, NULL); return 0; }

Test(panic_signal, wild_address_is_fatal)
{
    GT_SKIP_UNDER("address", "the access checks the wild address's shadow first, "
                  "and that faults in ASan's shadow gap instead");
    EXPECT_FATAL(wild_main, NULL,
                 "unexpected fault address 0xdead0000\nfatal error: fault\n"
                 "[signal SIGSEGV: segmentation violation code=0x1 addr=0xdead0000 pc=0x",
                 "goroutine 1 [running]:\nderef_wild(...)\n");
}

/* A fault inside the runtime is never a panic. */
static void rt_catch(void *arg) { (void)go_recover(); }
static void rt_body(void *arg)
{
    go_defer(rt_catch, NULL);
    int v = 1;
    chan_send((chan_t *)(uintptr_t)0x10, &v);
}
static int runtime_fault_main(int argc, char **argv) { go_call(rt_body, NULL); return 0; }

Test(panic_signal, fault_in_runtime_is_fatal)
{
    gt_result_t *r = FATAL_CHILD(runtime_fault_main, NULL,
                                 "fatal error: unexpected signal during runtime execution\n"
                                 "[signal SIGSEGV: segmentation violation code=0x1 addr=0x");
    cr_assert_null(strstr(r->out, "panic:"), "%s", r->out);
    free(r);
}

/* ------------------------------------------------------------------ */
/* stack overflow                                                      */
/* ------------------------------------------------------------------ */

static volatile int depth_limit = 1 << 30;
static NOINLINE int recurse(int n)
{
    volatile char pad[200];
    pad[0] = (char)n;
    int r = n < depth_limit ? recurse(n + 1) + pad[0] : 0;
    KEEP_FRAME();
    return r;
}
static void overflow_entry(void *arg) { recurse(0); }
static int overflow_main(int argc, char **argv)
{
    go(overflow_entry, NULL);
    time_sleep(10 * TIME_SECOND);
    return 0;
}

Test(panic_signal, stack_overflow_report)
{
    EXPECT_FATAL(overflow_main, NULL,
                 "runtime: goroutine stack exceeds 65536-byte limit\nruntime: sp=0x",
                 " stack=[0x",
                 "]\nfatal error: stack overflow\n\ngoroutine ",
                 " [running]:\nrecurse(...)\n",
                 "...additional frames elided...\n");
}

/* ------------------------------------------------------------------ */
/* SIGQUIT and deadlock dumps                                          */
/* ------------------------------------------------------------------ */

static chan_t *cnil, *cblock, *cblock2;
static sync_mutex_t mu;
static sync_waitgroup_t never_wg;

static NOINLINE void in_recv(void *arg) { chan_recv(cblock, NULL); KEEP_FRAME(); }
static NOINLINE void in_send(void *arg) { int v = 1; chan_send(cblock2, &v); KEEP_FRAME(); }
static NOINLINE void in_nilrecv(void *arg) { chan_recv(cnil, NULL); KEEP_FRAME(); }
static NOINLINE void in_select(void *arg)
{
    select_case_t cs[2] = {{cblock, SELECT_RECV, NULL, false}, {NULL, SELECT_RECV, NULL, false}};
    chan_select(cs, 2, true);
    KEEP_FRAME();
}
static NOINLINE void in_sleep(void *arg) { time_sleep(3600 * TIME_SECOND); KEEP_FRAME(); }
static NOINLINE void in_mutex(void *arg) { sync_mutex_lock(&mu); KEEP_FRAME(); }
static NOINLINE void in_locked(void *arg)
{
    runtime_lock_os_thread();
    chan_t *c = chan_make(0, 0);
    chan_recv(c, NULL);
    KEEP_FRAME();
}
static NOINLINE void in_wait(void *arg) { sync_waitgroup_wait(&never_wg); KEEP_FRAME(); }
static NOINLINE void in_syscall(void *arg)
{
    runtime_entersyscall();
    for (;;)
        sleep(3600);   /* a signal may cut a sleep short: stay */
    runtime_exitsyscall();
    KEEP_FRAME();
}

/* Makes the goroutine parked in in_recv look parked for 3 minutes. */
static void age_recv_goroutine(void)
{
    size_t n = atomic_load(&sched__allglen);
    for (size_t i = 0; i < n; i++) {
        g_t *gp = sched__allgs[i];
        if (gp && gp->fn == in_recv && atomic_load(&gp->status) == G_WAITING)
            gp->waitsince -= 3LL * 60 * TIME_SECOND;
    }
}

static NOINLINE void start_parked(void)
{
    cblock = chan_make(0, 0);
    cblock2 = chan_make(0, 0);
    sync_mutex_lock(&mu);
    sync_waitgroup_add(&never_wg, 1);
    go(in_recv, NULL);
    go(in_send, NULL);
    go(in_nilrecv, NULL);
    go(in_select, NULL);
    go(in_sleep, NULL);
    go(in_mutex, NULL);
    go(in_locked, NULL);
    go(in_wait, NULL);
    go(in_syscall, NULL);
    void (*fns[])(void *) = {in_recv, in_send, in_nilrecv, in_select, in_sleep,
                             in_mutex, in_locked, in_wait, in_syscall};
    for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++)
        gt_wait_parked(fns[i], 1);
    KEEP_FRAME();
}

static NOINLINE int quit_main(int argc, char **argv)
{
    start_parked();
    age_recv_goroutine();
    kill(getpid(), SIGQUIT);
    time_sleep(10 * TIME_SECOND);
    return 0;
}

/* Each parked goroutine's header, then its function as the first user
 * frame (a goroutine in a system call interrupted by the signal itself
 * shows the libc frames above it first). */
static void expect_parked(const char *out)
{
    static const char *const want[][2] = {
        {" [chan receive, 3 minutes]:\n", "in_recv(...)\n"},
        {" [chan send]:\n", "in_send(...)\n"},
        {" [chan receive (nil chan)]:\n", "in_nilrecv(...)\n"},
        {" [select]:\n", "in_select(...)\n"},
        {" [sleep]:\n", "in_sleep(...)\n"},
        {" [sync.Mutex.Lock]:\n", "in_mutex(...)\n"},
        {" [chan receive, locked to thread]:\n", "in_locked(...)\n"},
        {" [sync.WaitGroup.Wait]:\n", "in_wait(...)\n"},
        {" [syscall]:\n", "in_syscall(...)\n"},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        bool found = false;
        for (const char *h = strstr(out, want[i][0]); h && !found; h = strstr(h + 1, want[i][0])) {
            const char *f = strstr(h, want[i][1]);
            const char *next = strstr(h + 1, "\n\ngoroutine ");
            found = f && (!next || f < next);
        }
        cr_expect(found, "no \"%s\" goroutine in \"%s\" in:\n%s", want[i][0],
                  want[i][1], out);
    }
    cr_expect_not_null(strstr(out, "created by start_parked\n\t"), "%s", out);
}

Test(panic_signal, sigquit_dumps_every_goroutine)
{
    GT_SKIP_UNDER("thread", "TSan holds an asynchronous signal until the thread's next "
                  "call it intercepts, and the runtime's threads wait in raw futex "
                  "calls: the SIGQUIT lands after the 10 s the test gives it");
    gt_result_t *r = FATAL_CHILD(quit_main, NULL, "SIGQUIT: quit\nPC=0x", " sigcode=0\n\n");
    expect_parked(r->out);
    cr_assert_not_null(strstr(r->out, "\nrip    0x"), "registers:\n%s", r->out);
    free(r);
}

static int deadlock_main(int argc, char **argv)
{
    start_parked();
    /* in_sleep's timer keeps the program alive: stop waiting on it by
     * never sleeping long ourselves; block main for ever instead. */
    chan_recv(cnil, NULL);
    return 0;
}

static NOINLINE void dl_worker(void *arg) { chan_recv(cblock, NULL); KEEP_FRAME(); }
static NOINLINE int deadlock_main2(int argc, char **argv)
{
    cblock = chan_make(0, 0);
    go(dl_worker, NULL);
    chan_recv(cblock, NULL);
    KEEP_FRAME();
    return 0;
}

Test(panic_signal, deadlock_dump)
{
    EXPECT_FATAL(deadlock_main2, NULL,
                 "fatal error: all goroutines are asleep - deadlock!\n\n"
                 "goroutine 1 [chan receive]:\ndeadlock_main2(...)\n",
                 " [chan receive]:\ndl_worker(...)\n",
                 "created by deadlock_main2\n");
    (void)deadlock_main;
}

/* Goroutines stopped by asynchronous preemption in a tight loop are
 * unwound through the preemption trampoline's saved registers. */
static _Atomic int spinners_started;
static NOINLINE void spinner(void *arg)
{
    volatile uint64_t sink = 0;   /* each spinner's own: no shared write */
    atomic_fetch_add(&spinners_started, 1);
    for (uint64_t i = 0;; i++)
        sink += i * 7;
}
static int preempted_main(int argc, char **argv)
{
    go(spinner, NULL);
    go(spinner, NULL);
    /* At GOMAXPROCS=1 main runs again only once the spinner that started
     * last was preempted: then both sit preempted in their loops. */
    for (int i = 0; i < 10000 && atomic_load(&spinners_started) < 2; i++)
        time_sleep(TIME_MILLISECOND);
    kill(getpid(), SIGQUIT);
    time_sleep(10 * TIME_SECOND);
    return 0;
}

Test(panic_signal, sigquit_unwinds_preempted_goroutines)
{
    GT_SKIP_UNDER("thread", "it needs asynchronous preemption, off under TSan");
    static const char *const env[] = {"GOMAXPROCS=1", NULL};
    gt_result_t *r = FATAL_CHILD(preempted_main, env, "created by preempted_main\n");
    const char *a = strstr(r->out, " [runnable]:\nspinner(...)\n\t");
    cr_assert_not_null(a, "%s", r->out);
    cr_assert_not_null(strstr(a + 1, " [runnable]:\nspinner(...)\n\t"), "%s", r->out);
    free(r);
}

/* The report of a panic raised with the stack nearly full still prints:
 * it runs on the crash stack. */
static NOINLINE void deep_then_panic(int n)
{
    volatile char pad[128];
    pad[0] = (char)n;
    g_t *g = sched__getg();
    if (n > depth_limit)
        return;
    if ((uintptr_t)pad - g->stack_lo < 2048)
        go_panic("deep");
    deep_then_panic(n + 1);
    KEEP_FRAME();
}
static void warm_up(void *arg) { go_defer(catch_it, NULL); go_panic("warm-up"); }
static void deep_entry(void *arg)
{
    /* Bind go_panic's PLT calls first: lazy binding alone needs > 4 KiB. */
    go_call(warm_up, NULL);
    deep_then_panic(0);
}
static int deep_main(int argc, char **argv)
{
    debug_set_max_stack(16 * 1024);
    go(deep_entry, NULL);
    time_sleep(10 * TIME_SECOND);
    return 0;
}

Test(panic_signal, panic_report_with_full_stack)
{
    GT_SKIP_UNDER("address", "ASan's no-return hook before go_panic needs more "
                  "than the 2 KiB of stack this test leaves");
    EXPECT_FATAL(deep_main, NULL, "panic: deep\n\ngoroutine ",
                 " [running]:\ndeep_then_panic(...)\n");
}

/* A fault on a thread the runtime did not create goes to the handler the
 * program installed before runtime_main (Go's signal forwarding). */
static void user_handler(int sig)
{
    static const char msg[] = "forwarded\n";
    ssize_t r = write(2, msg, sizeof msg - 1);
    (void)r;
    _exit(42);
}
static void *foreign_fault(void *arg)
{
    *nilp = 1;
    return NULL;
}
static int forward_main(int argc, char **argv)
{
    gt_on_foreign_thread(foreign_fault, NULL);
    return 0;
}

/* The child: the program's own SIGSEGV handler, then runtime_main. */
static int forward_child(void *arg)
{
    signal(SIGSEGV, user_handler);
    char *argv[] = {(char *)"gort-child", NULL};
    return runtime_main(forward_main, 1, argv);
}

Test(panic_signal, foreign_thread_fault_is_forwarded)
{
    gt_result_t *r = malloc(sizeof *r);
    gt_spawn(r, forward_child, NULL, 10000);
    cr_assert_eq(r->status, 42, "status %d\n%s", r->status, r->out);
    free(r);
}
