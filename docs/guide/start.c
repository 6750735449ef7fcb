/* docs/guide/start.c -- the smallest gort program: main hands over to
 * runtime_main, app_main runs as goroutine 1, its value is the exit status. */
#include <stdio.h>
#include <gort.h>

static void hello(void *arg)
{
    chan_t *done = arg;
    printf("hello from another goroutine (%d running)\n", runtime_num_goroutine());
    chan_send(done, NULL);                 /* element size 0: a pure signal */
}

static int app_main(int argc, char **argv)
{
    (void)argc; (void)argv;
    printf("app_main is goroutine %lld\n", (long long)runtime_goid());
    chan_t *done = chan_make(0, 0);        /* a local: no gc_store needed */
    go(hello, done);
    chan_recv(done, NULL);                 /* wait until hello has printed */
    return 3;                              /* becomes the exit status */
}

int main(int argc, char **argv)
{
    return runtime_main(app_main, argc, argv);
}
