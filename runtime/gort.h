/*
 * gort.h -- the public API of gort, a Go-semantics runtime for C.
 *
 * The first part of this file is the API contract, verbatim. The project's own public
 * header (installed as <gort.h>) must declare every name below with exactly
 * this signature and meaning. The project may add more API, but must not
 * rename or re-type what is here: programs written against this contract
 * must compile and behave as described. Where a comment says "as Go", the
 * behaviour of the Go 1.19 runtime and standard library is the reference.
 *
 * Naming rule for everything the project adds: Go package name, underscore,
 * Go identifier in snake_case (sync.WaitGroup.Add -> sync_waitgroup_add,
 * runtime.NumGoroutine -> runtime_num_goroutine). Types end in _t.
 */
#ifndef GORT_H
#define GORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h> /* ssize_t */

/* Everything declared here is exported from libgort.so; the runtime's
 * internals are built with -fvisibility=hidden. */
#if defined(__GNUC__)
#pragma GCC visibility push(default)
#endif

/* The header is C11 and C++11: C++ sees C linkage and [[noreturn]]. */
#ifdef __cplusplus
#define GORT_NORETURN [[noreturn]]
extern "C" {
#else
#define GORT_NORETURN _Noreturn
#endif

typedef struct chan chan_t;      /* a channel; see "channels and select" */

/* ------------------------------------------------------------------ */
/* runtime: boot, goroutines, scheduler                                */
/* ------------------------------------------------------------------ */

/* Boots the runtime (reads GOMAXPROCS, GOGC, GOMEMLIMIT, GODEBUG,
 * GOTRACEBACK from the environment), runs main_fn(argc, argv) as goroutine 1,
 * and when main_fn returns, stops every other goroutine (they never run
 * again, as when a Go main returns) and returns main_fn's value.
 * Called at most once per process; typical use:
 *     int main(int argc, char **argv) { return runtime_main(app_main, argc, argv); }
 */
int runtime_main(int (*main_fn)(int argc, char **argv), int argc, char **argv);

/* The go statement: starts fn(arg) as a new goroutine. Never blocks. */
void go(void (*fn)(void *arg), void *arg);

void    runtime_gosched(void);          /* runtime.Gosched */
int     runtime_gomaxprocs(int n);      /* runtime.GOMAXPROCS: n < 1 only queries; returns previous */
int     runtime_num_goroutine(void);    /* runtime.NumGoroutine */
int     runtime_num_cpu(void);          /* runtime.NumCPU */
int64_t runtime_goid(void);             /* id of the calling goroutine; main is 1 */
void    runtime_goexit(void);           /* runtime.Goexit: runs pending defers, ends the goroutine */
void    runtime_lock_os_thread(void);   /* runtime.LockOSThread */
void    runtime_unlock_os_thread(void); /* runtime.UnlockOSThread */

/* Bracket a call that may block in the kernel (read, write, sleep, a
 * blocking C library call) so the scheduler can hand this M's P to another
 * M meanwhile ("hand off"), as Go does around system calls. */
void runtime_entersyscall(void);
void runtime_exitsyscall(void);

/* ------------------------------------------------------------------ */
/* panic, defer, recover                                               */
/* ------------------------------------------------------------------ */

/* Calls fn(arg) as one Go function frame: go_defer() calls made while it
 * runs (and not inside a nested go_call) run in LIFO order when fn returns
 * or panics. A goroutine's entry function is such a frame implicitly. */
void go_call(void (*fn)(void *arg), void *arg);
void go_defer(void (*fn)(void *arg), void *arg);

/* Panics with a message (copied). Unwinds go_call frames, running their
 * defers. If no deferred call recovers, prints "panic: <msg>" and the
 * goroutine traceback(s) to stderr and exits the process with status 2,
 * as Go does. Runtime errors panic with Go's own texts, e.g.
 * "send on closed channel", "close of closed channel",
 * "close of nil channel", "sync: negative WaitGroup counter". */
GORT_NORETURN void go_panic(const char *msg);

/* Called directly by a deferred function while panicking: stops the panic
 * and returns its message; the go_call whose defer recovered returns
 * normally. Otherwise returns NULL and does nothing. */
const char *go_recover(void);

/* ------------------------------------------------------------------ */
/* time                                                                */
/* ------------------------------------------------------------------ */

#define TIME_NANOSECOND  ((int64_t)1)
#define TIME_MICROSECOND ((int64_t)1000)
#define TIME_MILLISECOND ((int64_t)1000000)
#define TIME_SECOND      ((int64_t)1000000000)

int64_t time_now(void);              /* monotonic clock, nanoseconds */
void    time_sleep(int64_t ns);      /* time.Sleep: parks only the goroutine */

/* time.After: a channel (element int64_t, capacity 1) that receives the
 * time_now() value once, ns from now. */
chan_t *time_after(int64_t ns);

/* ------------------------------------------------------------------ */
/* channels and select                                                  */
/* ------------------------------------------------------------------ */

/* make(chan T, cap) with sizeof(T) == elem_size (0 allowed). The channel is
 * a garbage-collected object; elements are copied by value and may hold GC
 * pointers. Out-of-range sizes panic "makechan: size out of range". */
chan_t *chan_make(size_t elem_size, size_t cap);

/* c <- *elem. Blocks as Go; a nil c blocks forever; a closed c panics
 * "send on closed channel". */
void chan_send(chan_t *c, const void *elem);

/* *elem = <-c (elem may be NULL to discard). */
void chan_recv(chan_t *c, void *elem);

/* v, ok := <-c. Returns false (and zeroes *elem) when c is closed and
 * drained. */
bool chan_recv2(chan_t *c, void *elem);

/* close(c): panics "close of nil channel" / "close of closed channel". */
void chan_close(chan_t *c);

size_t chan_len(chan_t *c);          /* len(c); 0 for nil */
size_t chan_cap(chan_t *c);          /* cap(c); 0 for nil */

typedef enum { SELECT_SEND = 1, SELECT_RECV = 2 } select_dir_t;

typedef struct {
    chan_t      *c;      /* may be NULL: such a case is never ready */
    select_dir_t dir;
    void        *elem;   /* value to send, or where to receive (NULL: discard) */
    bool         ok;     /* out, receive cases: false if received because closed */
} select_case_t;

/* The select statement. Returns the index of the case that proceeded.
 * When several are ready one is chosen uniformly at random, as Go. With
 * block == false and none ready, returns -1 (the default case). With
 * block == true and n == 0 (or only nil channels), blocks forever. */
int chan_select(select_case_t *cases, int n, bool block);

/* ------------------------------------------------------------------ */
/* sync: every type is ready to use when zero-initialised, as in Go     */
/* ------------------------------------------------------------------ */

typedef struct { int32_t state; uint32_t sema; } sync_mutex_t;
void sync_mutex_lock(sync_mutex_t *m);
void sync_mutex_unlock(sync_mutex_t *m);   /* fatal "sync: unlock of unlocked mutex" */
bool sync_mutex_trylock(sync_mutex_t *m);

typedef struct {
    sync_mutex_t w;
    uint32_t writer_sem, reader_sem;
    int32_t  reader_count, reader_wait;
} sync_rwmutex_t;
void sync_rwmutex_lock(sync_rwmutex_t *rw);
void sync_rwmutex_unlock(sync_rwmutex_t *rw);
void sync_rwmutex_rlock(sync_rwmutex_t *rw);
void sync_rwmutex_runlock(sync_rwmutex_t *rw);

typedef struct { uint64_t state; uint32_t sema; } sync_waitgroup_t;
void sync_waitgroup_add(sync_waitgroup_t *wg, int delta);
void sync_waitgroup_done(sync_waitgroup_t *wg);
void sync_waitgroup_wait(sync_waitgroup_t *wg);

typedef struct { uint32_t done; sync_mutex_t m; } sync_once_t;
void sync_once_do(sync_once_t *o, void (*fn)(void *arg), void *arg);

/* sync.Cond with its Locker fixed to a sync_mutex_t: set .l before first
 * use (as sync.NewCond); the rest may be zero. */
typedef struct {
    sync_mutex_t *l;
    uint32_t wait, notify;   /* ticket counters of the notify list */
    uintptr_t checker;       /* gort: own address after first use (copy check) */
} sync_cond_t;
void sync_cond_wait(sync_cond_t *c);       /* c->l must be held */
void sync_cond_signal(sync_cond_t *c);
void sync_cond_broadcast(sync_cond_t *c);

/* The struct members above are the contract's suggestion; the project may
 * change members and sizes, as long as zero-initialised values work. */

/* ------------------------------------------------------------------ */
/* garbage-collected memory                                             */
/* ------------------------------------------------------------------ */

/* new(T): zeroed memory owned by the collector. Every word is treated as a
 * possible pointer (conservative scan); a pointer anywhere inside an object
 * keeps it alive. Never returns NULL (out of memory is a fatal error). */
void *gc_alloc(size_t size);
/* Zeroed memory that holds no GC pointers: never scanned. */
void *gc_alloc_noscan(size_t size);
#define gc_new(T) ((T *)gc_alloc(sizeof(T)))

/* The write barrier. Every store of a pointer value into memory that is not
 * the storing goroutine's own stack frame -- GC objects, global and static
 * variables, registered roots -- must be written through gc_store (or the
 * bulk forms), also when the new value is NULL. Stores into local
 * variables need nothing. */
void gc_store(void *slot, const void *ptr);  /* *(void **)slot = ptr */
#define GC_STORE(lvalue, value) gc_store((void *)&(lvalue), (value))
/* gc_store's fast path inline, as the Go compiler inlines its barrier
 * check: with no mark running, one load, one predictable branch and the
 * store; while a mark runs, the call out of line. gc__wb_enabled (not
 * API) is set and cleared only with the world stopped. The function
 * itself still exists: (gc_store)(slot, ptr) or &gc_store bypass the
 * macro. */
extern bool gc__wb_enabled;
static inline void gc__store_fast(void *slot, const void *ptr)
{
    if (__builtin_expect(gc__wb_enabled, 0))
        (gc_store)(slot, ptr);
    else
        *(const void **)slot = ptr;
}
#define gc_store(slot, ptr) gc__store_fast((slot), (ptr))
/* memmove / memset(0) for memory that may hold GC pointers. */
void gc_memmove(void *dst, const void *src, size_t n);
void gc_memclr(void *dst, size_t n);

/* Extra roots: memory outside the GC heap (e.g. malloc'd) that holds GC
 * pointers. Data and bss of the program and of the shared libraries it was
 * started with are roots already. */
void gc_add_roots(void *lo, void *hi);
void gc_remove_roots(void *lo, void *hi);

void runtime_gc(void);                              /* runtime.GC: a full cycle, blocking */
int  runtime_set_gc_percent(int percent);           /* debug.SetGCPercent; <0 disables */
void runtime_set_finalizer(void *obj, void (*fn)(void *obj)); /* fn NULL clears */

/* debug.SetMemoryLimit (Go 1.19's soft memory limit): bytes of memory the
 * runtime may hold in all (heap, stacks, its own structures). limit < 0
 * only queries. Returns the previous limit. Default INT64_MAX (no limit),
 * or the GOMEMLIMIT environment variable ("64MiB", "2GiB", plain bytes). */
int64_t debug_set_memory_limit(int64_t limit);
void runtime_keep_alive(const void *obj);           /* runtime.KeepAlive */

typedef struct {
    uint64_t heap_alloc;      /* bytes of allocated heap objects (live + not yet swept) */
    uint64_t heap_sys;        /* bytes of heap memory obtained from the OS */
    uint64_t heap_objects;
    uint64_t total_alloc;     /* cumulative bytes allocated */
    uint64_t mallocs, frees;  /* cumulative object counts */
    uint64_t next_gc;         /* heap size goal of the next cycle */
    uint64_t last_gc;         /* time_now() at the end of the last cycle */
    uint64_t pause_total_ns;  /* total stop-the-world time */
    uint64_t pause_ns[256];   /* recent pauses, circular, as Go */
    uint32_t num_gc;
    uint32_t num_forced_gc;
    double   gc_cpu_fraction;
    uint64_t stack_inuse;     /* bytes of goroutine stacks in use (resident) */
} runtime_mem_stats_t;
void runtime_read_mem_stats(runtime_mem_stats_t *ms);


/* ------------------------------------------------------------------ */
/* context                                                              */
/* ------------------------------------------------------------------ */

/* Go's context package. Contexts are GC objects and immutable once made;
 * they may be shared by any number of goroutines. */
typedef struct context context_t;

/* The two errors context_err returns, compared by address:
 * context_canceled is "context canceled",
 * context_deadline_exceeded is "context deadline exceeded". */
extern const char context_canceled[];
extern const char context_deadline_exceeded[];

context_t *context_background(void);   /* never cancelled, no values, no deadline */
context_t *context_todo(void);

/* WithCancel / WithDeadline / WithTimeout. The returned context is also its
 * own cancel handle: context_cancel(child) is Go's CancelFunc. deadline is
 * on the time_now() clock. A child's Done closes when it is cancelled, its
 * deadline passes, or its parent's Done closes, whichever is first. */
context_t *context_with_cancel(context_t *parent);
context_t *context_with_deadline(context_t *parent, int64_t deadline);
context_t *context_with_timeout(context_t *parent, int64_t timeout_ns);

/* WithValue: key is compared by address (use the address of a static). */
context_t *context_with_value(context_t *parent, const void *key, void *value);

/* The CancelFunc of a context made by with_cancel/_deadline/_timeout:
 * cancels it and its descendants, releases its timer; later calls do
 * nothing. On any other context it does nothing. */
void context_cancel(context_t *ctx);

chan_t     *context_done(context_t *ctx);   /* NULL (a nil channel) if it can never be cancelled */
const char *context_err(context_t *ctx);    /* NULL while not done, else one of the two errors */
bool        context_deadline(context_t *ctx, int64_t *deadline); /* false: no deadline */
void       *context_value(context_t *ctx, const void *key);       /* NULL if no such key */

/* ------------------------------------------------------------------ */
/* sync.Map and sync.Pool                                               */
/* ------------------------------------------------------------------ */

/* sync.Map with byte-string keys (copied on store) and word values (a GC
 * pointer or any other pointer-sized value). Zero-initialised is an empty
 * map. Like any memory holding GC pointers, a sync_map_t lives in a global,
 * a GC object, a registered root, or a goroutine's stack. Out-parameters
 * may be NULL. */
typedef struct { void *read; sync_mutex_t mu; void *dirty; intptr_t misses; } sync_map_t;

bool sync_map_load(sync_map_t *m, const void *key, size_t key_len, void **value);
void sync_map_store(sync_map_t *m, const void *key, size_t key_len, void *value);
/* Returns true (and the existing value in *actual) if the key was present;
 * otherwise stores value and returns false (*actual = value). */
bool sync_map_load_or_store(sync_map_t *m, const void *key, size_t key_len, void *value,
                            void **actual);
bool sync_map_load_and_delete(sync_map_t *m, const void *key, size_t key_len, void **value);
void sync_map_delete(sync_map_t *m, const void *key, size_t key_len);
/* Go 1.20's additions; values are compared as words. */
bool sync_map_swap(sync_map_t *m, const void *key, size_t key_len, void *value, void **previous);
bool sync_map_compare_and_swap(sync_map_t *m, const void *key, size_t key_len, void *old,
                               void *value);
bool sync_map_compare_and_delete(sync_map_t *m, const void *key, size_t key_len, void *old);
/* Calls fn for each entry until fn returns false; as Go, no entry is seen
 * twice and fn may call the map's other functions. */
void sync_map_range(sync_map_t *m,
                    bool (*fn)(const void *key, size_t key_len, void *value, void *arg),
                    void *arg);

/* sync.Pool: set .new_fn (or leave it NULL); the rest is zero-initialised.
 * Objects put in a pool may be dropped by any collection (after surviving
 * one in the victim cache, as Go 1.13+). */
typedef struct { void *(*new_fn)(void); void *local; uintptr_t local_size; void *victim; uintptr_t victim_size; } sync_pool_t;
void *sync_pool_get(sync_pool_t *p);          /* NULL if empty and new_fn is NULL */
void  sync_pool_put(sync_pool_t *p, void *x); /* x NULL is ignored */

/* ------------------------------------------------------------------ */
/* net and poll: descriptors that park goroutines, not threads          */
/* ------------------------------------------------------------------ */

/* Errors are C's: NULL or -1 with errno set (ETIMEDOUT when a deadline
 * passed, EBADF after a close, the kernel's value otherwise). Deadlines
 * are on the time_now() clock; 0 means none. Listeners and connections
 * are GC objects; close them explicitly (an unreachable one's descriptor
 * is closed by a finalizer, as Go). Writing to a connection the peer has
 * closed returns -1 with EPIPE: SIGPIPE never kills the program. */
typedef struct net_listener net_listener_t;
typedef struct net_conn net_conn_t;

/* network: "tcp", "tcp4", "tcp6" with address "host:port" ("127.0.0.1:0",
 * "[::1]:8080", ":8080"; port 0 picks a free one), or "unix" with a path. */
net_listener_t *net_listen(const char *network, const char *address);
net_conn_t     *net_listener_accept(net_listener_t *l);   /* parks until a connection or an error */
int             net_listener_close(net_listener_t *l);    /* wakes blocked accepts (EBADF) */
/* Writes the bound address ("127.0.0.1:43121", "[::1]:8080", a path) as
 * snprintf does: returns its length, truncates to len - 1 bytes. */
size_t          net_listener_addr(net_listener_t *l, char *buf, size_t len);

/* host may be a name (resolved without holding a P). */
net_conn_t *net_dial(const char *network, const char *address);
net_conn_t *net_dial_timeout(const char *network, const char *address, int64_t timeout_ns);

/* Read: > 0 bytes read, 0 at end of stream, -1 with errno. Parks only the goroutine. */
ssize_t net_conn_read(net_conn_t *c, void *buf, size_t len);
/* Write: all len bytes (returns len), or -1 with errno, as Go's Write. */
ssize_t net_conn_write(net_conn_t *c, const void *buf, size_t len);
int    net_conn_close(net_conn_t *c);                  /* wakes blocked readers/writers (EBADF) */
int    net_conn_close_write(net_conn_t *c);            /* half-close: the peer reads EOF */
int    net_conn_set_deadline(net_conn_t *c, int64_t deadline);       /* read and write */
int    net_conn_set_read_deadline(net_conn_t *c, int64_t deadline);
int    net_conn_set_write_deadline(net_conn_t *c, int64_t deadline);
size_t net_conn_local_addr(net_conn_t *c, char *buf, size_t len);    /* as net_listener_addr */
size_t net_conn_remote_addr(net_conn_t *c, char *buf, size_t len);
int    net_conn_fd(net_conn_t *c);

/* Any other descriptor the program owns (a pipe, an eventfd, a library's
 * socket): poll_fd_open makes it non-blocking and registers it; the waits
 * park the goroutine until the descriptor is ready (0), the deadline
 * passes (-1, ETIMEDOUT) or poll_fd_close is called (-1, EBADF).
 * poll_fd_close deregisters and wakes waiters; it does not close fd. */
typedef struct poll_fd poll_fd_t;
poll_fd_t *poll_fd_open(int fd);
int        poll_fd_wait_read(poll_fd_t *pd, int64_t deadline);
int        poll_fd_wait_write(poll_fd_t *pd, int64_t deadline);
int        poll_fd_close(poll_fd_t *pd);

/* ------------------------------------------------------------------ */
/* conveniences                                                         */
/* ------------------------------------------------------------------ */

/* Non-blocking forms: a select with one case and a default. */
bool chan_try_send(chan_t *c, const void *elem);      /* false: it would block */
bool chan_try_recv(chan_t *c, void *elem, bool *ok);  /* false: it would block; *ok as chan_recv2 (ok may be NULL) */

/* ================================================================== */
/* Additions beyond the core contract (same naming rule).              */
/* ================================================================== */

/* debug.SetMaxStack: sets the stack size, in bytes, of goroutines created
 * from now on (stacks do not grow in gort; see docs/scheduler.md). Rounded
 * up to the page size; minimum 16 KiB. Returns the previous size. The
 * default is 64 KiB, or GORT_STACK_SIZE from the environment. */
int debug_set_max_stack(int bytes);

/* Like runtime_entersyscall, for a call known to block (a read that will
 * wait, a sleep): the P is handed to another M at once instead of after
 * sysmon's next tick. Pair it with runtime_exitsyscall. */
void runtime_entersyscallblock(void);

/* debug.SetMaxThreads: thread cap (default 10000); returns previous. */
int debug_set_max_threads(int n);

/* time.Timer and time.Ticker: channel-based, as Go. The channel c has
 * element type int64_t (a time_now() value) and capacity 1. */
typedef struct time_timer time_timer_t;
typedef struct time_ticker time_ticker_t;
time_timer_t  *time_new_timer(int64_t ns);                 /* time.NewTimer */
chan_t        *time_timer_c(time_timer_t *t);              /* t.C */
bool           time_timer_stop(time_timer_t *t);           /* t.Stop */
bool           time_timer_reset(time_timer_t *t, int64_t ns); /* t.Reset */
time_timer_t  *time_after_func(int64_t ns, void (*fn)(void *arg), void *arg); /* time.AfterFunc */
time_ticker_t *time_new_ticker(int64_t ns);                /* time.NewTicker; ns <= 0 panics */
chan_t        *time_ticker_c(time_ticker_t *t);            /* t.C */
void           time_ticker_stop(time_ticker_t *t);         /* t.Stop */
void           time_ticker_reset(time_ticker_t *t, int64_t ns); /* t.Reset */

/* runtime.Stack: formats the calling goroutine's traceback (all: every
 * goroutine's) into buf; returns the number of bytes written. */
size_t runtime_stack(char *buf, size_t len, bool all);
/* debug.PrintStack: the calling goroutine's traceback to stderr. */
void   debug_print_stack(void);
/* debug.SetPanicOnFault: while enabled (for the calling goroutine only; a
 * new goroutine starts disabled), a memory fault in its user code at any
 * address panics "runtime error: invalid memory address or nil pointer
 * dereference" instead of being fatal. Returns the previous setting. */
bool   debug_set_panic_on_fault(bool enabled);

/* The lock fast paths inline, as the Go compiler inlines Mutex.Lock and
 * Unlock and RWMutex.RLock and RUnlock: one atomic instruction in the
 * caller, the rest out of line in libgort (the sync__*_slow functions are
 * not API). The functions themselves still exist: (sync_mutex_lock)(m) or
 * &sync_mutex_lock bypass the macros. Mutex state bit 0 = locked. */
void sync__mutex_lock_slow(sync_mutex_t *m);
void sync__mutex_unlock_slow(sync_mutex_t *m, int32_t new_state);
void sync__rwmutex_rlock_slow(sync_rwmutex_t *rw);
void sync__rwmutex_runlock_slow(sync_rwmutex_t *rw, int32_t r);

static inline void sync__mutex_lock_fast(sync_mutex_t *m)
{
    int32_t old = 0;
    if (__builtin_expect(!__atomic_compare_exchange_n(&m->state, &old, 1, 0,
                                                      __ATOMIC_SEQ_CST,
                                                      __ATOMIC_RELAXED), 0))
        sync__mutex_lock_slow(m);
}
static inline void sync__mutex_unlock_fast(sync_mutex_t *m)
{
    int32_t n = __atomic_sub_fetch(&m->state, 1, __ATOMIC_SEQ_CST);
    if (__builtin_expect(n != 0, 0))
        sync__mutex_unlock_slow(m, n);
}
static inline void sync__rwmutex_rlock_fast(sync_rwmutex_t *rw)
{
    if (__builtin_expect(__atomic_add_fetch(&rw->reader_count, 1, __ATOMIC_SEQ_CST) < 0, 0))
        sync__rwmutex_rlock_slow(rw);
}
static inline void sync__rwmutex_runlock_fast(sync_rwmutex_t *rw)
{
    int32_t r = __atomic_sub_fetch(&rw->reader_count, 1, __ATOMIC_SEQ_CST);
    if (__builtin_expect(r < 0, 0))
        sync__rwmutex_runlock_slow(rw, r);
}
#define sync_mutex_lock(m)      sync__mutex_lock_fast(m)
#define sync_mutex_unlock(m)    sync__mutex_unlock_fast(m)
#define sync_rwmutex_rlock(rw)  sync__rwmutex_rlock_fast(rw)
#define sync_rwmutex_runlock(rw) sync__rwmutex_runlock_fast(rw)

/* sync.Once.Do's fast path inline, as the Go compiler inlines it: a call
 * after fn has run costs one load. The function itself still exists:
 * (sync_once_do)(o, fn, arg) or &sync_once_do bypass the macro. */
static inline void sync__once_do_fast(sync_once_t *o, void (*fn)(void *arg), void *arg)
{
    if (__builtin_expect(__atomic_load_n(&o->done, __ATOMIC_ACQUIRE) == 0, 0))
        (sync_once_do)(o, fn, arg);
}
#define sync_once_do(o, fn, arg) sync__once_do_fast((o), (fn), (arg))

/* The goroutine profile as Go's pprof.Lookup("goroutine").WriteTo(w, 1):
 * "goroutine profile: total N", then each distinct stack once, most
 * frequent first, as "COUNT @ PC PC ..." followed by one
 * "#\tPC\tFUNCTION+0xOFF\tFILE:LINE" line per frame. The stack of every
 * goroutine includes the function it was started with. Writes to buf as
 * snprintf does (returns the full length); the _write form writes to fd. */
size_t runtime_goroutine_profile(char *buf, size_t len);
int    runtime_goroutine_profile_write(int fd);

/* sync.RWMutex.TryLock / TryRLock (named like the contract's
 * sync_mutex_trylock): take the lock only if that needs no waiting. */
bool sync_rwmutex_trylock(sync_rwmutex_t *rw);
bool sync_rwmutex_tryrlock(sync_rwmutex_t *rw);

#ifdef __cplusplus
}
#endif

#if defined(__GNUC__)
#pragma GCC visibility pop
#endif

#endif /* GORT_H */
