/*
 * test/helpers.h -- shared helpers for gort's Criterion tests.
 *
 * Criterion's cr_assert may not be called from a goroutine (it may run on
 * another thread). Goroutine code records failures with GT_CHECK instead,
 * and the Test body asserts that none were recorded:
 *
 *     static int body(int argc, char **argv) { GT_CHECK(1 + 1 == 2); return 0; }
 *     Test(sched, example) { gt_run(body); }
 *
 * gt_child runs a runtime program in a forked child with extra environment
 * variables and captures its stdout+stderr and exit status, for tests of
 * fatal errors, panics and trace output; gt_spawn does the same for any
 * function, gt_exec for another program.
 */
#ifndef GORT_TEST_HELPERS_H
#define GORT_TEST_HELPERS_H

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <regex.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "gort.h"

static _Atomic int gt_failures;

#if defined(__SANITIZE_THREAD__)
/* Criterion's BoxFort maps its inheritable arena at a random address in
 * [0x2000'0000'0000, 0x7f00'0000'0000) drawn with rand_r, and gives up
 * with "Could not initialize inheritable arena" when every try lands on
 * a range ThreadSanitizer reserved (Snaipe/Criterion#274): nearly all of
 * that span. This rand_r, which the executable's definition makes the
 * one libcriterion calls, draws only from 0x5600'0000'0000 up to
 * 0x567f'0000'0000, application memory in TSan's x86-64 layout. */
int rand_r(unsigned int *seed);
int rand_r(unsigned int *seed)
{
    *seed = *seed * 1103515245u + 12345u;
    return (int)(0x360000u + ((*seed >> 16) & 0x7effu));
}
#endif

/* The sanitizer this test was built with (make SANITIZE=...), or NULL. */
#if defined(__SANITIZE_ADDRESS__)
#define GT_SANITIZER "address"
#elif defined(__SANITIZE_THREAD__)
#define GT_SANITIZER "thread"
#else
#define GT_SANITIZER NULL
#endif

/* Skips the running test in the build with sanitizer which ("address",
 * "thread", or "any"), with the reason why it cannot run there
 * (tools/run-tests.sh prints it). */
#define GT_SKIP_UNDER(which, why)                                               \
    do {                                                                        \
        if (GT_SANITIZER && (strcmp(which, "any") == 0 ||                       \
                             strcmp(which, GT_SANITIZER ? GT_SANITIZER : "") == 0)) \
            cr_skip_test("not under SANITIZE=%s: %s", GT_SANITIZER, why);       \
    } while (0)

#define GT_CHECK(cond, ...)                                                     \
    do {                                                                        \
        if (!(cond)) {                                                          \
            atomic_fetch_add(&gt_failures, 1);                                  \
            fprintf(stderr, "%s:%d: check failed: %s ", __FILE__, __LINE__,     \
                    #cond);                                                     \
            fprintf(stderr, " " __VA_ARGS__);                                   \
            fputc('\n', stderr);                                                \
        }                                                                       \
    } while (0)

/* Runs fn as the runtime's main goroutine and asserts that it returned 0
 * and that no GT_CHECK failed. */
static inline void gt_run(int (*fn)(int, char **))
{
    char *argv[] = {(char *)"gort-test", NULL};
    int rc = runtime_main(fn, 1, argv);
    cr_assert_eq(atomic_load(&gt_failures), 0, "%d GT_CHECK failures",
                 atomic_load(&gt_failures));
    cr_assert_eq(rc, 0, "main goroutine returned %d", rc);
}

/* Asserts that out holds a match of the extended regular expression re
 * (what a child printed: a trace line, say), naming what it looked for. */
static inline void gt_assert_match(const char *out, const char *re, const char *what)
{
    regex_t rx;
    cr_assert_eq(regcomp(&rx, re, REG_EXTENDED | REG_NOSUB), 0, "bad regex %s", re);
    int found = regexec(&rx, out, 0, NULL, 0) == 0;
    regfree(&rx);
    cr_assert(found, "no %s in:\n%s", what, out);
}

typedef struct {
    int  status;       /* exit status, or 128+signal */
    char out[1 << 16]; /* stdout and stderr, NUL-terminated */
    size_t len;
} gt_result_t;

/* Reads fd (a child's stdout+stderr) into r until EOF or timeout_ms (then
 * kills pid: status 128+SIGKILL), closes fd and reaps pid into r->status. */
static inline void gt_collect(gt_result_t *r, pid_t pid, int fd, int timeout_ms)
{
    r->len = 0;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        struct timespec t1;
        clock_gettime(CLOCK_MONOTONIC, &t1);
        long el = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
        if (el >= timeout_ms) { kill(pid, SIGKILL); break; }
        struct pollfd p = {fd, POLLIN, 0};
        int n = poll(&p, 1, (int)(timeout_ms - el));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) continue;
        ssize_t k = read(fd, r->out + r->len, sizeof r->out - 1 - r->len);
        if (k <= 0) break;
        r->len += (size_t)k;
        if (r->len == sizeof r->out - 1) break;
    }
    r->out[r->len] = 0;
    close(fd);
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {}
    r->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* Forks a child whose stdout and stderr go to a pipe; the child runs
 * fn(arg), flushes stdio and exits with fn's value. The parent collects the
 * output and status into r with gt_collect (timeout_ms). */
