/* docs/guide/goroutines.c -- go() with arguments, a WaitGroup to wait for
 * them, errno read at once, and a blocking call bracketed as a system call. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <gort.h>

typedef struct {
    int id;
    long *result;          /* where the goroutine writes its answer */
    sync_waitgroup_t *wg;
} task_t;

static void square(void *arg)
{
    task_t *t = arg;
    *t->result = (long)t->id * t->id;  /* a long, not a GC pointer: plain store */
    sync_waitgroup_done(t->wg);
}

/* A blocking C call inside runtime_entersyscallblock/runtime_exitsyscall:
 * the P goes to another thread meanwhile, so other goroutines keep running.
 * No gort call between the two. nanosleep is not restarted after a signal,
 * so retry on EINTR (the runtime preempts with SIGURG). */
static void nap_in_kernel(void *arg)
{
    sync_waitgroup_t *wg = arg;
    struct timespec ts = {0, 20 * 1000 * 1000};
    runtime_entersyscallblock();
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {}
    runtime_exitsyscall();
    sync_waitgroup_done(wg);
}

static int app_main(int argc, char **argv)
{
    (void)argc; (void)argv;
    enum { N = 5 };
    sync_waitgroup_t wg = {0};
    long results[N];
    task_t *tasks = gc_alloc(N * sizeof(task_t));
    for (int i = 0; i < N; i++) {
        tasks[i].id = i + 1;
        GC_STORE(tasks[i].result, &results[i]); /* a pointer stored into a gc_alloc object */
        GC_STORE(tasks[i].wg, &wg);
        sync_waitgroup_add(&wg, 1);             /* Add before go, as in Go */
        go(square, &tasks[i]);
    }
    sync_waitgroup_add(&wg, 1);
    go(nap_in_kernel, &wg);
    sync_waitgroup_wait(&wg);
    for (int i = 0; i < N; i++)
        printf("%d*%d = %ld\n", i + 1, i + 1, results[i]);

    /* errno belongs to the thread: read it right after the failing call. */
    if (write(-1, "x", 1) < 0) {
        int err = errno;                        /* before any other gort call */
        runtime_gosched();                      /* may resume on another thread */
        printf("write(-1): %s\n", strerror(err));
    }
    return 0;
}

int main(int argc, char **argv)
{
    return runtime_main(app_main, argc, argv);
}
