/*
 * sync/waitgroup.c -- sync.WaitGroup.
 *
 * Owns: sync_waitgroup_t. State word (uint64): counter in the high 32 bits
 * (signed), number of waiters in the low 32 bits. Waiters sleep on
 * wg->sema. When Add brings the counter to zero with waiters present, it
 * resets the whole state to 0 and releases the semaphore once per waiter;
 * a woken waiter that then sees a non-zero state knows the group was
 * reused too early.
 *
 * May call: sync__semacquire/semrelease, go_panic.
 *
 * Invariant: while waiters > 0 and counter == 0 only the releasing Add
 * touches the state (it stores 0 before releasing anyone).
 */
#include "internal.h"

/* Adds delta (may be negative) to the counter; wakes the waiters at 0. */
void sync_waitgroup_add(sync_waitgroup_t *wg, int delta)
{
    uint64_t state = SYNC_ADD(&wg->state, (uint64_t)(int64_t)delta << 32);
    int32_t v = (int32_t)(state >> 32);
    uint32_t w = (uint32_t)state;
    if (unlikely(v < 0))
        go_panic("sync: negative WaitGroup counter");
    if (w != 0 && delta > 0 && v == delta)
        go_panic("sync: WaitGroup misuse: Add called concurrently with Wait");
    if (v > 0 || w == 0)
        return;
    /* Counter is 0 and there are waiters: from here on nobody may change
     * the state (Add needs a positive counter, Wait returns at once). */
    if (SYNC_LOAD(&wg->state) != state)
        go_panic("sync: WaitGroup misuse: Add called concurrently with Wait");
    SYNC_STORE(&wg->state, 0);
    for (; w != 0; w--)
        sync__semrelease(&wg->sema, false);
}

/* Decrements the counter by one. */
void sync_waitgroup_done(sync_waitgroup_t *wg)
{
    sync_waitgroup_add(wg, -1);
}

/* Waits until the counter is zero. */
void sync_waitgroup_wait(sync_waitgroup_t *wg)
{
    uint64_t state = SYNC_LOAD(&wg->state);
    for (;;) {
        if ((int32_t)(state >> 32) == 0)
            return;
        if (SYNC_CAS(&wg->state, &state, state + 1)) {
            sync__semacquire(&wg->sema, false, SYNC_WR_WAITGROUP);
            if (SYNC_LOAD(&wg->state) != 0)
                go_panic("sync: WaitGroup is reused before previous Wait has returned");
            return;
        }
    }
}
