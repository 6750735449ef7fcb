/*
 * test/bench/bench_idle.c -- the baseline resident set of an idle program
 * (Go twins in test/bench/go/idle_test.go: same names, same protocol).
 *
 *   BenchmarkIdleRSS       one op = start build/test/bench/idle_gort (an
 *                          empty runtime_main program, linked against
 *                          libgort.so) and wait for it to end (Go: an
 *                          empty func main(){}).
 *   BenchmarkIdleSleepRSS  the same with one goroutine asleep 100 ms (Go:
 *                          time.Sleep(100 * time.Millisecond) in main).
 *
 * Metrics: kB-RSS, the median over the runs of the program's VmRSS read
 * from /proc/PID/status when it exits: the program runs under ptrace with
 * PTRACE_O_TRACEEXIT and stops as its exit begins, with its memory still
 * mapped, so nothing is added to the measured program. kB-RSS-static is
 * the same for build/test/bench/idle_gort_static (gort only; Go's is
 * static already), and kB-RSS-libc for build/test/bench/idle_libc, the
 * same work in C without gort (test/bench/idle/plain.c): the floor of a
 * dynamically linked C program. ns/op is the time from fork to exit.
 * Runs at GOMAXPROCS=1 only (the program measured is a process of its own).
 * May call: the public gort API, bench.h, libc.
 */
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/wait.h>

#include "bench.h"

/* The VmRSS of process pid in kB, or -1. */
static long status_kb(pid_t pid)
{
    char path[64], line[256];
    long v = -1;
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "VmRSS:", 6) == 0)
            v = atol(line + 6);
    fclose(f);
    return v;
}

/* Runs argv[0] (with argv) to its end under ptrace; returns its VmRSS in
 * kB as its exit began. The caller is locked to its thread: only the
 * thread that forked the tracee may ptrace it. */
static long run_traced(char *const argv[])
{
    pid_t pid = fork();
    if (pid < 0)
        bench_fatal("fork: %s", strerror(errno));
    if (pid == 0) {
        ptrace(PTRACE_TRACEME, 0, NULL, NULL);
        execv(argv[0], argv);
        _exit(127);
    }
    long kb = -1;
    int st;
    if (waitpid(pid, &st, 0) != pid || !WIFSTOPPED(st))   /* the exec stop */
        bench_fatal("%s did not start", argv[0]);
    ptrace(PTRACE_SETOPTIONS, pid, NULL, (void *)(long)(PTRACE_O_TRACEEXIT | PTRACE_O_EXITKILL));
    ptrace(PTRACE_CONT, pid, NULL, NULL);
    while (waitpid(pid, &st, __WALL) == pid && WIFSTOPPED(st)) {
        int sig = WSTOPSIG(st);
        if (st >> 8 == (SIGTRAP | (PTRACE_EVENT_EXIT << 8))) {
            kb = status_kb(pid);
            sig = 0;
        } else if (sig == SIGTRAP) {
            sig = 0;
        }
        ptrace(PTRACE_CONT, pid, NULL, (void *)(long)sig);
    }
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0 || kb < 0)
        bench_fatal("%s failed (status %#x)", argv[0], st);
    return kb;
}

/* Sorts v[0..n) and returns its median. */
static double median(long *v, int64_t n)
{
    for (int64_t i = 1; i < n; i++)
        for (int64_t j = i; j > 0 && v[j - 1] > v[j]; j--) {
            long t = v[j];
            v[j] = v[j - 1];
            v[j - 1] = t;
        }
    return n % 2 ? (double)v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0;
}

static const char *sleep_arg;   /* NULL: the empty program */

/* The path of the program name next to this benchmark's executable. */
static void sibling(char *buf, size_t cap, const char *name)
{
    ssize_t n = readlink("/proc/self/exe", buf, cap - 1);
    if (n < 0)
        bench_fatal("readlink /proc/self/exe: %s", strerror(errno));
    buf[n] = 0;
    char *slash = strrchr(buf, '/');
    snprintf(slash + 1, cap - (size_t)(slash + 1 - buf), "%s", name);
}

/* The median kB-RSS of n (at most 5) runs of the program name. */
static double few_runs(const char *name, int64_t n)
{
    char path[4096];
    sibling(path, sizeof path, name);
    char *argv[] = {path, (char *)sleep_arg, NULL};
    long kb[5];
    if (n > 5)
        n = 5;
    for (int64_t i = 0; i < n; i++)
        kb[i] = run_traced(argv);
    return median(kb, n);
}

/* One op: one run of the idle program; reports the median kB-RSS of the
 * dynamic build, of the static one and of the program without gort. */
static void bench_idle(bench_b_t *b)
{
    char dyn[4096];
    sibling(dyn, sizeof dyn, "idle_gort");
    char *argv_dyn[] = {dyn, (char *)sleep_arg, NULL};
    long *kb = calloc((size_t)b->n, sizeof *kb);
    if (!kb)
        bench_fatal("out of memory");
    runtime_lock_os_thread();
    runtime_entersyscall();
    bench_reset_timer(b);
    for (int64_t i = 0; i < b->n; i++)
        kb[i] = run_traced(argv_dyn);
    bench_stop_timer(b);
    double kb_static = few_runs("idle_gort_static", b->n);
    double kb_libc = few_runs("idle_libc", b->n);
    runtime_exitsyscall();
    runtime_unlock_os_thread();
    bench_report_metric(b, median(kb, b->n), "kB-RSS");
    bench_report_metric(b, kb_static, "kB-RSS-static");
    bench_report_metric(b, kb_libc, "kB-RSS-libc");
    free(kb);
}

/* The empty program. */
static void bench_idle_empty(bench_b_t *b)
{
    sleep_arg = NULL;
    bench_idle(b);
}

/* The program whose goroutine sleeps 100 ms. */
static void bench_idle_sleep(bench_b_t *b)
{
    sleep_arg = "sleep";
    bench_idle(b);
}

static int run(int argc, char **argv)
{
    if (bench_procs() == 1) {
        bench_run("BenchmarkIdleRSS", bench_idle_empty);
        bench_run("BenchmarkIdleSleepRSS", bench_idle_sleep);
    }
    return 0;
}

int main(int argc, char **argv) { return bench_main(run, argc, argv); }
