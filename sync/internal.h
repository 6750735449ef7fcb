/*
 * sync/internal.h -- internals of the sync package shared by its files.
 *
 * Owns: the runtime semaphore table (sema.c), the ticket-based notify list
 * behind sync.Cond (sema.c), and the active-spinning policy of the mutex.
 * The public types (sync_mutex_t, ...) are declared in runtime/gort.h.
 *
 * May call: runtime locks (runtime__lock), sched__park/parkunlock/ready,
 * sched__needg, runtime__nanotime, runtime__throw, go_panic; map.c and
 * pool.c also gc/internal.h (gc__cas_ptr, the cycle hook of pools).
 *
 * Invariants:
 *  - A goroutine parks only inside sync__semacquire / sync__notify_wait,
 *    always with the bucket lock of its address handed to
 *    sched__parkunlock, so a release that races with the acquire either
 *    sees the waiter queued or leaves a count the waiter takes.
 *  - Waiter descriptors live on the parked goroutine's own stack (gort
 *    stacks never move); whoever dequeues one reads everything it needs
 *    from it before sched__ready, after which it may vanish.
 *  - The public state words are plain integers; all access goes through
 *    the __atomic builtins below (sequentially consistent unless a
 *    comment says otherwise).
 */
#ifndef GORT_SYNC_INTERNAL_H
#define GORT_SYNC_INTERNAL_H

#include "../sched/internal.h"

/* ------------------------------------------------------------------ */
/* tuning constants (Go's values)                                      */
/* ------------------------------------------------------------------ */

#define SYNC_SEMTAB_SIZE       251        /* semaphore buckets (prime) */
#define SYNC_ACTIVE_SPIN       4          /* spin rounds before queueing */
#define SYNC_ACTIVE_SPIN_CNT   30         /* PAUSEs per spin round */
#define SYNC_STARVATION_NS     1000000    /* 1 ms: waiter turns mutex starving */
#define SYNC_RWMUTEX_MAX_READERS (1 << 30)

/* Go's wait reasons, as shown in tracebacks and schedtrace. */
#define SYNC_WR_MUTEX     "sync.Mutex.Lock"
#define SYNC_WR_RLOCK     "sync.RWMutex.RLock"
#define SYNC_WR_WLOCK     "sync.RWMutex.Lock"
#define SYNC_WR_WAITGROUP "sync.WaitGroup.Wait"
#define SYNC_WR_COND      "sync.Cond.Wait"
#define SYNC_WR_SEMA      "semacquire"

/* Shorthands for the __atomic builtins on plain integers. */
#define SYNC_LOAD(p)        __atomic_load_n((p), __ATOMIC_SEQ_CST)
#define SYNC_LOAD_ACQ(p)    __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define SYNC_LOAD_RLX(p)    __atomic_load_n((p), __ATOMIC_RELAXED)
#define SYNC_STORE(p, v)    __atomic_store_n((p), (v), __ATOMIC_SEQ_CST)
#define SYNC_ADD(p, v)      __atomic_add_fetch((p), (v), __ATOMIC_SEQ_CST)
#define SYNC_CAS(p, oldp, v) \
    __atomic_compare_exchange_n((p), (oldp), (v), false, __ATOMIC_SEQ_CST, \
                                __ATOMIC_RELAXED)

/* ------------------------------------------------------------------ */
/* semaphores (sema.c)                                                 */
/* ------------------------------------------------------------------ */

/* G (parks). Waits until *addr > 0, then decrements it. lifo queues the
 * caller at the head of addr's queue instead of the tail. reason is the
 * wait reason shown while parked. */
GORT_HIDDEN void sync__semacquire(uint32_t *addr, bool lifo, const char *reason);
/* Any context. Increments *addr and wakes the first waiter on addr, if
 * any. With handoff, the count goes straight to that waiter, which then
 * runs next on this P (the caller yields to it when it is a goroutine). */
GORT_HIDDEN void sync__semrelease(uint32_t *addr, bool handoff);
/* Number of goroutines queued on addr (for tests and debugging). */
GORT_HIDDEN int sync__semwaiters(const void *addr);
/* Checks the invariants of addr's bucket; returns its number of queue
 * heads, or -1 if broken (tests). */
GORT_HIDDEN int sync__semtreapcheck(const void *addr);

/* ------------------------------------------------------------------ */
/* notify list (sema.c): sync.Cond's ticket queue                      */
/* ------------------------------------------------------------------ */

/* The list is the pair of counters (wait, notify) plus the waiters queued
 * in the semaphore table under key. wait is the next ticket to hand out,
 * notify the next ticket to wake; tickets below notify are already woken. */
GORT_HIDDEN uint32_t sync__notify_add(uint32_t *wait);
/* G (parks). Waits until ticket t has been notified. */
GORT_HIDDEN void sync__notify_wait(uint32_t *wait, uint32_t *notify,
                                   uint32_t t);
GORT_HIDDEN void sync__notify_one(uint32_t *wait, uint32_t *notify);
GORT_HIDDEN void sync__notify_all(uint32_t *wait, uint32_t *notify);

/* ------------------------------------------------------------------ */
/* active spinning (sema.c)                                            */
/* ------------------------------------------------------------------ */

/* True if a mutex waiter should spin (round iter): several CPUs, another
 * P running, and nothing waiting in this P's run queue. */
GORT_HIDDEN bool sync__canspin(int iter);
/* One spin round: SYNC_ACTIVE_SPIN_CNT PAUSE instructions. */
static inline void sync__dospin(void)
{
    for (int i = 0; i < SYNC_ACTIVE_SPIN_CNT; i++)
        __builtin_ia32_pause();
}

/* ------------------------------------------------------------------ */
/* sync.Map (map.c)                                                    */
/* ------------------------------------------------------------------ */

/* Entries in m's dirty table, or -1 while it has none (tests). */
GORT_HIDDEN intptr_t sync__map_dirty_len(sync_map_t *m);

/* ------------------------------------------------------------------ */
/* sync.Pool (pool.c)                                                  */
/* ------------------------------------------------------------------ */

/* Objects p holds in its local array (victim: in its victim cache). */
GORT_HIDDEN uintptr_t sync__pool_count(sync_pool_t *p, bool victim);

#endif /* GORT_SYNC_INTERNAL_H */
