/*
 * test/test_sched_trace.c -- GODEBUG=schedtrace=N[,scheddetail=1] prints Go
 * 1.19's exact lines (runtime/proc.go schedtrace) to stderr every N ms:
 *
 *   SCHED 101ms: gomaxprocs=2 idleprocs=0 threads=5 spinningthreads=0 idlethreads=1 runqueue=0 [0 0]
 *
 * and with scheddetail=1 the SCHED line without the per-P list but with
 * the stop-the-world counters, then one line per P, M and G:
 *
 *   SCHED 0ms: gomaxprocs=2 idleprocs=1 threads=3 spinningthreads=0 idlethreads=0 runqueue=0 gcwaiting=0 nmidlelocked=0 stopwait=0 sysmonwait=0
 *     P0: status=1 schedtick=3 syscalltick=0 m=0 runqsize=0 gfreecnt=0 timerslen=0
 *     M0: p=0 curg=1 mallocing=0 throwing=0 preemptoff= locks=0 dying=0 spinning=false blocked=false lockedg=-1
 *     G1: status=2() m=0 lockedm=-1
 */
#include <regex.h>

#include "helpers.h"
#include "sched_helpers.h"

#define NUM "(-1|[0-9]+)"

static const char *const re_sched =
    "^SCHED [0-9]+ms: gomaxprocs=2 idleprocs=[0-2] threads=[0-9]+ "
    "spinningthreads=[0-9]+ idlethreads=[0-9]+ runqueue=[0-9]+ "
    "\\[[0-9]+ [0-9]+\\]$";
static const char *const re_sched_detail =
    "^SCHED [0-9]+ms: gomaxprocs=2 idleprocs=[0-2] threads=[0-9]+ "
    "spinningthreads=[0-9]+ idlethreads=[0-9]+ runqueue=[0-9]+ "
    "gcwaiting=[0-9]+ nmidlelocked=[0-9]+ stopwait=[0-9]+ sysmonwait=[0-9]+$";
static const char *const re_p =
    "^  P[01]: status=[0-4] schedtick=[0-9]+ syscalltick=[0-9]+ m=" NUM
    " runqsize=[0-9]+ gfreecnt=[0-9]+ timerslen=[0-9]+$";
static const char *const re_m =
    "^  M[0-9]+: p=" NUM " curg=" NUM " mallocing=[0-9]+ throwing=[0-9]+ "
    "preemptoff=[^ ]* locks=[0-9]+ dying=[0-9]+ spinning=(true|false) "
    "blocked=(true|false) lockedg=" NUM "$";
static const char *const re_g =
    "^  G[0-9]+: status=[0-9]+\\([a-zA-Z0-9 .()-]*\\) m=" NUM " lockedm=" NUM "$";

/* Counts the lines of out that start with prefix, and how many of those
 * match the extended regex re (printing the first mismatch). */
static void count_lines(const char *out, const char *prefix, const char *re,
                        int *nprefix, int *nmatch)
{
    regex_t rx;
    cr_assert_eq(regcomp(&rx, re, REG_EXTENDED | REG_NOSUB), 0, "bad regex %s", re);
    *nprefix = *nmatch = 0;
    const char *line = out;
    while (*line) {
        const char *nl = strchr(line, '\n');
        size_t len = nl ? (size_t)(nl - line) : strlen(line);
        char buf[512];
        if (len < sizeof buf && strncmp(line, prefix, strlen(prefix)) == 0) {
            memcpy(buf, line, len);
            buf[len] = 0;
            (*nprefix)++;
            if (regexec(&rx, buf, 0, NULL, 0) == 0)
                (*nmatch)++;
            else if (*nprefix - *nmatch == 1)
                fprintf(stderr, "line does not match %s:\n%s\n", re, buf);
        }
        line += len + (nl != NULL);
    }
    regfree(&rx);
}

/* At least min lines of out start with prefix, and all of them match re. */
static void expect_lines(const char *out, const char *prefix, const char *re, int min)
{
    int n, ok;
    count_lines(out, prefix, re, &n, &ok);
    cr_assert_geq(n, min, "%d \"%s\" lines, want at least %d; output:\n%s",
                  n, prefix, min, out);
    cr_assert_eq(ok, n, "%d of %d \"%s\" lines differ from Go's format; output:\n%s",
                 n - ok, n, prefix, out);
}

