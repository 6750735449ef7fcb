/*
 * test/test_traceback_frames.c -- tracebacks show the user's code: a
 * goroutine whose function ends with a call into gort (compiled at -O2 as
 * a jump, leaving no frame) still shows that function, once, in the
 * deadlock dump; libgort's frames (the channel internals, call_frame,
 * sched__goentry) are hidden unless GOTRACEBACK=system.
 */
#include "helpers.h"

static chan_t *never;
static long sink_elem;

/* Its receive is its last call: the compiler makes it a jump. */
__attribute__((noinline)) static void tail_receiver(void *arg)
{
    (void)arg;
    chan_recv(never, &sink_elem);
}

static int main_deadlock(int argc, char **argv)
{
    GC_STORE(never, chan_make(sizeof(long), 0));
    go(tail_receiver, NULL);
    chan_recv(never, &sink_elem);   /* everyone asleep: the dump */
    return 0;
}

/* Occurrences of needle in hay. */
static int count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p++)
        n++;
    return n;
}

Test(traceback_frames, tail_called_start_function_shown_once, .timeout = 30)
{
    gt_result_t *r = GT_CHILD_EXPECT(main_deadlock, NULL, 20000, 2, "deadlock!");
    cr_assert_eq(count(r->out, "\ntail_receiver(...)\n"), 1, "output:\n%s", r->out);
    cr_assert_null(strstr(r->out, "recv_slow"), "runtime frames shown:\n%s", r->out);
    cr_assert_null(strstr(r->out, "call_frame"), "runtime frames shown:\n%s", r->out);
    cr_assert_null(strstr(r->out, "sched__goentry"), "runtime frames shown:\n%s", r->out);
    free(r);
}

Test(traceback_frames, system_level_shows_runtime_frames, .timeout = 30)
{
    static const char *const env[] = {"GOTRACEBACK=system", NULL};
    gt_result_t *r = GT_CHILD_EXPECT(main_deadlock, env, 20000, 2, "chan_recv(...)");
    cr_assert_eq(count(r->out, "\ntail_receiver(...)\n"), 1, "output:\n%s", r->out);
    free(r);
}
