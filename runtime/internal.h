/*
 * runtime/internal.h -- runtime-wide internals shared by every subsystem.
 *
 * The ground floor of the library: everything above (sched, gc, chan,
 * sync, net) includes this header, and nothing here includes theirs.
 *
 * Owns: runtime locks (futex mutex and notes), the one fatal path
 * (fatal.c), the async-signal-safe printing (print.c), the non-GC
 * allocator (jemalloc), the environment and GODEBUG knobs (env.c), and
 * the ground floor's view of the current M (its lock count).
 *
 * Naming: internal functions shared across files are runtime__name and are
 * hidden (GORT_HIDDEN) so libgort.so exports only the public API.
 *
 * May call: libc and jemalloc, and upward only through what the layers
 * above register at boot (the tracebacks of a fatal report).
 *
 * Context: unless a comment says otherwise, every function here may run on
 * a user G or on g0, with or without a P. None of them parks a goroutine.
 */
#ifndef GORT_RUNTIME_INTERNAL_H
#define GORT_RUNTIME_INTERNAL_H

#include <stdarg.h>
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
/* Spins on the CPU (no system call) at most ns; returns true if woken. */
GORT_HIDDEN bool runtime__notespin(runtime_note_t *n, int64_t ns);

/* ------------------------------------------------------------------ */
/* the current M, as far as the ground floor sees it                  */
/* ------------------------------------------------------------------ */

/* The runtime's state of the calling thread (the M), NULL on threads the
 * runtime did not create. Its type is the scheduler's m_t, which begins
 * with the count of runtime locks the thread holds (no preemption while
 * it is non-zero): that count is all the ground floor touches. */
GORT_HIDDEN extern __thread void *runtime__tls_m __attribute__((tls_model("initial-exec")));

/* Adds d to the calling M's count of runtime locks held, if on an M. */
static inline void runtime__mlocks_add(int32_t d)
{
    int32_t *locks = runtime__tls_m;
    if (locks)
        *locks += d;
}

/* ------------------------------------------------------------------ */
/* fatal errors (runtime/fatal.c: the one fatal path)                 */
/* ------------------------------------------------------------------ */

/* Claims the process for a fatal report: returns on the first thread;
 * later ones wait for the exit; the reporting thread re-entering (a
 * fault while reporting) exits at once. Any context. */
GORT_HIDDEN void runtime__fatal_begin(void);
/* Ends a claimed report: with tb, the tracebacks GOTRACEBACK asks for
 * (every goroutine if all, else the reporting one); exits 2, or raises
 * SIGABRT with GOTRACEBACK=crash. */
GORT_HIDDEN _Noreturn void runtime__fatal_end(bool tb, bool all);
/* The scheduler's traceback printer for runtime__fatal_end (boot). */
GORT_HIDDEN void runtime__fatal_set_tracebacks(void (*fn)(bool all));
/* In a claimed report: "fatal error: <msg>" and a throw's tracebacks. */
GORT_HIDDEN _Noreturn void runtime__fatal_error(const char *msg);

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

/* Writes to fd 2 with one write(2), formatted by runtime__vformat: safe
 * in signal handlers and with runtime locks held (runtime/print.c). */
GORT_HIDDEN void runtime__printf(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
GORT_HIDDEN void runtime__vprintf(const char *fmt, va_list ap);
/* An async-signal-safe vsnprintf for the conversions the runtime uses
 * (see runtime/print.c); returns the untruncated length. */
GORT_HIDDEN size_t runtime__vformat(char *buf, size_t cap, const char *fmt, va_list ap);

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
    int     gcpacertrace;     /* the pacer's cons/mark inputs each cycle */
    int     stwtrace;         /* one line per stop of the world: where its time went */
    int     gomaxprocs_env;   /* 0 if unset */
    int     gogc;             /* GOGC, 100 default, -1 = off */
    int64_t gomemlimit;       /* bytes; INT64_MAX if unset */
    int     traceback;        /* GOTRACEBACK level, see below */
    size_t  stack_size;       /* GORT_STACK_SIZE */
    int     stack_guard_mprotect; /* GORT_STACK_GUARD=mprotect: no MADV_GUARD_INSTALL */
    int     stack_guard_none;     /* GORT_STACK_GUARD=none: canaries only (benchmarks) */
    int     gc_mark_budget;   /* GORT_GC_MARK_BUDGET: objects marked between yields */
} runtime_debug_t;

enum { TRACEBACK_NONE = 0, TRACEBACK_SINGLE = 1, TRACEBACK_ALL = 2,
       TRACEBACK_SYSTEM = 3, TRACEBACK_CRASH = 4 };

GORT_HIDDEN extern runtime_debug_t runtime__debug;

#define RUNTIME_STACK_DEFAULT (64 * 1024)   /* goroutine stack, GORT_STACK_SIZE unset */
#define RUNTIME_STACK_MIN     (16 * 1024)   /* smallest GORT_STACK_SIZE accepted */

/* Parses GOMAXPROCS, GOGC, GOMEMLIMIT, GODEBUG, GOTRACEBACK and
 * GORT_STACK_SIZE. A malformed value is reported and the default used. */
GORT_HIDDEN void runtime__parse_env(void);

/* Monotonic nanoseconds (CLOCK_MONOTONIC through the vDSO). */
GORT_HIDDEN int64_t runtime__nanotime(void);

/* A fast thread-local pseudo-random number (wyrand). */
GORT_HIDDEN uint32_t runtime__fastrand(void);
GORT_HIDDEN uint32_t runtime__fastrandn(uint32_t n);

#endif /* GORT_RUNTIME_INTERNAL_H */
