/*
 * test/bench/idle/idle.c -- the idle gort program whose resident set
 * bench_idle.c measures: runtime_main with an empty main function, or
 * (with an argument) one whose goroutine sleeps 100 ms. Built as a user
 * builds a gort program: dynamically linked against libgort.so (and once
 * more with -static). Its Go twins are test/bench/go/testdata/{empty,sleep}.
 */
#include "gort.h"

/* Returns at once, or after 100 ms asleep when given any argument. */
static int app_main(int argc, char **argv)
{
    (void)argv;
    if (argc > 1)
        time_sleep(100 * 1000000LL);
    return 0;
}

int main(int argc, char **argv) { return runtime_main(app_main, argc, argv); }
