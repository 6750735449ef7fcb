/*
 * sync/rwmutex.c -- sync.RWMutex: writer-preferring reader/writer lock.
 *
 * Owns: sync_rwmutex_t. State:
 *     w             serialises writers
 *     reader_count  readers holding or waiting for the lock; a writer
 *                   subtracts SYNC_RWMUTEX_MAX_READERS, so a negative value
 *                   means "writer pending or holding": new readers queue
 *                   on reader_sem
 *     reader_wait   readers the pending writer still waits to depart; the
 *                   last of them releases writer_sem
 *
 * May call: sync_mutex_*, sync__semacquire/semrelease, runtime__throw.
 *
 * Invariant: fast paths are one atomic add (RLock, RUnlock; inlined into
 * callers by gort.h) or a mutex fast path plus one add (Lock, Unlock).
 */
#include "internal.h"

/* Slow path of rlock: a writer is pending or inside; wait for it. */
GORT_NOINLINE void sync__rwmutex_rlock_slow(sync_rwmutex_t *rw)
{
    sync__semacquire(&rw->reader_sem, false, SYNC_WR_RLOCK);
}

/* Read-locks rw; waits while a writer holds or waits for it. (Names in
 * parentheses: gort.h inlines the fast path through same-named macros.) */
void (sync_rwmutex_rlock)(sync_rwmutex_t *rw)
{
    if (unlikely(SYNC_ADD(&rw->reader_count, 1) < 0))
        sync__rwmutex_rlock_slow(rw);
}

/* Read-locks rw if no writer holds or waits for it. */
bool sync_rwmutex_tryrlock(sync_rwmutex_t *rw)
{
    int32_t c = SYNC_LOAD_RLX(&rw->reader_count);
    for (;;) {
        if (c < 0)
            return false;
        if (SYNC_CAS(&rw->reader_count, &c, c + 1))
            return true;
    }
}

/* Slow path of runlock: a writer is pending; r is the new reader_count. */
GORT_NOINLINE void sync__rwmutex_runlock_slow(sync_rwmutex_t *rw, int32_t r)
{
    if (r + 1 == 0 || r + 1 == -SYNC_RWMUTEX_MAX_READERS)
        runtime__throw("sync: RUnlock of unlocked RWMutex");
    if (SYNC_ADD(&rw->reader_wait, -1) == 0)
        sync__semrelease(&rw->writer_sem, false);   /* last reader out */
}

/* Drops one read lock; fatal if rw was not read-locked. */
void (sync_rwmutex_runlock)(sync_rwmutex_t *rw)
{
    int32_t r = SYNC_ADD(&rw->reader_count, -1);
    if (unlikely(r < 0))
        sync__rwmutex_runlock_slow(rw, r);
}

/* Write-locks rw: excludes other writers, announces itself to readers,
 * then waits for the readers already inside to leave. */
void sync_rwmutex_lock(sync_rwmutex_t *rw)
{
    sync_mutex_lock(&rw->w);
    int32_t r = SYNC_ADD(&rw->reader_count, -SYNC_RWMUTEX_MAX_READERS) +
                SYNC_RWMUTEX_MAX_READERS;
    if (r != 0 && SYNC_ADD(&rw->reader_wait, r) != 0)
        sync__semacquire(&rw->writer_sem, false, SYNC_WR_WLOCK);
}

/* Write-locks rw if no one holds it; never waits. */
bool sync_rwmutex_trylock(sync_rwmutex_t *rw)
{
    if (!sync_mutex_trylock(&rw->w))
        return false;
    int32_t zero = 0;
    if (!SYNC_CAS(&rw->reader_count, &zero, -SYNC_RWMUTEX_MAX_READERS)) {
        sync_mutex_unlock(&rw->w);
        return false;
    }
    return true;
}

/* Drops the write lock and admits the readers that queued meanwhile. */
void sync_rwmutex_unlock(sync_rwmutex_t *rw)
{
    int32_t r = SYNC_ADD(&rw->reader_count, SYNC_RWMUTEX_MAX_READERS);
    if (unlikely(r >= SYNC_RWMUTEX_MAX_READERS))
        runtime__throw("sync: Unlock of unlocked RWMutex");
    for (int32_t i = 0; i < r; i++)
        sync__semrelease(&rw->reader_sem, false);
    sync_mutex_unlock(&rw->w);
}
