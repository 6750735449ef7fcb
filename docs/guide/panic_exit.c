/* docs/guide/panic_exit.c -- an unrecovered panic: deferred calls run, then
 * "panic: ..." and the traceback go to stderr and the process exits with
 * status 2 (GOTRACEBACK chooses how many goroutines are shown). */
#include <stdio.h>
#include <gort.h>

static void cleanup(void *arg)
{
    (void)arg;
    printf("cleanup ran\n");
}

static void check_config(void *arg)
{
    go_defer(cleanup, NULL);
    if (arg == NULL)
        go_panic("config: missing value");
}

static int app_main(int argc, char **argv)
{
    (void)argc; (void)argv;
    printf("starting\n");
    fflush(stdout);
    go_call(check_config, NULL);
    printf("not reached\n");
    return 0;
}

int main(int argc, char **argv)
{
    return runtime_main(app_main, argc, argv);
}
