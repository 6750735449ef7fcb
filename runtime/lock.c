/*
 * runtime/lock.c -- runtime mutexes and notes on Linux futexes.
 *
 * A runtime lock blocks the OS thread, never the goroutine: it guards short
 * critical sections inside the runtime (run queues, channels, timers).
 * States of runtime_lock_t.key: 0 unlocked, 1 locked, 2 locked with
 * possible sleepers. A note's key: 0 clear, 1 woken (sticky until cleared).
 *
 * Context: any (G, g0, threads without an M). Never parks a G.
 */
#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

__thread void *runtime__tls_m __attribute__((tls_model("initial-exec")));

#define LOCK_SPIN_ACTIVE   4     /* rounds of pause-spinning before yielding */
#define LOCK_SPIN_PAUSES   30
#define LOCK_SPIN_PASSIVE  1     /* sched_yield rounds before sleeping */

/* Sleeps on addr while *addr == val, at most ns (ns < 0: forever). */
static void futexsleep(_Atomic uint32_t *addr, uint32_t val, int64_t ns)
{
    struct timespec ts, *tsp = NULL;
    if (ns >= 0) {
        ts.tv_sec = ns / 1000000000;
        ts.tv_nsec = ns % 1000000000;
        tsp = &ts;
    }
    syscall(SYS_futex, addr, FUTEX_WAIT_PRIVATE, val, tsp, NULL, 0);
}

/* Wakes at most cnt sleepers on addr. */
static void futexwake(_Atomic uint32_t *addr, int cnt)
{
    syscall(SYS_futex, addr, FUTEX_WAKE_PRIVATE, cnt, NULL, NULL, 0);
}

/* Takes l in state wait if it is free now. */
static bool try_acquire(runtime_lock_t *l, uint32_t wait)
{
    while (atomic_load_explicit(&l->key, memory_order_relaxed) == 0) {
        uint32_t v = 0;
        if (atomic_compare_exchange_weak_explicit(&l->key, &v, wait,
                memory_order_acquire, memory_order_relaxed))
            return true;
    }
    return false;
}

/* Takes l: spin a little (the holder is likely running), then sleep. */
void runtime__lock_raw(runtime_lock_t *l)
{
    uint32_t v = 0;
    if (likely(atomic_compare_exchange_strong_explicit(
            &l->key, &v, 1, memory_order_acquire, memory_order_relaxed)))
        return;
    /* Once we sleep the state must say "sleepers possible" (2). */
    uint32_t wait = atomic_exchange_explicit(&l->key, 1, memory_order_acquire);
    if (wait == 0)
        return;
    for (;;) {
        for (int i = 0; i < LOCK_SPIN_ACTIVE; i++) {
            if (try_acquire(l, wait))
                return;
            for (int k = 0; k < LOCK_SPIN_PAUSES; k++)
                __builtin_ia32_pause();
        }
        for (int i = 0; i < LOCK_SPIN_PASSIVE; i++) {
            if (try_acquire(l, wait))
                return;
            sched_yield();
        }
        v = atomic_exchange_explicit(&l->key, 2, memory_order_acquire);
        if (v == 0)
            return;
        wait = 2;
        futexsleep(&l->key, 2, -1);
    }
}

/* Releases l and wakes one sleeper if there may be one. */
void runtime__unlock_raw(runtime_lock_t *l)
{
    uint32_t v = atomic_exchange_explicit(&l->key, 0, memory_order_release);
    if (unlikely(v == 0))
        runtime__throw("unlock of unlocked lock");
    if (v == 2)
        futexwake(&l->key, 1);
}

/* Takes l and marks the M as holding a runtime lock (no preemption). */
void runtime__lock(runtime_lock_t *l)
{
    runtime__mlocks_add(1);
    runtime__lock_raw(l);
}

/* Releases l; the M becomes preemptible when it holds no other lock. */
void runtime__unlock(runtime_lock_t *l)
{
    runtime__unlock_raw(l);
    int32_t *locks = runtime__tls_m;
    if (locks) {
        --*locks;
        runtime__assert(*locks >= 0);
    }
}

/* ------------------------------------------------------------------ */
/* notes                                                               */
/* ------------------------------------------------------------------ */

void runtime__noteclear(runtime_note_t *n)
{
    atomic_store_explicit(&n->key, 0, memory_order_relaxed);
}

/* Wakes the sleeper (or makes the next sleep return at once). */
void runtime__notewakeup(runtime_note_t *n)
{
    uint32_t old = atomic_exchange(&n->key, 1);
    if (old != 0)
        runtime__throw("notewakeup - double wakeup");
    futexwake(&n->key, 1);
}

void runtime__notesleep(runtime_note_t *n)
{
    while (atomic_load(&n->key) == 0)
        futexsleep(&n->key, 0, -1);
}

bool runtime__notespin(runtime_note_t *n, int64_t ns)
{
    int64_t deadline = runtime__nanotime() + ns;
    for (;;) {
        for (int i = 0; i < LOCK_SPIN_PAUSES; i++) {
            if (atomic_load_explicit(&n->key, memory_order_acquire) != 0)
                return true;
            __builtin_ia32_pause();
        }
        if (runtime__nanotime() >= deadline)
            return atomic_load(&n->key) != 0;
    }
}

bool runtime__notetsleep(runtime_note_t *n, int64_t ns)
{
    if (ns < 0) {
        runtime__notesleep(n);
        return true;
    }
    int64_t deadline = runtime__nanotime() + ns;
    while (atomic_load(&n->key) == 0) {
        int64_t left = deadline - runtime__nanotime();
        if (left <= 0)
            return false;
        futexsleep(&n->key, 0, left);
    }
    return true;
}
