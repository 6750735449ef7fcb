/*
 * runtime/fatal.c -- the one fatal path: throw, and every report that
 * ends the process.
 *
 * Every fatal report -- a throw (broken invariant, deadlock, out of
 * memory), a fatal signal, an unrecovered panic, the SIGQUIT dump -- is
 *
 *   runtime__fatal_begin()        claims the process: the first thread
 *                                 reports, any other that gets here waits
 *                                 for the exit, and the reporting thread
 *                                 faulting again during its report exits
 *                                 at once;
 *   the case's own header         "fatal error: ...", "panic: ...",
 *                                 "SIGQUIT: quit", ...;
 *   runtime__fatal_end(tb, all)   the tracebacks GOTRACEBACK asks for,
 *                                 then exit status 2 (GOTRACEBACK=crash:
 *                                 SIGABRT, for a core dump).
 *
 * The ground floor knows no goroutines: the scheduler registers the
 * function that prints their tracebacks at boot. A throw before that
 * prints its message alone.
 *
 * Context: any, including signal handlers and threads holding runtime
 * locks: write(2) only (runtime/print.c), no locks, no allocation.
 */
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

static _Atomic int fatal_tid;               /* thread reporting, or 0 */
static void (*fatal_tracebacks)(bool all);  /* set by the scheduler */

void runtime__fatal_set_tracebacks(void (*fn)(bool all))
{
    fatal_tracebacks = fn;
}

void runtime__fatal_begin(void)
{
    runtime__mlocks_add(1);   /* a dying M is never preempted */
    int me = (int)gettid();
    int zero = 0;
    if (atomic_compare_exchange_strong(&fatal_tid, &zero, me))
        return;
    if (zero == me) {
        static const char msg[] = "fatal error: fault while reporting a fatal error\n";
        ssize_t r = write(2, msg, sizeof msg - 1);
        (void)r;
        _exit(2);
    }
    for (;;)
        pause();
}

/* Dumps core as GOTRACEBACK=crash asks: SIGABRT with its default action. */
static void crash(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_DFL;
    sigaction(SIGABRT, &sa, NULL);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGABRT);
    sigprocmask(SIG_UNBLOCK, &set, NULL);
    raise(SIGABRT);
}

_Noreturn void runtime__fatal_end(bool tb, bool all)
{
    if (tb && fatal_tracebacks)
        fatal_tracebacks(all);
    if (runtime__debug.traceback >= TRACEBACK_CRASH)
        crash();
    _exit(2);
}

_Noreturn void runtime__fatal_error(const char *msg)
{
    runtime__printf("fatal error: %s\n", msg);
    runtime__fatal_end(true, true);   /* a throw shows every goroutine, as Go's */
}

_Noreturn void runtime__throw(const char *msg)
{
    runtime__fatal_begin();
    runtime__fatal_error(msg);
}

_Noreturn void runtime__throwf(const char *fmt, ...)
{
    runtime__fatal_begin();
    va_list ap;
    va_start(ap, fmt);
    runtime__printf("fatal error: ");
    runtime__vprintf(fmt, ap);
    runtime__printf("\n");
    va_end(ap);
    runtime__fatal_end(true, true);
}

_Noreturn void runtime__misuse(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    runtime__printf("gort: ");
    runtime__vprintf(fmt, ap);
    runtime__printf("\n");
    va_end(ap);
    abort();
}
