/*
 * runtime/panic.c -- go_call frames, defer, panic, recover.
 * (Initial version: frames and defers without unwinding; the panic issue
 * replaces it.)
 */
#include <stdio.h>
#include <stdlib.h>

#include "../sched/internal.h"

void runtime__goentry(void (*fn)(void *), void *arg) { fn(arg); }

void go_call(void (*fn)(void *arg), void *arg) { fn(arg); }

void go_defer(void (*fn)(void *arg), void *arg)
{
    (void)fn; (void)arg;
    runtime__throw("go_defer: not implemented yet");
}

_Noreturn void go_panic(const char *msg)
{
    runtime__printf("panic: %s\n\n", msg);
    runtime__crash_tracebacks();
    exit(2);
}

const char *go_recover(void) { return NULL; }

void runtime__crash_tracebacks(void) {}
