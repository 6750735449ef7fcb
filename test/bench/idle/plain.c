/*
 * test/bench/idle/plain.c -- the floor bench_idle compares with: a
 * dynamically linked C program without gort that does what idle.c does
 * (returns at once, or with an argument sleeps 100 ms).
 */
#define _POSIX_C_SOURCE 200809L
#include <time.h>

int main(int argc, char **argv)
{
    (void)argv;
    struct timespec ts = {0, 100 * 1000000L};
    if (argc > 1)
        while (nanosleep(&ts, &ts) != 0) {}
    return 0;
}
