/*
 * sched/internal.h -- the G/M/P scheduler's structures and internal API.
 *
 * Owns: G (goroutine), M (OS thread), P (processor), run queues, park and
 * ready, stop-the-world, syscalls, sysmon, preemption, timers, schedtrace,
 * deadlock detection, panic/defer/recover, tracebacks and signals. Other
 * subsystems (chan, sync, gc) use the functions below; they never touch
 * run queues directly.
 *
 * May call: runtime/internal.h (locks, notes, throw, jemalloc, env,
 * fastrand), sched__call_entry (a goroutine's outermost frame), sched__signal_init, and the
 * collector's hooks declared at the end of this file. Nothing else.
 *
 * Context rules (as Go's HACKING.md):
 *  - "G" functions run on a user goroutine's stack and may park it.
 *  - "g0" functions run on the M's scheduler stack (inside sched__mcall or
 *    on an M's own thread stack) and must never park.
 *  - A G, M or P descriptor is never freed (reuse lists), so a stale
 *    pointer to one is always safe to read.
 *  - The current M must be re-read (sched__getm) after anything that may
 *    switch: a goroutine may resume on another thread. The current G may be
 *    cached: a goroutine is always the same G.
 */
#ifndef GORT_SCHED_INTERNAL_H
#define GORT_SCHED_INTERNAL_H

#include <pthread.h>
#include <signal.h>

#include "../runtime/internal.h"
#include "../runtime/sanitizer.h"

typedef struct g g_t;
typedef struct m m_t;
typedef struct p p_t;
struct sudog;
struct runtime_frame;
struct runtime_panic;
struct sched_timer;

/* ------------------------------------------------------------------ */
/* tuning constants                                                    */
/* ------------------------------------------------------------------ */

#define SCHED_RUNQ_SIZE        256          /* per-P local run queue */
#define SCHED_UCACHE           128          /* per-P cache of unstarted Gs */
#define SCHED_UNSTARTED_SIZE   48           /* bytes of an unstarted G */
#define SCHED_UCHUNK_BYTES     (1 << 20)    /* unstarted Gs are mapped in chunks of this */
#define SCHED_UCHUNK_HDR       4096         /* chunk header: its free-slot bitmap */
#define SCHED_UCHUNK_TAIL      320          /* room for a whole g_t read at the last slot */
#define SCHED_UCHUNK           ((SCHED_UCHUNK_BYTES - SCHED_UCHUNK_HDR - SCHED_UCHUNK_TAIL) / \
                                SCHED_UNSTARTED_SIZE)
#define SCHED_UCHUNK_MAX       16384        /* chunks of unstarted Gs at most */
#define SCHED_YIELDQ_SIZE      128          /* per-P queue of yielded Gs */
#define SCHED_PREFETCH         16            /* Gs fetched ahead from queues and caches */
#define SCHED_HOOK_STACK       8192         /* stack a direct-switch hook may need */
#define SCHED_GLOBAL_TICK      61           /* schedticks between global checks */
#define SCHED_MAX_THREADS      10000        /* default thread cap */
#define SCHED_PREEMPT_NS       (10 * 1000 * 1000)  /* forcePreemptNS */
#define SCHED_SYSMON_MIN_US    20
#define SCHED_SYSMON_MAX_US    10000
#define SCHED_FORCEGC_NS       (120LL * 1000 * 1000 * 1000)  /* 2 minutes */

/* ------------------------------------------------------------------ */
/* G                                                                   */
/* ------------------------------------------------------------------ */

enum {
    G_IDLE = 0,     /* just allocated, not yet initialised */
    G_RUNNABLE,     /* on a run queue */
    G_RUNNING,      /* owns an M and a P */
    G_SYSCALL,      /* between entersyscall and exitsyscall; owns an M */
    G_WAITING,      /* parked; waitreason says why */
    G_DEAD = 6,     /* exited, on a free list (Go's number) */
};

/* The layout of the first field is known to arch/amd64.S: sp at offset 0.
 * The first SCHED_UNSTARTED_SIZE bytes hold everything a G that has not
 * started needs, and an unstarted G (sched/galloc.c) is only that much
 * memory: code that may meet one (run queues, schedule, G walkers) reads
 * nothing past gopc before it has checked `unstarted`. */