static _Atomic int stop;

static void worker(void *arg)
{
    while (!atomic_load(&stop)) {
        volatile int x = 0;
        for (int i = 0; i < 10000; i++)
            x++;
        runtime_gosched();
    }
}

static void parked(void *arg) { gt_park_forever(); }
static void short_lived(void *arg) {}

/* Runs for about 450 ms with some goroutines busy, some parked. */
static int main_traced(int argc, char **argv)
{
    for (int i = 0; i < 3; i++)
        go(worker, NULL);
    go(parked, NULL);
    go(short_lived, NULL);
    int64_t end = gt_ms() + 450;
    while (gt_ms() < end) {
        runtime_entersyscall();
        usleep(10 * 1000);
        runtime_exitsyscall();
    }
    atomic_store(&stop, 1);
    return 0;
}

/* Runs main_traced at GOMAXPROCS=2 in a child with GODEBUG=godebug (unset
 * if NULL) and asserts that it exited 0; the caller frees the result. */
static gt_result_t *run_traced(const char *godebug)
{
    const char *env[] = {"GOMAXPROCS=2", godebug, NULL};
    gt_result_t *r = malloc(sizeof *r);
    if (!godebug)
        unsetenv("GODEBUG");
    gt_child(r, main_traced, env, 20000);
    cr_assert_eq(r->status, 0, "status %d, output:\n%s", r->status, r->out);
    return r;
}

Test(sched_trace, schedtrace_format, .timeout = 30)
{
    gt_result_t *r = run_traced("GODEBUG=schedtrace=100");
    /* A SCHED line every 100 ms over 450 ms. */
    expect_lines(r->out, "SCHED", re_sched, 3);
    /* No detail lines without scheddetail. */
    int np, okp;
    count_lines(r->out, "  P", re_p, &np, &okp);
    cr_assert_eq(np, 0, "P lines without scheddetail:\n%s", r->out);
    free(r);
}

/* The first SCHED lines' times grow in steps of about N ms. */
Test(sched_trace, schedtrace_times_increase, .timeout = 30)
{
    gt_result_t *r = run_traced("GODEBUG=schedtrace=100");
    long prev = -1;
    int n = 0;
    for (const char *p = r->out; (p = strstr(p, "SCHED ")) != NULL; p += 6) {
        long ms = strtol(p + 6, NULL, 10);
        cr_assert_gt(ms, prev, "SCHED times not increasing:\n%s", r->out);
        prev = ms;
        n++;
    }
    cr_assert_geq(n, 3);
    /* 450 ms of run time: the last line is not far beyond it. */
    cr_assert_lt(prev, 5000, "SCHED time %ld ms after a 450 ms run", prev);
    free(r);
}

Test(sched_trace, scheddetail_format, .timeout = 30)
{
    gt_result_t *r = run_traced("GODEBUG=schedtrace=100,scheddetail=1");
    expect_lines(r->out, "SCHED", re_sched_detail, 3);
    expect_lines(r->out, "  P", re_p, 6);    /* P0 and P1 per trace */
    cr_assert(strstr(r->out, "\n  P0: ") && strstr(r->out, "\n  P1: "));
    expect_lines(r->out, "  M", re_m, 3);
    cr_assert(strstr(r->out, "\n  M0: "), "no M0 line:\n%s", r->out);
    expect_lines(r->out, "  G", re_g, 3);
    cr_assert(strstr(r->out, "\n  G1: "), "no G1 line:\n%s", r->out);
    /* Go's G status numbers: waiting is 4, dead is 6 (5 is unused). */
    cr_assert(strstr(r->out, ": status=4(select (no cases)) m=-1 lockedm=-1\n"),
              "no line for the parked goroutine:\n%s", r->out);
    cr_assert_null(strstr(r->out, ": status=5("), "status 5 is not a Go G "
                   "status (dead is 6):\n%s", r->out);
    free(r);
}

/* Without GODEBUG nothing is traced. */
Test(sched_trace, no_trace_by_default, .timeout = 30)
{
    gt_result_t *r = run_traced(NULL);
    cr_assert_null(strstr(r->out, "SCHED"), "output:\n%s", r->out);
    free(r);
}
