/*
 * runtime/internal.h -- runtime-wide internals shared by every subsystem.
 *
 * Owns: runtime locks (futex mutex and notes), throw/fatal exits, the
 * non-GC allocator (jemalloc), the environment and GODEBUG knobs, and the
 * panic machinery's internal entry points.
 *
 * Naming: internal functions shared across files are runtime__name and are
 * hidden (GORT_HIDDEN) so libgort.so exports only the public API.
 *
 * May call: libc, jemalloc, libunwind/libbacktrace (tracebacks), and the
 * scheduler (sched/internal.h: the current G, goexit, the G list for
 * tracebacks and crash reports).
 *
 * Context: unless a comment says otherwise, every function here may run on
 * a user G or on g0, with or without a P. None of them parks a goroutine.
 */
#ifndef GORT_RUNTIME_INTERNAL_H
#define GORT_RUNTIME_INTERNAL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gort.h"

#define GORT_HIDDEN   __attribute__((visibility("hidden")))
#define GORT_NOINLINE __attribute__((noinline))
#define likely(x)     __builtin_expect(!!(x), 1)
#define unlikely(x)   __builtin_expect(!!(x), 0)

/* ------------------------------------------------------------------ */
/* runtime locks                                                       */
/* ------------------------------------------------------------------ */

/* A runtime mutex blocks the M (futex), never the G. While an M holds one,
 * m->locks > 0: the M is not preempted and must not park its G or allocate
 * from the GC heap. Zero-initialised = unlocked. */
typedef struct { _Atomic uint32_t key; } runtime_lock_t;

GORT_HIDDEN void runtime__lock(runtime_lock_t *l);
GORT_HIDDEN void runtime__unlock(runtime_lock_t *l);
/* Lock without touching m->locks: for threads that have no M. */
GORT_HIDDEN void runtime__lock_raw(runtime_lock_t *l);
GORT_HIDDEN void runtime__unlock_raw(runtime_lock_t *l);

/* A one-shot wake-up event (Go's note): one sleeper, one waker. A wake-up
 * that arrives before the sleep is not lost. Zero-initialised = clear. */
typedef struct { _Atomic uint32_t key; } runtime_note_t;

GORT_HIDDEN void runtime__noteclear(runtime_note_t *n);
GORT_HIDDEN void runtime__notewakeup(runtime_note_t *n);
GORT_HIDDEN void runtime__notesleep(runtime_note_t *n);
/* Sleeps at most ns (ns < 0: forever); returns true if woken. */
GORT_HIDDEN bool runtime__notetsleep(runtime_note_t *n, int64_t ns);

/* ------------------------------------------------------------------ */
/* fatal errors                                                        */
/* ------------------------------------------------------------------ */

/* Go's throw: prints "fatal error: <msg>", tracebacks as GOTRACEBACK
 * asks, and exits 2. Not recoverable. Any context. */
GORT_HIDDEN _Noreturn void runtime__throw(const char *msg);
/* printf-style throw for messages that carry values. */
GORT_HIDDEN _Noreturn void runtime__throwf(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
/* A misuse of the API from outside the runtime's control (no goroutine,
 * before runtime_main): "gort: <msg>" on stderr, then abort(). */
GORT_HIDDEN _Noreturn void runtime__misuse(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

/* Broken invariant: throw with file and line. Always on, like Lua's
 * lua_assert in debug builds; the conditions are cheap. */
#define runtime__assert(cond)                                                  \
    do {                                                                       \
        if (unlikely(!(cond)))                                                 \
            runtime__throwf("assertion failed: %s (%s:%d)", #cond, __FILE__,   \
                            __LINE__);                                         \
    } while (0)

/* Writes to fd 2 with write(2) only: safe in signal handlers and with
 * runtime locks held. */
GORT_HIDDEN void runtime__printf(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

/* ------------------------------------------------------------------ */
/* non-GC memory (jemalloc)                                            */
/* ------------------------------------------------------------------ */

/* Zeroed runtime-internal memory; never NULL (fatal out of memory). */
GORT_HIDDEN void *runtime__malloc(size_t size);
GORT_HIDDEN void  runtime__free(void *p, size_t size);

/* ------------------------------------------------------------------ */
/* environment and GODEBUG                                             */
/* ------------------------------------------------------------------ */

typedef struct {
    int     schedtrace;       /* ms; 0 = off */
    int     scheddetail;
    int     gctrace;
    int     gccheckmark;
    int     asyncpreemptoff;
    int     gcstoptheworld;
    int     gomaxprocs_env;   /* 0 if unset */
    int     gogc;             /* GOGC, 100 default, -1 = off */
    int64_t gomemlimit;       /* bytes; INT64_MAX if unset */
    int     traceback;        /* GOTRACEBACK level, see below */
    size_t  stack_size;       /* GORT_STACK_SIZE */
} runtime_debug_t;

enum { TRACEBACK_NONE = 0, TRACEBACK_SINGLE = 1, TRACEBACK_ALL = 2,
       TRACEBACK_SYSTEM = 3, TRACEBACK_CRASH = 4 };

GORT_HIDDEN extern runtime_debug_t runtime__debug;

/* Parses GOMAXPROCS, GOGC, GOMEMLIMIT, GODEBUG, GOTRACEBACK and
 * GORT_STACK_SIZE. A malformed value is reported and the default used. */
GORT_HIDDEN void runtime__parse_env(void);

/* Monotonic nanoseconds (CLOCK_MONOTONIC through the vDSO). */
GORT_HIDDEN int64_t runtime__nanotime(void);

/* A fast thread-local pseudo-random number (wyrand). */
GORT_HIDDEN uint32_t runtime__fastrand(void);
GORT_HIDDEN uint32_t runtime__fastrandn(uint32_t n);

/* ------------------------------------------------------------------ */
/* panic machinery (runtime/panic.c)                                   */
/* ------------------------------------------------------------------ */

/* Runs a new goroutine's entry function as its implicit outermost frame. */
GORT_HIDDEN void runtime__goentry(void (*fn)(void *), void *arg);

/* Prints the traceback(s) that a fatal error or unrecovered panic owes
 * the user, as runtime__debug.traceback says. */
GORT_HIDDEN void runtime__crash_tracebacks(void);

/* Installs the SIGSEGV/SIGBUS/SIGFPE/SIGQUIT handlers (runtime/signal.c).
 * Boot calls it once, after the first M has its sigaltstack. */
GORT_HIDDEN void runtime__signal_init(void);

#endif /* GORT_RUNTIME_INTERNAL_H */