struct g {
    uintptr_t sp;                  /* saved stack pointer while switched out */
    _Atomic uint32_t status;
    bool system;                   /* runtime goroutine: not counted, not in checkdead */
    bool unstarted;                /* stackless: bound to a stack when first run */
    int64_t goid;
    void (*fn)(void *);            /* entry */
    void *arg;
    uintptr_t gopc;                /* PC of the go() caller (traceback) */
    /* ---- end of an unstarted G ---- */
    m_t *lockedm;                  /* LockOSThread */
    g_t *schedlink;                /* run queue / free list link */

    uintptr_t stack_lo, stack_hi;  /* usable stack [lo, hi) */
    uintptr_t stack_base;          /* mapping base of the stack (guard below lo) */
    size_t stacksize;              /* requested size: reuse only for the same size */
    uint64_t *canary;              /* overflow canary of an unguarded stack, or NULL */
    m_t *m;                        /* M running this G, or NULL */
    g_t *gfreebatch;               /* global free list: next batch */
    int32_t gfreebatchn;           /* Gs in the batch this G heads */
    const char *waitreason;        /* Go's wait-reason string while parked */
    int64_t waitsince;             /* nanotime when it parked */
    _Atomic bool preempt;          /* cooperative preemption request */
    int64_t syscallwhen;

    /* channels and semaphores */
    struct sudog *waiting;         /* sudogs this G waits on (select) */
    void *param;                   /* wake-up parameter */
    _Atomic uint32_t selectdone;

    /* panic/defer (sched/panic.c) */
    struct runtime_frame *frame;   /* innermost go_call frame */
    struct runtime_panic *panic;   /* innermost active panic */
    bool goexiting;
    bool paniconfault;             /* debug_set_panic_on_fault */
    bool stackshrunk;              /* pages below sp returned since it parked */

    /* timers (sched/timer.c): time_sleep's timer, allocated on first use */
    struct sched_timer *sleeptimer;

    /* GC (gc/) */
    _Atomic uint32_t gcscan;       /* 2c: cycle c scanned the stack; 2c-1: scanning */
    uintptr_t gcscansp;            /* where that scan began (checkmark) */

    /* registers saved at entersyscall, for conservative scanning */
    uintptr_t syscallregs[8];
    uintptr_t syscallsp;
#if GORT_FIBERS
    union {                        /* one sanitizer per build */
        void *asan_fake;           /* ASan's fake stack while switched out */
        uint32_t tsan_restarts;    /* TSan: goroutines restarted on it (fiber.c) */
    };
    void *tsan_fiber;              /* TSan's context of this goroutine */
#endif
};

/* ------------------------------------------------------------------ */
/* M                                                                   */
/* ------------------------------------------------------------------ */

struct m {
    int32_t locks;                 /* runtime locks held (> 0: no preemption);
                                    * first: the ground floor's view of an M
                                    * (runtime__mlocks_add) */
    g_t *g0;                       /* scheduler "goroutine" of this M */
    uintptr_t g0sp;                /* top of the g0 stack mcall switches to */
    g_t *curg;                     /* running user G, or NULL on g0 */
    p_t *p;                        /* attached P, or NULL */
    p_t *nextp;                    /* P handed over at wake-up */
    p_t *oldp;                     /* P held before a syscall */
    int64_t id;
    bool spinning;                 /* looking for work */
    bool blocked;                  /* asleep on its park note */
    bool dying;
    _Atomic bool signalpending;    /* preemption signal sent, not handled */
    g_t *lockedg;                  /* LockOSThread */
    uint32_t lockedext;            /* LockOSThread nesting depth */
    runtime_note_t park;           /* sleeps here when idle */
    m_t *schedlink;                /* idle M list */
    m_t *alllink;                  /* all Ms */
    pthread_t thread;
    int tid;
    sigset_t sigmask;              /* signal mask the thread starts with */
    void (*mstartfn)(void);
    /* unlockf handed from park to g0 */
    bool (*waitunlockf)(g_t *, void *);
    void *waitlock;
    const char *waitreason;
#if GORT_FIBERS
    /* the sanitizers' view of the switches (sched/fiber.c) */
    uintptr_t g0lo, g0hi;          /* the thread's own stack, where g0 runs */
    void *g0_asan_fake;
    void *g0_tsan_fiber;
    void *thread_tsan_fiber;       /* the thread's own, never destroyed */
    uint32_t g0_tsan_entries;      /* mcalls since boot (fiber.c) */
    bool fiber_pending;            /* a switch begun, not yet finished */
    void (*fiber_fn)(g_t *);       /* what mcall or gswitch is to call */
#endif
};

