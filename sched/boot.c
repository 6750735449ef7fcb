/*
 * sched/boot.c -- runtime_main: boot (M0, the Ps, the collector, signals,
 * sysmon, the soft descriptor limit raised to the hard one), the main
 * goroutine, and the end of the program when it
 * returns: every other goroutine stops at its next safe point, every M
 * parks for good, and M0 returns from runtime_main with main's value.
 *
 * Context: runtime_main on the program's main thread; the *_m functions
 * on g0.
 */
#include <stdio.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "internal.h"

#define MAIN_EXIT_WAIT_MS 1000  /* how long M0 may take to return */

static g_t m0exit;              /* runtime_main's context, saved by mcall */
static _Atomic bool m0returned;
static int mainret;

/* Leaves this M parked for good: the program is ending. M0 returns from
 * runtime_main instead. If M0 cannot come back (blocked in a system call),
 * the process exits with main's value after a grace period, as Go's exit
 * would not wait for it at all. */
_Noreturn void sched__mexit_forever(void)
{
    m_t *m = sched__getm();
    if (m == &sched__m0)
        sched__gogo(m0exit.sp);
    m->dying = true;
    if (m->curg == NULL && m->p && atomic_load(&sched__sched.exiting)) {
        for (int i = 0; i < MAIN_EXIT_WAIT_MS && !atomic_load(&m0returned); i++)
            usleep(1000);
        if (!atomic_load(&m0returned)) {
            fflush(NULL);
            _exit(mainret);
        }
    }
    for (;;)
        pause();
}


/* ------------------------------------------------------------------ */
/* boot                                                                */
/* ------------------------------------------------------------------ */

typedef struct {
    int (*fn)(int, char **);
    int argc;
    char **argv;
    int ret;
} mainarg_t;

/* g0 of whichever M ran main's last step: end the program. */
static _Noreturn void mainexit_m(g_t *gp)
{
    m_t *m = sched__getm();
    m->curg = NULL;
    atomic_store(&gp->status, G_DEAD);
    sched__gcount_add(m->p, -1);
    /* Every other goroutine stops at its next safe point. */
    sched__preemptall();
    /* Wake M0 wherever it sleeps so it can return from runtime_main. */
    if (m != &sched__m0) {
        runtime__lock(&sched__sched.lock);
        for (m_t **pm = &sched__sched.midle; *pm; pm = &(*pm)->schedlink) {
            if (*pm == &sched__m0) {
                *pm = sched__m0.schedlink;
                sched__sched.nmidle--;
                runtime__notewakeup(&sched__m0.park);
                break;
            }
        }
        runtime__unlock(&sched__sched.lock);
        sched__timer_wake(1);
    }
    sched__mexit_forever();
}

/* g0: a goroutine came back from a system call after main returned. */
static _Noreturn void exiting_m(g_t *gp)
{
    sched__getm()->curg = NULL;
    gp->m = NULL;
    sched__mexit_forever();
}

void sched__leave_if_exiting(void)
{
    if (likely(!atomic_load_explicit(&sched__sched.exiting, memory_order_relaxed)))
        return;
    g_t *g = sched__getg();
    if (g)
        sched__mcall(g, sched__getm()->g0sp, exiting_m);
}

/* Calls main_fn, keeping its value. */
static void run_main_fn(void *arg)
{
    mainarg_t *ma = arg;
    ma->ret = ma->fn(ma->argc, ma->argv);
}

/* The main goroutine's body: main_fn runs in a go_call frame of its own,
 * so that its deferred calls run (and may recover) when it returns, as a
 * Go main's do; then the program ends. */
static void main_entry(void *arg)
{
    mainarg_t *ma = arg;
    go_call(run_main_fn, ma);
    mainret = ma->ret;
    atomic_store(&sched__sched.exiting, true);
    g_t *g = sched__getg();
    m_t *m = sched__getm();
    sched__mcall(g, m->g0sp, mainexit_m);
}

/* g0 of M0: queue main and schedule. */
static _Noreturn void m0start_m(g_t *unused)
{
    (void)unused;
    sched__schedule();
}

/* Raises the soft limit on open descriptors to the hard limit, as Go
 * 1.19 does: a server's connections are descriptors. */
static void raise_nofile(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        (void)setrlimit(RLIMIT_NOFILE, &rl);
    }
}

int runtime_main(int (*main_fn)(int argc, char **argv), int argc, char **argv)
{
    static _Atomic int once;
    if (atomic_fetch_add(&once, 1) != 0)
        runtime__misuse("runtime_main called more than once");
    if (main_fn == NULL)
        runtime__misuse("runtime_main called with a NULL main function");
    runtime__fatal_set_tracebacks(sched__crash_tracebacks);
    runtime__parse_env();
    raise_nofile();
    sched__stack_size = runtime__debug.stack_size;
    sched__sched.maxmcount = SCHED_MAX_THREADS;

    m_t *m0 = &sched__m0;
    m0->g0 = runtime__malloc(sizeof(g_t));
    m0->g0->system = true;
    m0->id = sched__sched.mnext++;
    m0->tid = (int)syscall(SYS_gettid);
    m0->thread = pthread_self();
    atomic_store(&sched__allm, m0);
    runtime__tls_m = m0;
    sched__fiber_init_m(m0);
    sched__signal_init_m(m0);

    int32_t procs = runtime_num_cpu();
    if (runtime__debug.gomaxprocs_env > 0)
        procs = runtime__debug.gomaxprocs_env;
    runtime__lock(&sched__sched.lock);
    p_t *runnable = sched__procresize(procs);
    runtime__unlock(&sched__sched.lock);
    runtime__assert(runnable == NULL);

    atomic_store(&sched__coarsenow, runtime__nanotime());
    gc__init();
    sched__preempt_init();
    sched__signal_init();
    atomic_store(&sched__started, true);

    mainarg_t ma = {main_fn, argc, argv, 0};
    sched__newproc(main_entry, &ma, false, (uintptr_t)__builtin_return_address(0));
    sched__sysmon_start();

    /* Run the scheduler on this thread's stack, below this frame; when
     * main returns, sched__mexit_forever brings M0 back here through the
     * context saved in m0exit. */
    m0->g0sp = ((uintptr_t)__builtin_frame_address(0) - 8192) & ~(uintptr_t)15;
    sched__mcall(&m0exit, m0->g0sp, m0start_m);
    atomic_store(&m0returned, true);
    fflush(NULL);
    return ma.ret;
}