static inline void gt_spawn(gt_result_t *r, int (*fn)(void *), void *arg,
                            int timeout_ms)
{
    int pfd[2];
    cr_assert(pipe(pfd) == 0);
    fflush(NULL);
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        close(pfd[0]);
        dup2(pfd[1], 1);
        dup2(pfd[1], 2);
        if (pfd[1] > 2)
            close(pfd[1]);
        int rc = fn(arg);
        fflush(NULL);
        _exit(rc);
    }
    close(pfd[1]);
    gt_collect(r, pid, pfd[0], timeout_ms);
}

static inline int gt_exec_child(void *arg)
{
    char *const *argv = arg;
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0)
        dup2(devnull, 0);
    execvp(argv[0], argv);
    return 127;
}

/* gt_spawn of the program argv (NULL-terminated; argv[0] is looked up on
 * PATH unless it holds a '/'), with stdin from /dev/null; status 127 if it
 * cannot be run. */
static inline void gt_exec(gt_result_t *r, char *const argv[], int timeout_ms)
{
    gt_spawn(r, gt_exec_child, (void *)argv, timeout_ms);
}

typedef struct {
    int (*fn)(int, char **);
    const char *const *env;
} gt_child_arg_t;

static inline int gt_child_main(void *arg)
{
    gt_child_arg_t *c = arg;
    for (int i = 0; c->env && c->env[i]; i++)
        putenv((char *)c->env[i]);
    char *argv[] = {(char *)"gort-child", NULL};
    return runtime_main(c->fn, 1, argv);
}

/* gt_spawn of a runtime program: the child sets env ("NAME=value"
 * strings, NULL-terminated), runs fn under runtime_main and exits with its
 * value. Waits at most timeout_ms (then kills the child: status
 * 128+SIGKILL). */
static inline void gt_child(gt_result_t *r, int (*fn)(int, char **),
                            const char *const *env, int timeout_ms)
{
    gt_child_arg_t c = {fn, env};
    gt_spawn(r, gt_child_main, &c, timeout_ms);
}

/* gt_child into a fresh malloc'd result (30 s limit); the caller frees it. */
static inline gt_result_t *gt_child_new(int (*fn)(int, char **), const char *const *env)
{
    gt_result_t *r = malloc(sizeof *r);
    gt_child(r, fn, env, 30000);
    return r;
}

/* Runs fn(arg) on a new thread that the runtime did not create and returns
 * its result; the calling goroutine is in a system call from before the
 * thread starts until it has ended, so the scheduler goes on without it. */
static inline void *gt_on_foreign_thread(void *(*fn)(void *), void *arg)
{
    pthread_t t;
    pthread_attr_t attr;
    void *ret = NULL;
    /* A stack size of its own: in a child forked from a process with
     * threads, glibc reuses a dead parent thread's cached stack, and so its
     * pthread_t, for a default-sized thread, which gcc 12's TSan (whose
     * registry still holds the parent's threads after fork) aborts on as a
     * "dup thread with used id". */
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 1 << 20);
    runtime_entersyscall();
    int err = pthread_create(&t, &attr, fn, arg);
    pthread_attr_destroy(&attr);
    if (err == 0)
        pthread_join(t, &ret);
    runtime_exitsyscall();
    GT_CHECK(err == 0, "pthread_create: %s", strerror(err));
    return ret;
}

#define GT_NONZERO (-1)   /* gt_child_expect: any exit status but 0 */

/* gt_child of fn (env may be NULL) into a fresh result; asserts that the
 * child exited with status (or GT_NONZERO) and that its output holds every
 * string of want, a NULL-terminated list. Returns the result for further
 * checks; the caller frees it. */
static inline gt_result_t *gt_child_expect(int (*fn)(int, char **),
                                           const char *const *env, int timeout_ms,
                                           int status, const char *const *want)
{
    gt_result_t *r = malloc(sizeof *r);
    gt_child(r, fn, env, timeout_ms);
    if (status == GT_NONZERO)
        cr_assert_neq(r->status, 0, "exit status 0; output:\n%s", r->out);
    else
        cr_assert_eq(r->status, status, "exit status %d (want %d); output:\n%s",
                     r->status, status, r->out);
    for (int i = 0; want[i]; i++)
        cr_assert_not_null(strstr(r->out, want[i]), "no \"%s\" in the output:\n%s",
                           want[i], r->out);
    return r;
}

/* gt_child_expect with the strings as arguments (at least one; NULL for
 * none), and the same with nothing more to check: it frees the result. */
#define GT_CHILD_EXPECT(fn, env, timeout_ms, status, ...) \
    gt_child_expect(fn, env, timeout_ms, status, (const char *const[]){__VA_ARGS__, NULL})
#define GT_EXPECT_EXIT(fn, env, timeout_ms, status, ...) \
    free(GT_CHILD_EXPECT(fn, env, timeout_ms, status, __VA_ARGS__))

/* The field key ("VmRSS:", "VmHWM:", ...) of /proc/self/status in KiB, or
 * -1 if it cannot be read. */
static inline long gt_status_kib(const char *key)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kib = -1;
    size_t k = strlen(key);
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, key, k) && sscanf(line + k, " %ld kB", &kib) == 1)
            break;
    if (f)
        fclose(f);
    return kib;
}

/* Sleeps the thread for the whole of us microseconds: a signal (the
 * runtime's preemption signal among them) makes usleep/sleep return early
 * with EINTR, as for any C program that handles signals. */
static inline void gt_usleep_full(long us)
{
    struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {}
}

#endif