/* ------------------------------------------------------------------ */
/* P                                                                   */
/* ------------------------------------------------------------------ */

enum {
    P_IDLE = 0,
    P_RUNNING,
    P_SYSCALL,
    P_GCSTOP,
    P_DEAD,
    P_HANDED,   /* given to an M (m) that has not woken yet; a stop takes it back */
};

struct p {
    int32_t id;
    _Atomic uint32_t status;
    p_t *link;                     /* idle P list */
    uint32_t schedtick;            /* incremented on every schedule */
    bool fairyield;                /* next fairness turn: yield queue first */
    /* sysmon: the current time slice ran past SCHED_PREEMPT_NS. A G
     * readied into runnext by the running G inherits its slice, so a pair
     * handing off to each other would keep the P for good: until the next
     * slice starts, such a G goes to the yield queue instead, as if it had
     * been preempted (see sched__ready). */
    _Atomic bool sliceover;
    _Atomic uint32_t syscalltick;  /* incremented on every syscall */
    int64_t schedwhen;             /* sysmon: when schedtick last changed */
    uint32_t sysmontick_sched;
    uint32_t sysmontick_syscall;
    int64_t syscallwhen;
    int64_t gcmarkns;              /* gc/worker.c: marking time this cycle */
    uint32_t gcmarkcycle;          /* the cycle gcmarkns counts */
    m_t *m;                        /* its M (NULL if idle; P_HANDED: the M woken for it) */

    /* local run queue: lock-free single producer, multi-consumer. The
     * words thieves poll get cache lines of their own, away from what the
     * owner writes on every schedule or spawn. */
    _Atomic uint32_t runqhead __attribute__((aligned(64)));
    _Atomic uint32_t runqtail;
    g_t *runq[SCHED_RUNQ_SIZE];
    _Atomic(g_t *) runnext __attribute__((aligned(64)));
    _Atomic uint32_t runnextgen;   /* bumped by every runnext put (owner) */

    /* Gs that yielded (Gosched, preemption) on this P: its lock-free share
     * of the global queue, same protocol as runq (see sched/runq.c). */
    _Atomic uint32_t yieldhead __attribute__((aligned(64)));
    _Atomic uint32_t yieldtail;
    g_t *yieldq[SCHED_YIELDQ_SIZE];

    int64_t goidcache __attribute__((aligned(64)));  /* goroutine ids reserved */
    int64_t goidcacheend;
    int64_t ngoroutines;           /* user Gs born minus dead on this P */

    /* free Gs of this P (sched/galloc.c) */
    g_t *gfree;                    /* stack Gs, hottest first */
    int32_t gfreecnt;
    int32_t nucache;
    g_t *ucache[SCHED_UCACHE];     /* unstarted Gs */

    /* timers (sched/timer.c) */
    runtime_lock_t timerslock;
    struct sched_timer **timers;   /* 4-ary min-heap by when */
    int32_t ntimers, timerscap;
    _Atomic int64_t timer0when;    /* when of timers[0], 0 if none */

    /* GC (gc/) */
    void *mcache;
    void *gcwb;                    /* the barrier's buffer of pointers to shade */
};

/* ------------------------------------------------------------------ */
/* global scheduler state (sched/proc.c)                               */
/* ------------------------------------------------------------------ */

typedef struct {
    runtime_lock_t lock;
    m_t *midle;                    /* idle Ms */
    int32_t nmidle;
    int32_t nmidlelocked;
    int64_t mnext;                 /* number of Ms created; next id */
    int32_t maxmcount;
    int32_t nmsys;                 /* system Ms (sysmon) */

    p_t *pidle;
    _Atomic int32_t npidle;
    _Atomic int32_t nmspinning;

    /* global run queue: a ring of G pointers (moving Gs touches no G), on a
     * line of its own so that a thief's look at an empty one reads a line
     * nobody writes (not the lock's or the spinning count's) */
    _Alignas(64) g_t **runq;
    uint32_t runqfirst, runqcap;
    int32_t runqsize;

    _Alignas(64) runtime_lock_t gflock;   /* global free Gs */
    g_t *gfree;
    int32_t ngfree;

    _Atomic uint32_t gcwaiting;    /* stop-the-world pending */
    int32_t stopwait;
    runtime_note_t stopnote;
    _Atomic uint32_t sysmonwait;   /* always 0: sysmon never sleeps unbounded (schedtrace field) */
    runtime_note_t sysmonnote;
    int32_t ntimersleep;           /* Ms asleep until the next timer (0 or 1) */
    int32_t npollsleep;            /* Ms blocked in epoll_wait (0 or 1) */

    _Atomic bool exiting;          /* main returned */
    _Atomic int32_t nforeign;      /* foreign threads that used the API */
} sched_t;

