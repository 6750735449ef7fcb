/* docs/guide/panic.c -- defer, panic and recover written in C: go_call runs
 * a function as one Go frame, go_defer registers on the innermost frame,
 * go_recover works only when called by the deferred function itself. */
#include <stdio.h>
#include <gort.h>

static sync_mutex_t mu;

static void unlock(void *arg) { sync_mutex_unlock(arg); }
static void say(void *arg) { printf("deferred: %s\n", (const char *)arg); }

/* defer func() { if r := recover(); r != nil { ... } }() */
static void recover_and_report(void *arg)
{
    const char *r = go_recover();          /* directly in the deferred function */
    if (r != NULL)
        printf("recovered in %s: %s\n", (const char *)arg, r);
}

static void locked_work(void *arg)
{
    sync_mutex_lock(&mu);
    go_defer(unlock, &mu);                 /* defer mu.Unlock() */
    go_defer(say, "first registered, runs last");
    go_defer(say, "second registered, runs first");
    if (arg != NULL)
        go_panic((const char *)arg);       /* panic(arg): the defers still run */
}

/* func safely(f) { defer recover...; f() } */
static void safely(void *arg)
{
    go_defer(recover_and_report, "safely");
    go_call(locked_work, arg);
}

static void send_on_closed(void *arg)
{
    (void)arg;
    go_defer(recover_and_report, "send_on_closed");
    chan_t *c = chan_make(sizeof(int), 1);
    chan_close(c);
    int v = 1;
    chan_send(c, &v);                      /* panics: send on closed channel */
}

static void divide(void *arg)
{
    go_defer(recover_and_report, "divide");
    volatile int zero = *(int *)arg;
    printf("%d\n", 10 / zero);             /* SIGFPE becomes a panic */
}

static void deref(void *arg)
{
    go_defer(recover_and_report, "deref");
    int *volatile p = arg;
    printf("%d\n", *p);                    /* a nil dereference is a panic too */
}

static void leave(void *arg)
{
    chan_t *done = arg;
    go_defer(say, "runs on runtime_goexit too");
    runtime_goexit();                      /* ends this goroutine; recover sees NULL */
    chan_send(done, NULL);                 /* never reached */
}

static void leave_main(void *arg)
{
    chan_t *done = arg;
    go_call(leave, done);
    printf("never printed\n");
}

static void signal_done(void *arg) { chan_send(arg, NULL); }

static void goexit_demo(void *arg)
{
    go_defer(signal_done, arg);            /* the outer frame's defers run too */
    leave_main(arg);
}

static int app_main(int argc, char **argv)
{
    (void)argc; (void)argv;
    go_call(safely, NULL);                 /* no panic: the defers run at return */
    go_call(safely, "boom");
    printf("mutex free again: %s\n", sync_mutex_trylock(&mu) ? "yes" : "no");
    sync_mutex_unlock(&mu);

    go_call(send_on_closed, NULL);
    int zero = 0;
    go_call(divide, &zero);
    go_call(deref, NULL);
    printf("recover outside a panic: %s\n", go_recover() == NULL ? "NULL" : "?");

    chan_t *done = chan_make(0, 0);
    go(goexit_demo, done);
    chan_recv(done, NULL);
    return 0;
}

int main(int argc, char **argv)
{
    return runtime_main(app_main, argc, argv);
}
