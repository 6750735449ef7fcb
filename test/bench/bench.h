/*
 * test/bench/bench.h -- helpers for gort's C benchmarks (header only).
 *
 * Owns: the go-test-like benchmark driver for test/bench/bench_*.c: the
 * monotonic clock, the timer (reset/stop/start, as testing.B), the choice
 * of N (grown as go test grows it, until one run takes >= the benchtime),
 * custom metrics, RSS from /proc/self/status, and the output line, which
 * is byte-compatible with `go test -bench`:
 *
 *     BenchmarkSpawn-2    	 5000000	       45.20 ns/op	  4100 B/goroutine
 *
 * The "-P" suffix is GOMAXPROCS (runtime_gomaxprocs(0)) when it is not 1,
 * exactly as go test -cpu names its runs. A benchmark program therefore
 * runs its benchmarks at whatever GOMAXPROCS it was started with;
 * tools/run-bench.sh starts it once per GOMAXPROCS value (GOMAXPROCS=1,
 * then 2, from the environment), one process per benchmark.
 *
 * May call: the public gort API (runtime_main, runtime_gomaxprocs) and
 * libc. With BENCH_NO_RUNTIME defined before inclusion it calls no gort
 * function at all (main_fn runs on the process's own stack and GOMAXPROCS
 * comes from the environment): for testing the harness itself.
 *
 * A benchmark program:
 *
 *     static void bench_spawn(bench_b_t *b) { for (int64_t i = 0; i < b->n; i++) ... }
 *     static int run(int argc, char **argv)
 *     {
 *         bench_run("BenchmarkSpawn", bench_spawn);
 *         if (bench_procs() == 1) bench_run("BenchmarkYield", bench_yield);
 *         return 0;
 *     }
 *     int main(int argc, char **argv) { return bench_main(run, argc, argv); }
 *
 * Flags (and environment): -bench REGEX (BENCH; unanchored match on the
 * name without the -P suffix, default "."; the regexp subset is
 * alternatives a|b of literals with ^ $ . and x*, which covers go test's
 * usual -bench patterns; no libc regex, whose deep stack use does not fit
 * small goroutine stacks), -benchtime D (BENCHTIME; "1s",
 * "200ms", "0.2s" or "1000x", default 1s), -list (print the names that
 * would run, one a line, and run nothing).
 *
 * Invariants: a benchmark function does b->n operations per call and may
 * be called several times with growing n; it must report its metrics on
 * every call (bench_report_metric), as metrics are cleared before each.
 */
#ifndef GORT_BENCH_H
#define GORT_BENCH_H

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifndef BENCH_NO_RUNTIME
#include "gort.h"
#endif

/* Tuning constants (go test's own). */
#define BENCH_DEFAULT_NS   1000000000LL  /* -benchtime default: 1 s */
#define BENCH_MAX_N        1000000000LL  /* never more iterations than this */
#define BENCH_GROWTH_MAX   100           /* N grows at most 100x per round */
#define BENCH_NAME_WIDTH   32            /* name column width */
#define BENCH_MAX_METRICS  8

typedef struct bench_b {
    int64_t n;                    /* b.N: operations to do in this call */
    /* private: the timer and metrics */
    int64_t start_ns;
    int64_t duration_ns;
    bool timer_on;
    int nmetrics;
    struct { char unit[32]; double value; } metrics[BENCH_MAX_METRICS];
} bench_b_t;

typedef void (*bench_fn_t)(bench_b_t *b);

/* Global options, set by bench_main. */
static struct {
    int64_t time_ns;              /* run until this long, or ... */
    int64_t time_n;               /* ... exactly this many ops (if > 0) */
    const char *filter;
    bool list;
    bool inited;
} bench_opt;