GORT_HIDDEN extern sched_t sched__sched;
GORT_HIDDEN extern _Atomic bool gc__workers_on;   /* gc/worker.c: a mark wants its workers */
GORT_HIDDEN extern p_t **sched__allp;   /* [gomaxprocs] */
GORT_HIDDEN extern _Atomic int32_t sched__gomaxprocs;
GORT_HIDDEN extern _Atomic(m_t *) sched__allm;
GORT_HIDDEN extern m_t sched__m0;
GORT_HIDDEN extern _Atomic bool sched__started;  /* runtime_main running */

/* all Gs ever created (never freed); guarded by sched__allglock */
GORT_HIDDEN extern runtime_lock_t sched__allglock;
GORT_HIDDEN extern g_t **sched__allgs;
GORT_HIDDEN extern _Atomic size_t sched__allglen;

/* ------------------------------------------------------------------ */
/* current M and G                                                     */
/* ------------------------------------------------------------------ */

_Static_assert(offsetof(m_t, locks) == 0, "runtime__mlocks_add needs m->locks first");

/* Fetches the line at a for writing (PREFETCHW, a no-op on a CPU without
 * it): a G last written by another core then arrives owned, and the
 * stores into it wait for no second transfer after the loads. gcc's
 * write-intent __builtin_prefetch is a read prefetch on baseline x86-64. */
static inline void sched__prefetchw(const void *a)
{
    __asm__ volatile("prefetchw %0" : : "m"(*(const char *)a));
}

/* The current M (runtime__tls_m), read in a way the compiler cannot cache
 * across calls: a goroutine may resume on another thread after any. */
static inline m_t *sched__getm(void)
{
    m_t *m;
    __asm__ volatile("movq runtime__tls_m@gottpoff(%%rip), %0\n\t"
                     "movq %%fs:(%0), %0"
                     : "=r"(m));
    return m;
}

/* The current user G, or NULL on g0 / a foreign thread. */
static inline g_t *sched__getg(void)
{
    m_t *m = sched__getm();
    return m ? m->curg : NULL;
}

/* ------------------------------------------------------------------ */
/* context switch (runtime/arch/amd64.S)                               */
/* ------------------------------------------------------------------ */

/* In a sanitizer build the four switches below are inline wrappers
 * (sched/fiber.h) that announce the switch and call the assembly's
 * *_raw versions. */
#if GORT_FIBERS
#include "fiber.h"
#else
/* Saves the callee-saved state of the calling G into g->sp, switches to
 * stack g0sp and calls fn(g) there. fn must not return. From G to g0. */
GORT_HIDDEN void sched__mcall(g_t *g, uintptr_t g0sp, void (*fn)(g_t *));
/* Resumes a context saved by sched__mcall (or a fresh G). Never returns. */
GORT_HIDDEN _Noreturn void sched__gogo(uintptr_t sp);
/* Saves the calling G's context into from->sp, calls hook(from) on the
 * stack of the context saved at to_sp, then resumes that context. From G
 * to G; see sched/park.c for when it may be used. */
GORT_HIDDEN void sched__gswitch(g_t *from, uintptr_t to_sp, void (*hook)(g_t *));
/* Restarts the calling G on its own stack at sched__gostart, with the
 * stack pointer sp (a first context's sp + 64) and default MXCSR/x87. */
