/*
 * runtime/throw.c -- fatal errors and the runtime's own printing.
 *
 * runtime__throw is Go's throw: for broken invariants and unrecoverable
 * conditions (deadlock, out of memory). It prints "fatal error: <msg>",
 * the tracebacks GOTRACEBACK asks for, and exits 2. Only one thread
 * prints; others that throw meanwhile wait to die with the process.
 *
 * Context: any, including signal handlers (write(2) only, no malloc).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "../sched/internal.h"

static _Atomic int throwing;

/* Formats into a stack buffer and writes it to fd 2 in one call. */
static void vprint(const char *fmt, va_list ap)
{
    char buf[1024];
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    if (n < 0)
        return;
    if ((size_t)n >= sizeof buf)
        n = sizeof buf - 1;
    for (ssize_t off = 0; off < n;) {
        ssize_t w = write(2, buf + off, (size_t)(n - off));
        if (w <= 0)
            break;
        off += w;
    }
}

void runtime__printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vprint(fmt, ap);
    va_end(ap);
}

/* Prints the fatal message once, tracebacks, and exits (or aborts). */
static _Noreturn void die(void)
{
    runtime__crash_tracebacks();
    if (runtime__debug.traceback >= TRACEBACK_CRASH)
        abort();
    _exit(2);
}

/* Ensures a single thread reports; the others park until the exit. */
static void enter_throw(void)
{
    m_t *m = sched__getm();
    if (m)
        m->locks++;  /* never preempt a dying M */
    if (atomic_fetch_add(&throwing, 1) != 0) {
        for (;;)
            pause();
    }
}

_Noreturn void runtime__throw(const char *msg)
{
    enter_throw();
    runtime__printf("fatal error: %s\n", msg);
    die();
}

_Noreturn void runtime__throwf(const char *fmt, ...)
{
    enter_throw();
    va_list ap;
    va_start(ap, fmt);
    runtime__printf("fatal error: ");
    vprint(fmt, ap);
    runtime__printf("\n");
    va_end(ap);
    die();
}

_Noreturn void runtime__misuse(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    runtime__printf("gort: ");
    vprint(fmt, ap);
    runtime__printf("\n");
    va_end(ap);
    abort();
}
