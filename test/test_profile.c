/*
 * test/test_profile.c -- runtime_goroutine_profile as Go's goroutine
 * profile at debug=1: the total, identical stacks counted once and
 * sorted by count, "COUNT @ PCs" and "#\tPC\tFUNC+0xOFF\tFILE:LINE" lines,
 * the start function present even when its last call is a tail call into
 * gort, goroutines that have not started yet, snprintf-like truncation,
 * and the _write form.
 */
#include <stdlib.h>

#include "helpers.h"
#include "sched_helpers.h"

#define NWAIT 1000
#define NTAIL 3

static chan_t *block;            /* never sent on: everyone waits */
static sync_waitgroup_t started;
static long sink_elem;

/* Parks in a receive that is not its last call. */
__attribute__((noinline)) static void waiter(void *arg)
{
    long v;
    sync_waitgroup_done(&started);
    chan_recv(block, &v);
    sink_elem = v;
}

/* Its receive is its last call (compiled as a jump into chan_recv). */
__attribute__((noinline)) static void tail_waiter(void *arg)
{
    sync_waitgroup_done(&started);
    chan_recv(block, &sink_elem);
}

static void never_started(void *arg) { (void)arg; }

/* Starts the waiters and waits until each has parked. */
static void start_waiters(void)
{
    GC_STORE(block, chan_make(sizeof(long), 0));
    sync_waitgroup_add(&started, NWAIT + NTAIL);
    for (int i = 0; i < NWAIT; i++)
        go(waiter, NULL);
    for (int i = 0; i < NTAIL; i++)
        go(tail_waiter, NULL);
    sync_waitgroup_wait(&started);
    /* Done is called just before the receive: wait until all have parked. */
    for (int64_t end = gt_ms() + 15000; gt_ms() < end;) {
        char tmp[1];
        size_t n = runtime_goroutine_profile(tmp, sizeof tmp);
        char *buf = malloc(n + 1);
        runtime_goroutine_profile(buf, n + 1);
        bool parked = strstr(buf, "1000 @ ") != NULL && strstr(buf, "\n3 @ ") != NULL;
        free(buf);
        if (parked)
            return;
        time_sleep(TIME_MILLISECOND);
    }
}

/* The record ("COUNT @ ..." and its frames) that names fn, or NULL. */
static char *record_of(char *prof, const char *fn)
{
    char *at = strstr(prof, fn);
    if (!at)
        return NULL;
    for (;;) {
        while (at > prof && at[-1] != '\n')
            at--;
        if (at == prof || (*at >= '0' && *at <= '9'))
            return at;
        at--;
    }
}

static int main_profile(int argc, char **argv)
{
    start_waiters();
    size_t n = runtime_goroutine_profile(NULL, 0);
    char *buf = malloc(n + 1);
    GT_CHECK(runtime_goroutine_profile(buf, n + 1) == n);
    GT_CHECK(strncmp(buf, "goroutine profile: total 1004\n", 30) == 0, "header:\n%.200s", buf);
    /* Most frequent first: the waiters, then the tail waiters, then main. */
    GT_CHECK(strncmp(buf + 30, "1000 @ 0x", 9) == 0, "first record:\n%.300s", buf + 30);
    char *w = record_of(buf, "\twaiter+0x");
    GT_CHECK(w && strncmp(w, "1000 @ ", 7) == 0, "waiter record:\n%s", buf);
    GT_CHECK(w && strstr(w, "#\t0x") != NULL && strstr(w, "test_profile.c:") != NULL,
             "frame lines:\n%s", buf);
    char *t = record_of(buf, "\ttail_waiter+0x");
    GT_CHECK(t && strncmp(t, "3 @ ", 4) == 0, "tail-call waiter record:\n%s", buf);
    GT_CHECK(record_of(buf, "\tmain_profile+0x") != NULL, "main's record:\n%s", buf);
    /* libgort's frames are not shown. */
    GT_CHECK(strstr(buf, "chan_recv+") == NULL && strstr(buf, "sched__park") == NULL,
             "runtime frames shown:\n%s", buf);
    free(buf);
    return 0;
}

Test(profile, groups_identical_stacks, .timeout = 60) { gt_run(main_profile); }

/* Truncation as snprintf; _write writes the same records to a file. */
static int main_buffers(int argc, char **argv)
{
    start_waiters();
    char small[16];
    memset(small, 'x', sizeof small);
    size_t n = runtime_goroutine_profile(small, sizeof small);
    GT_CHECK(n > sizeof small);
    GT_CHECK(small[15] == 0 && strncmp(small, "goroutine profi", 15) == 0, "got \"%.16s\"", small);
    GT_CHECK(runtime_goroutine_profile(NULL, 0) >= n - 64);
    char path[] = "/tmp/gort-profile-XXXXXX";
    int fd = mkstemp(path);
    GT_CHECK(fd >= 0);
    GT_CHECK(runtime_goroutine_profile_write(fd) == 0);
    off_t size = lseek(fd, 0, SEEK_END);
    char *file = calloc(1, (size_t)size + 1);
    GT_CHECK(pread(fd, file, (size_t)size, 0) == size);
    close(fd);
    unlink(path);
    GT_CHECK(strncmp(file, "goroutine profile: total 1004\n1000 @ ", 37) == 0, "file:\n%.300s", file);
    GT_CHECK(record_of(file, "\ttail_waiter+0x") != NULL);
    GT_CHECK(runtime_goroutine_profile_write(-1) == -1 && errno == EBADF);
    free(file);
    return 0;
}

Test(profile, snprintf_truncation_and_write, .timeout = 60) { gt_run(main_buffers); }

/* Goroutines that have not run yet are counted, with their function. */
static int main_unstarted(int argc, char **argv)
{
    runtime_gomaxprocs(1);
    for (int i = 0; i < 50; i++)
        go(never_started, NULL);
    /* One call: symbolizing the first profile can take longer than a time
     * slice, and a preempted main would let them run. */
    static char buf[1 << 16];
    runtime_goroutine_profile(buf, sizeof buf);
    GT_CHECK(strncmp(buf, "goroutine profile: total 51\n50 @ ", 33) == 0, "profile:\n%s", buf);
    GT_CHECK(strstr(buf, "\tnever_started+0x0\t") != NULL, "profile:\n%s", buf);
    return 0;
}

Test(profile, unstarted_goroutines, .timeout = 60) { gt_run(main_unstarted); }