GORT_HIDDEN _Noreturn void sched__grestart(uintptr_t sp);
/* The sanitizers' hooks of sched/fiber.h: nothing to tell. */
static inline void sched__fiber_init_m(m_t *m) { (void)m; }
static inline void sched__fiber_start(void) {}
static inline void sched__fiber_dead(g_t *gp) { (void)gp; }
#endif
/* Entry trampoline of a fresh G: calls sched__goentry. */
GORT_HIDDEN void sched__gostart(void);
/* Async preemption trampoline (see sched/preempt.c). */
GORT_HIDDEN void sched__asyncpreempt(void);
GORT_HIDDEN extern uint32_t sched__xsave_size;

/* ------------------------------------------------------------------ */
/* park / ready (sched/park.c): the one way to block a goroutine       */
/* ------------------------------------------------------------------ */

/* G. Parks the current goroutine with Go's wait reason. After the G is
 * switched out, unlockf(g, arg) runs on g0; if it returns false the G is
 * made runnable again at once. unlockf may be NULL. */
GORT_HIDDEN void sched__park(bool (*unlockf)(g_t *, void *), void *arg,
                             const char *reason);
/* unlockf for a runtime lock (arg is the runtime_lock_t *). */
GORT_HIDDEN bool sched__parkunlock_f(g_t *gp, void *lock);
/* G. Parks and releases runtime lock l once switched out. */
GORT_HIDDEN void sched__parkunlock(runtime_lock_t *l, const char *reason);
/* Any context. Makes a parked G runnable; with next, it goes to the
 * current P's runnext slot (it runs next, inheriting the time slice). */
GORT_HIDDEN void sched__ready(g_t *gp, bool next);
/* Whether the M may go from one G to the next without schedule(): no
 * stop-the-world pending, no timers on this P, no locked thread, the
 * program not ending (see "direct switches" in sched/park.c). */
static inline bool sched__direct_ok(m_t *m, p_t *p)
{
    return m->lockedg == NULL &&
           !atomic_load_explicit(&sched__sched.gcwaiting, memory_order_relaxed) &&
           !atomic_load_explicit(&sched__sched.exiting, memory_order_relaxed) &&
           !atomic_load_explicit(&gc__workers_on, memory_order_relaxed) &&
           atomic_load_explicit(&p->timer0when, memory_order_relaxed) == 0;
}
/* Whether gp's stack has room below its saved context for a hook. */
static inline bool sched__hook_room(g_t *gp)
{
    return gp->sp - gp->stack_lo >= SCHED_HOOK_STACK;
}
/* Whether sysmon found p's current time slice expired. */
static inline bool sched__slice_over(p_t *p)
{
    return atomic_load_explicit(&p->sliceover, memory_order_relaxed);
}
/* A new time slice starts on p (a G that does not inherit one runs). */
static inline void sched__newslice(p_t *p)
{
    p->schedtick++;
    if (unlikely(atomic_load_explicit(&p->sliceover, memory_order_relaxed)))
        atomic_store_explicit(&p->sliceover, false, memory_order_relaxed);
}
/* Makes next (a started G) the M's running G, inheriting the slice. */
GORT_HIDDEN void sched__switch_to(m_t *m, g_t *next);
/* G. Yields: the G goes to the global queue (as Gosched). */
GORT_HIDDEN void sched__gosched(void);
/* G. Yields to the local queue's tail rather than the global queue (Go's
 * goyield: the starvation-mode mutex hand-off). */
GORT_HIDDEN void sched__goyield(void);
/* G. Cooperative preemption point: yields if preemption was requested. */
static inline void sched__checkpreempt(void)
{
    g_t *g = sched__getg();
    if (g && unlikely(atomic_load_explicit(&g->preempt, memory_order_relaxed)))
        sched__gosched();
}
/* G. Once main has returned, no goroutine runs again: a G coming back
 * from a system call stops here (its M parks, or M0 returns). */
GORT_HIDDEN void sched__leave_if_exiting(void);
/* Queues a new G running fn(arg) (runnext of this P, or the global
 * queue off a P); pc is where go() was called. */
GORT_HIDDEN void sched__newproc(void (*fn)(void *), void *arg, bool system, uintptr_t pc);
/* Counts a user goroutine born (+1) or dead (-1), per P when there is one. */
GORT_HIDDEN void sched__gcount_add(p_t *p, int d);
/* g0. The M found work: stops spinning, waking another if it was the last. */
GORT_HIDDEN void sched__resetspinning(m_t *m);
/* g0. Leaves for good if the program is ending; gives up the P and
 * returns true if the world is stopping. */
