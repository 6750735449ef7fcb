/*
 * test/static_spin.c -- a fully static gort program (built with -static by
 * the Makefile, run by test_sched_preempt.c): at GOMAXPROCS=1 a goroutine
 * busy for 300 ms without a gort call keeps main from running, since a
 * static program has no asynchronous preemption; sysmon reports it.
 */
#include <stdio.h>
#include <time.h>

#include <gort.h>

static volatile int done;

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void spin(void *arg)
{
    (void)arg;
    long end = now_ms() + 300;
    while (now_ms() < end) {}
    done = 1;
}

static int app_main(int argc, char **argv)
{
    (void)argc; (void)argv;
    runtime_gomaxprocs(1);
    go(spin, NULL);
    time_sleep(1000000);
    printf(done ? "main ran after the loop\n" : "main ran during the loop\n");
    return 0;
}

int main(int argc, char **argv) { return runtime_main(app_main, argc, argv); }