/* Monotonic nanoseconds. */
static inline int64_t bench_nanotime(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Prints a message to stderr and exits 1: a benchmark that cannot run. */
static inline __attribute__((noreturn, format(printf, 1, 2)))
void bench_fatal(const char *fmt, ...)
{
    va_list ap;
    fflush(stdout);
    fputs("bench: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1);
}

/* Current GOMAXPROCS. */
static inline int bench_procs(void)
{
#ifdef BENCH_NO_RUNTIME
    const char *s = getenv("GOMAXPROCS");
    int p = s ? atoi(s) : 1;
    return p > 0 ? p : 1;
#else
    return runtime_gomaxprocs(0);
#endif
}

/* The field key ("VmRSS:", "VmHWM:", ...) of /proc/self/status, a size in
 * kB, in bytes; -1 if it cannot be read. */
static inline int64_t bench_status_bytes(const char *key)
{
    char buf[4096];
    int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n, len = 0;
    while (len < (ssize_t)sizeof buf - 1 &&
           (n = read(fd, buf + len, sizeof buf - 1 - (size_t)len)) != 0) {
        if (n < 0) {
            if (errno == EINTR) continue;
            break;
        }
        len += n;
    }
    close(fd);
    buf[len] = 0;
    const char *p = strstr(buf, key);
    if (!p || p == buf || p[-1] != '\n')
        return -1;
    return strtoll(p + strlen(key), NULL, 10) * 1024;
}

/* Resident set size of this process in bytes (VmRSS), or -1. */
static inline int64_t bench_rss_bytes(void) { return bench_status_bytes("VmRSS:"); }

/* b.ResetTimer: zeroes the elapsed time (and restarts it if running). */
static inline void bench_reset_timer(bench_b_t *b)
{
    if (b->timer_on)
        b->start_ns = bench_nanotime();
    b->duration_ns = 0;
}

/* b.StartTimer. */
static inline void bench_start_timer(bench_b_t *b)
{
    if (!b->timer_on) {
        b->start_ns = bench_nanotime();
        b->timer_on = true;
    }
}

/* b.StopTimer. */
static inline void bench_stop_timer(bench_b_t *b)
{
    if (b->timer_on) {
        b->duration_ns += bench_nanotime() - b->start_ns;
        b->timer_on = false;
    }
}

/* b.ReportMetric: value per op (or per anything) in unit (no spaces). */
static inline void bench_report_metric(bench_b_t *b, double value, const char *unit)
{
    int i;
    for (i = 0; i < b->nmetrics; i++)
        if (strcmp(b->metrics[i].unit, unit) == 0)
            break;
    if (i == BENCH_MAX_METRICS)
        bench_fatal("too many metrics");
    if (i == b->nmetrics) {
        if (strlen(unit) >= sizeof b->metrics[i].unit || strpbrk(unit, " \t\n"))
            bench_fatal("bad metric unit \"%s\"", unit);
        strcpy(b->metrics[i].unit, unit);
        b->nmetrics++;
    }
    b->metrics[i].value = value;
}

/* Parses a go test -benchtime value ("1s", "200ms", "0.2s", "1000x"). */
static inline void bench_parse_time(const char *s)
{
    char *end;
    double v = strtod(s, &end);
    bench_opt.time_n = 0;
    if (end == s || v <= 0)
        bench_fatal("invalid benchtime \"%s\"", s);
    if (strcmp(end, "x") == 0) { bench_opt.time_n = (int64_t)v; return; }
    double mul;
    if (strcmp(end, "s") == 0)        mul = 1e9;
    else if (strcmp(end, "ms") == 0)  mul = 1e6;
    else if (strcmp(end, "us") == 0 || strcmp(end, "\xc2\xb5s") == 0) mul = 1e3;
    else if (strcmp(end, "ns") == 0)  mul = 1;
    else if (strcmp(end, "m") == 0)   mul = 60e9;
    else bench_fatal("invalid benchtime \"%s\"", s);
    bench_opt.time_ns = (int64_t)(v * mul);
}

/* Matches regexp re[0..n) (no '|') at the start of text (Kernighan's). */
static inline bool bench_match_here(const char *re, int n, const char *text)
{
    for (;;) {
        if (n == 0)
            return true;
        if (n >= 2 && re[1] == '*') {
            do {
                if (bench_match_here(re + 2, n - 2, text))
                    return true;
            } while (*text && (*text++ == re[0] || re[0] == '.'));
            return false;
        }
        if (n == 1 && re[0] == '$')
            return *text == 0;
        if (*text && (re[0] == '.' || re[0] == *text)) {
            re++, n--, text++;
            continue;
        }
        return false;
    }
}

/* Unanchored search of name for alternatives a|b|... of the subset. */
static inline bool bench_match(const char *filter, const char *name)
{
    const char *alt = filter;
    for (;;) {
        const char *bar = strchr(alt, '|');
        int n = bar ? (int)(bar - alt) : (int)strlen(alt);
        if (n > 0 && alt[0] == '^') {
            if (bench_match_here(alt + 1, n - 1, name))
                return true;
        } else {
            const char *t = name;
            do {
                if (bench_match_here(alt, n, t))
                    return true;
            } while (*t++);
        }
        if (!bar)
            return false;
        alt = bar + 1;
    }
}

/* Sets the options from the environment, then from argv. */
static inline void bench_init(int argc, char **argv)
{
    bench_opt.time_ns = BENCH_DEFAULT_NS;
    bench_opt.filter = ".";
    const char *e;
    if ((e = getenv("BENCHTIME")) && *e) bench_parse_time(e);
    if ((e = getenv("BENCH")) && *e) bench_opt.filter = e;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (a[0] == '-' && a[1] == '-') a++;
        if (strcmp(a, "-list") == 0)
            bench_opt.list = true;
        else if (strcmp(a, "-bench") == 0 && i + 1 < argc)
            bench_opt.filter = argv[++i];
        else if (strcmp(a, "-benchtime") == 0 && i + 1 < argc)
            bench_parse_time(argv[++i]);
        else if (strncmp(a, "-bench=", 7) == 0)
            bench_opt.filter = a + 7;
        else if (strncmp(a, "-benchtime=", 11) == 0)
            bench_parse_time(a + 11);
        else
            bench_fatal("usage: %s [-list] [-bench REGEX] [-benchtime 1s|Nx]", argv[0]);
    }
    if (strpbrk(bench_opt.filter, "()[]{}+?\\"))
        bench_fatal("-bench \"%s\": only literals, | ^ $ . and * are supported",
                    bench_opt.filter);
    bench_opt.inited = true;
}

/* Calls fn once with b->n = n, timing it (go test's runN). */
static inline void bench_run_n(bench_b_t *b, bench_fn_t fn, int64_t n)
{
    b->n = n;
    b->nmetrics = 0;
    b->timer_on = false;
    b->duration_ns = 0;
    bench_start_timer(b);
    fn(b);
    bench_stop_timer(b);
}

/* Prints x in go test's prettyPrint format. */
static inline void bench_pretty(double x, const char *unit)
{
    double y = x < 0 ? -x : x;
    int w, prec;
    if (y == 0 || y >= 999.95)     { w = 10; prec = 0; }
    else if (y >= 99.995)          { w = 12; prec = 1; }
    else if (y >= 9.9995)          { w = 13; prec = 2; }
    else if (y >= 0.99995)         { w = 14; prec = 3; }
    else if (y >= 0.099995)        { w = 15; prec = 4; }
    else if (y >= 0.0099995)       { w = 16; prec = 5; }
    else if (y >= 0.00099995)      { w = 17; prec = 6; }
    else                           { w = 18; prec = 7; }
    printf("\t%*.*f %s", w, prec, x, unit);
}

/* Runs benchmark fn as go test does (N = 1, then grown until a run lasts
 * the benchtime) and prints its line. name starts with "Benchmark"; the
 * -P suffix is added here. Skipped if the -bench filter does not match. */
static inline void bench_run(const char *name, bench_fn_t fn)
{
    if (!bench_opt.inited)
        bench_fatal("bench_run before bench_main");
    if (strncmp(name, "Benchmark", 9) != 0)
        bench_fatal("benchmark name \"%s\" must start with Benchmark", name);
    if (!bench_match(bench_opt.filter, name))
        return;
    char full[256];
    int procs = bench_procs();
    if (procs != 1)
        snprintf(full, sizeof full, "%s-%d", name, procs);
    else
        snprintf(full, sizeof full, "%s", name);
    if (bench_opt.list) {
        printf("%s\n", full);
        fflush(stdout);
        return;
    }

    bench_b_t b;
    memset(&b, 0, sizeof b);
    bench_run_n(&b, fn, 1);
    if (bench_opt.time_n > 0) {
        if (bench_opt.time_n > 1)
            bench_run_n(&b, fn, bench_opt.time_n);
    } else {
        int64_t d = bench_opt.time_ns;
        for (int64_t n = 1; b.duration_ns < d && n < BENCH_MAX_N;) {
            int64_t last = n;
            int64_t prevns = b.duration_ns > 0 ? b.duration_ns : 1;
            /* multiply first: for fast ops N ~ ns */
            n = (int64_t)((double)d * (double)b.n / (double)prevns);
            n += n / 5;
            if (n > BENCH_GROWTH_MAX * last) n = BENCH_GROWTH_MAX * last;
            if (n < last + 1) n = last + 1;
            if (n > BENCH_MAX_N) n = BENCH_MAX_N;
            bench_run_n(&b, fn, n);
        }
    }

    printf("%-*s\t%8lld", BENCH_NAME_WIDTH, full, (long long)b.n);
    double nsop = (double)b.duration_ns / (double)b.n;
    if (nsop != 0)
        bench_pretty(nsop, "ns/op");
    /* extra metrics sorted by unit, as go test prints them */
    int order[BENCH_MAX_METRICS];
    for (int i = 0; i < b.nmetrics; i++) {
        int j = i;
        while (j > 0 && strcmp(b.metrics[order[j - 1]].unit, b.metrics[i].unit) > 0) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = i;
    }
    for (int i = 0; i < b.nmetrics; i++)
        bench_pretty(b.metrics[order[i]].value, b.metrics[order[i]].unit);
    printf("\n");
    fflush(stdout);
}

/* Parses the flags, then runs main_fn(argc, argv) as the main goroutine
 * (runtime_main) and returns its value. */
static inline int bench_main(int (*main_fn)(int, char **), int argc, char **argv)
{
    bench_init(argc, argv);
    setvbuf(stdout, NULL, _IOLBF, 0);
#ifdef BENCH_NO_RUNTIME
    int rc = main_fn(argc, argv);
#else
    int rc = runtime_main(main_fn, argc, argv);
#endif
    fflush(stdout);
    return rc;
}

#endif /* GORT_BENCH_H */