GORT_HIDDEN bool sched__stopping(m_t *m);
/* g0, no P: sleeps until the earliest timer (next) as the one timer
 * sleeper, or parks idle; returns holding a P. */
GORT_HIDDEN void sched__sleep_for_timers(m_t *m, int64_t next);
/* Runs a new goroutine's entry function as its outermost frame (panic.c). */
GORT_HIDDEN void sched__call_entry(void (*fn)(void *), void *arg);
/* The tracebacks a fatal report owes the user (GOTRACEBACK): the
 * reporting goroutine, and every other one if all. The ground floor's
 * runtime__fatal_end calls it (sched/traceback.c). */
GORT_HIDDEN void sched__crash_tracebacks(bool all);
/* Installs the SIGSEGV/SIGBUS/SIGFPE/SIGQUIT handlers (sched/signal.c).
 * Boot calls it once, after the first M has its sigaltstack. */
GORT_HIDDEN void sched__signal_init(void);
/* G. Ends the calling goroutine (after its defers ran). */
GORT_HIDDEN _Noreturn void sched__goexit1(void);
/* Called by the G entry trampoline; never returns. */
GORT_HIDDEN _Noreturn void sched__goentry(void);
/* G or foreign thread. Throws a clear misuse message if the caller is not
 * a goroutine (it would have nothing to park). */
GORT_HIDDEN g_t *sched__needg(const char *what);

/* ------------------------------------------------------------------ */
/* run queues (sched/runq.c)                                           */
/* ------------------------------------------------------------------ */

GORT_HIDDEN void sched__runqput(p_t *p, g_t *gp, bool next);
GORT_HIDDEN g_t *sched__runqget(p_t *p, bool *inherit);
/* No G in p's runnext, local queue or yield queue. */
GORT_HIDDEN bool sched__runqempty(p_t *p);
/* Owner only: queues a yielded G (a full yield queue spills its older
 * half to the global queue). */
GORT_HIDDEN void sched__yieldput(p_t *p, g_t *gp);
/* Owner only: the oldest yielded G, or NULL. */
GORT_HIDDEN g_t *sched__yieldget(p_t *p);
/* True while p is the only P: nobody else can touch its queues, so the
 * owner may use plain loads and stores (GOMAXPROCS changes only with the
 * world stopped). */
static inline bool sched__single_p(void)
{
    return atomic_load_explicit(&sched__gomaxprocs, memory_order_relaxed) == 1;
}
GORT_HIDDEN uint32_t sched__runqsteal(p_t *p, p_t *victim, bool stealnext, g_t **out);
/* sched.lock held. */
GORT_HIDDEN void sched__globrunqput(g_t *gp);
GORT_HIDDEN void sched__globrunqputbatch(g_t **batch, int32_t n);
/* Without a P: queue gp globally and start an M for it. No lock held. */
GORT_HIDDEN void sched__globrunqput_wake(g_t *gp);
GORT_HIDDEN g_t *sched__globrunqget(p_t *p, int32_t max);

/* ------------------------------------------------------------------ */
/* Ms and Ps (sched/m.c), schedule (schedule.c), boot and exit (boot.c) */
/* ------------------------------------------------------------------ */

GORT_HIDDEN void sched__wakep(void);
GORT_HIDDEN void sched__startm(p_t *p, bool spinning);
GORT_HIDDEN void sched__handoffp(p_t *p);
GORT_HIDDEN void sched__stopm(void);
GORT_HIDDEN p_t *sched__pidleget(void);       /* sched.lock held */
GORT_HIDDEN void sched__pidleput(p_t *p);     /* sched.lock held */
GORT_HIDDEN void sched__acquirep(p_t *p);
GORT_HIDDEN p_t *sched__releasep(void);
GORT_HIDDEN _Noreturn void sched__schedule(void);   /* g0 */
GORT_HIDDEN _Noreturn void sched__execute(g_t *gp, bool inherit);  /* g0 */
/* nanotime as of sysmon's last tick (<= 10 ms old): for wait times. */
GORT_HIDDEN extern _Atomic int64_t sched__coarsenow;
GORT_HIDDEN void sched__checkdead(void);      /* sched.lock held */
/* g0: hands our P to gp's locked M and parks until given a P again. */
GORT_HIDDEN void sched__startlockedm(g_t *gp);
/* Parks this M for good: the program is ending (M0 returns from
 * runtime_main instead). */
GORT_HIDDEN _Noreturn void sched__mexit_forever(void);
/* g0: this M is locked to a G that cannot run now; sleep until it can. */
GORT_HIDDEN _Noreturn void sched__stoplockedm(void);
GORT_HIDDEN void sched__newm_sysmon(void (*fn)(void));
/* A timer due at when was added: wake the M sleeping for timers if it
 * would sleep past it. */
GORT_HIDDEN void sched__timer_wake(int64_t when);
GORT_HIDDEN void sched__asyncpreempt2(void);

/* Asks every running G to stop at its next safe point. */
GORT_HIDDEN void sched__preemptall(void);
/* Creates/destroys Ps to match nprocs; returns the Ps with local work.
 * World stopped (or boot), sched.lock held. */
GORT_HIDDEN p_t *sched__procresize(int32_t nprocs);
/* Pushes a chain of n dead Gs on the global free list as one batch. */
GORT_HIDDEN void sched__gfree_pushbatch(g_t *head, int32_t n);
/* User goroutines counted off any P (foreign threads, dead Ps). */
GORT_HIDDEN extern _Atomic int32_t sched__ngoroutines;

/* Stop the world: every P stopped (no user G runs except the caller's).
 * G context. Returns with the caller holding its P. */
GORT_HIDDEN void sched__stop_the_world(const char *reason);
GORT_HIDDEN void sched__start_the_world(void);
/* p stopped for the pending stop (sched.lock held); the last wakes the stopper. */
GORT_HIDDEN void sched__stopwait_done(p_t *p);
/* Calls fn(g, arg) for every G ever created (dead ones included; check
 * status). Takes sched__allglock. */
GORT_HIDDEN void sched__for_each_g(void (*fn)(g_t *, void *), void *arg);

/* ------------------------------------------------------------------ */
/* G descriptors (sched/galloc.c)                                      */
/* ------------------------------------------------------------------ */

/* A runnable, unstarted G for fn(arg) (p: the current M's P, or NULL);
 * not queued, not counted. */
GORT_HIDDEN g_t *sched__newg(p_t *p, void (*fn)(void *), void *arg,
                             bool system, uintptr_t pc);
/* g0, holding p. Moves unstarted ug onto a stack G (p's hottest free one)
 * and returns that G, runnable; ug goes back to the pool. */
GORT_HIDDEN g_t *sched__gstart(p_t *p, g_t *ug);
/* G, holding p. The calling goroutine g has ended; the unstarted ug's
 * goroutine takes over g's descriptor and stack (g stays running and
 * becomes it). Not for runtime goroutines (their stack is scrubbed).
 * Returns the sp to hand sched__grestart. */
GORT_HIDDEN uintptr_t sched__greuse(p_t *p, g_t *g, g_t *ug);
/* g0, holding p. Puts a dead stack G on p's free list. */
GORT_HIDDEN void sched__gfput(p_t *p, g_t *gp);
/* Calls fn for every queued unstarted G (status G_RUNNABLE), without
 * locks. sched__for_each_g calls it too. */
GORT_HIDDEN void sched__for_each_unstarted(void (*fn)(g_t *, void *), void *arg);
/* The chunks unstarted Gs live in (for debuggers; see galloc.c). */
GORT_HIDDEN extern void *sched__uchunks[SCHED_UCHUNK_MAX];
GORT_HIDDEN extern _Atomic size_t sched__nuchunks;
/* Moves p's cached unstarted Gs to the pool (P dying). */
GORT_HIDDEN void sched__ucache_flush(p_t *p);

/* Starts a system goroutine (not counted by NumGoroutine, not in
 * deadlock detection). */
GORT_HIDDEN void sched__go_system(void (*fn)(void *), void *arg);

/* ------------------------------------------------------------------ */
/* stacks (sched/stack.c)                                              */
/* ------------------------------------------------------------------ */

/* Allocates a G together with its stack: the descriptor lives at the top
 * of the stack mapping, so a parked goroutine costs one touched page. */
GORT_HIDDEN g_t *sched__stackalloc_g(size_t stack_size);
/* The word at the very top of gp's slot: the canary of the slot above
 * (or an unused word, set the same). Computed from gp's address alone:
 * the descriptor itself may be what an overflow from above trashed. */
static inline uint64_t *sched__canary_above(g_t *gp)
{
    uintptr_t top = ((uintptr_t)gp + sizeof(g_t) + 64 + 4095) & ~(uintptr_t)4095;
    return (uint64_t *)(top - sizeof(uint64_t));
}
/* Returns the pages of parked gp's stack below sp (and a page of slack)
 * to the kernel; they read back as zero. The collector, once per park. */
GORT_HIDDEN void sched__stack_release_below(g_t *gp, uintptr_t sp);
/* Throws "stack overflow" if the goroutine above gp overran into it: gp's
 * saved context can no longer be trusted. Checked before resuming gp. */
GORT_HIDDEN void sched__stackcheck_above(g_t *gp);
/* Checks the canary at the stack's low end; throws on overflow. */
GORT_HIDDEN void sched__stackcheck(g_t *gp);
GORT_HIDDEN extern size_t sched__stack_size;       /* for new goroutines */
GORT_HIDDEN extern _Atomic uint64_t sched__stack_inuse;   /* address space */
GORT_HIDDEN extern _Atomic uint64_t sched__stack_guards;  /* stacks made with a guard page */
/* Whether stacks get their guard pages from MADV_GUARD_INSTALL (every
 * stack guarded) rather than mprotect (a budget of them). */
GORT_HIDDEN bool sched__stack_guard_installs(void);
/* Resident bytes of all goroutine stacks (mincore). */
GORT_HIDDEN uint64_t sched__stack_resident(void);
/* If addr lies in a guard page or below a G's stack, returns that G. */
GORT_HIDDEN g_t *sched__stack_guard_owner(uintptr_t addr);

/* ------------------------------------------------------------------ */
/* syscalls, sysmon, preemption                                        */
/* ------------------------------------------------------------------ */

GORT_HIDDEN void sched__sysmon_start(void);
GORT_HIDDEN void sched__preemptone(p_t *p);
/* sysmon: gp ran ran_ns on one slice; reported once if it cannot be
 * preempted (asynchronous preemption off). */
GORT_HIDDEN void sched__report_unpreemptible(g_t *gp, int64_t ran_ns);
GORT_HIDDEN void sched__preempt_init(void);   /* signal handler, text ranges */
GORT_HIDDEN void sched__signal_init_m(m_t *m);  /* sigaltstack for this M */
GORT_HIDDEN bool sched__pc_is_user(uintptr_t pc);
GORT_HIDDEN void sched__schedtrace(bool detailed);

#include "timer.h"
#include "netpoll.h"

/* ------------------------------------------------------------------ */
/* hooks into other subsystems, called by the scheduler                */
/* ------------------------------------------------------------------ */

GORT_HIDDEN void gc__init(void);              /* boot, before main G */
GORT_HIDDEN void gc__p_init(p_t *p);          /* P created (world stopped or boot) */
GORT_HIDDEN void gc__p_destroy(p_t *p);       /* P removed by procresize */
GORT_HIDDEN void gc__sysmon(int64_t now);     /* sysmon tick: forced GC */
GORT_HIDDEN bool gc__idle_mark(void);         /* idle P, g0: marks a budget; false if none */
GORT_HIDDEN bool gc__mark_worker(p_t *p);     /* schedule(), g0: marks p's CPU share; false if not due */
/* While a cycle scans stacks (gc/stackscan.c), a G about to run has its
 * stack scanned first, unless this cycle already did: no G runs with an
 * unscanned stack, so the scanner never meets a running one. */
GORT_HIDDEN extern _Atomic bool gc__stackscan_on;
GORT_HIDDEN void gc__stackscan_before_run(g_t *gp);   /* gp switched out */
GORT_HIDDEN void gc__stackscan_self(void);            /* leaving a syscall */
/* The barrier's shade, for the runtime's own stores of GC pointers into G
 * descriptors and timer heaps while a mark runs (gc__wb_enabled). */
GORT_HIDDEN void gc__shade(const void *p);

/* Scans gp's stack before it runs if a cycle is scanning stacks. */
static inline void sched__gcscan_check(g_t *gp)
{
    if (unlikely(atomic_load_explicit(&gc__stackscan_on, memory_order_relaxed)))
        gc__stackscan_before_run(gp);
}

#endif /* GORT_SCHED_INTERNAL_H */
