/*
 * sync/mutex.c -- sync.Mutex: a fair-enough, mostly-spinning-free lock.
 *
 * Owns: sync_mutex_t. State word (int32):
 *     bit 0   MUTEX_LOCKED    held
 *     bit 1   MUTEX_WOKEN     a waiter is awake (spinning or just woken):
 *                             unlock need not wake another
 *     bit 2   MUTEX_STARVING  starvation mode
 *     bits 3+ waiters         goroutines queued on m->sema (29 bits)
 *
 * Normal mode: queued waiters are FIFO, but a woken waiter competes with
 * newcomers for the lock (newcomers usually win: they are on a CPU). A
 * waiter that loses goes back to the head of the queue (LIFO). A waiter
 * that has waited over SYNC_STARVATION_NS sets MUTEX_STARVING.
 * Starvation mode: unlock hands ownership straight to the queue head
 * (sync__semrelease with handoff); newcomers neither spin nor take the
 * lock, they queue at the tail. The woken owner clears MUTEX_STARVING if
 * it is the last waiter or waited less than SYNC_STARVATION_NS.
 *
 * May call: sync__semacquire/semrelease, sync__canspin, runtime__nanotime,
 * runtime__throw. docs/sync.md has the transition diagram.
 *
 * Invariant: the fast paths are one CAS (lock) and one atomic add
 * (unlock), inlined into callers by gort.h; everything else is in the
 * noinline slow paths sync__mutex_lock_slow / sync__mutex_unlock_slow.
 */
#include "internal.h"

#define MUTEX_LOCKED        1
#define MUTEX_WOKEN         2
#define MUTEX_STARVING      4
#define MUTEX_WAITER_SHIFT  3

/* Slow path of sync_mutex_lock: spin, queue, or take over from a waker.
 * Called by the inline fast path in gort.h after its CAS failed. */
GORT_NOINLINE void sync__mutex_lock_slow(sync_mutex_t *m)
{
    int64_t waitstart = 0;
    bool starving = false;
    bool awoke = false;
    int iter = 0;
    int32_t old = SYNC_LOAD_RLX(&m->state);
    for (;;) {
        /* Spin while locked in normal mode, if spinning pays. */
        if ((old & (MUTEX_LOCKED | MUTEX_STARVING)) == MUTEX_LOCKED &&
            sync__canspin(iter)) {
            /* Tell unlock not to wake a waiter: we will take the lock. */
            if (!awoke && (old & MUTEX_WOKEN) == 0 &&
                (old >> MUTEX_WAITER_SHIFT) != 0 &&
                SYNC_CAS(&m->state, &old, old | MUTEX_WOKEN))
                awoke = true;
            sync__dospin();
            iter++;
            old = SYNC_LOAD_RLX(&m->state);
            continue;
        }
        int32_t new = old;
        if ((old & MUTEX_STARVING) == 0)
            new |= MUTEX_LOCKED;          /* starving: the lock is handed off */
        if ((old & (MUTEX_LOCKED | MUTEX_STARVING)) != 0)
            new += 1 << MUTEX_WAITER_SHIFT;
        if (starving && (old & MUTEX_LOCKED) != 0)
            new |= MUTEX_STARVING;
        if (awoke) {
            if ((new & MUTEX_WOKEN) == 0)
                runtime__throw("sync: inconsistent mutex state");
            new &= ~MUTEX_WOKEN;
        }
        if (!SYNC_CAS(&m->state, &old, new))
            continue;                     /* old was reloaded by the CAS */
        if ((old & (MUTEX_LOCKED | MUTEX_STARVING)) == 0)
            return;                       /* locked by the CAS */
        /* Queue; a waiter that already waited goes to the front. */
        bool lifo = waitstart != 0;
        if (waitstart == 0)
            waitstart = runtime__nanotime();
        sync__semacquire(&m->sema, lifo, SYNC_WR_MUTEX);
        starving = starving ||
                   runtime__nanotime() - waitstart > SYNC_STARVATION_NS;
        old = SYNC_LOAD(&m->state);
        if (old & MUTEX_STARVING) {
            /* Ownership was handed to us; the state still counts us as a
             * waiter and says unlocked. */
            if ((old & (MUTEX_LOCKED | MUTEX_WOKEN)) != 0 ||
                (old >> MUTEX_WAITER_SHIFT) == 0)
                runtime__throw("sync: inconsistent mutex state");
            int32_t delta = MUTEX_LOCKED - (1 << MUTEX_WAITER_SHIFT);
            if (!starving || (old >> MUTEX_WAITER_SHIFT) == 1)
                delta -= MUTEX_STARVING;  /* leave starvation mode */
            SYNC_ADD(&m->state, delta);
            return;
        }
        awoke = true;
        iter = 0;
    }
}

/* Locks m, parking the goroutine while it is held elsewhere. (The names
 * of the public functions are parenthesised because gort.h defines macros
 * of the same names that inline these fast paths.) */
void (sync_mutex_lock)(sync_mutex_t *m)
{
    int32_t old = 0;
    if (likely(SYNC_CAS(&m->state, &old, MUTEX_LOCKED)))
        return;
    sync__mutex_lock_slow(m);
}

/* Locks m if it is free and not in starvation mode; never waits. */
bool sync_mutex_trylock(sync_mutex_t *m)
{
    int32_t old = SYNC_LOAD_RLX(&m->state);
    if ((old & (MUTEX_LOCKED | MUTEX_STARVING)) != 0)
        return false;
    return SYNC_CAS(&m->state, &old, old | MUTEX_LOCKED);
}

/* Slow path of sync_mutex_unlock: new is the state after clearing LOCKED. */
GORT_NOINLINE void sync__mutex_unlock_slow(sync_mutex_t *m, int32_t new)
{
    if (((new + MUTEX_LOCKED) & MUTEX_LOCKED) == 0)
        runtime__throw("sync: unlock of unlocked mutex");
    if (new & MUTEX_STARVING) {
        /* Hand the lock to the first waiter; MUTEX_LOCKED stays clear
         * but the lock counts as held by it (newcomers see STARVING). */
        sync__semrelease(&m->sema, true);
        return;
    }
    int32_t old = new;
    for (;;) {
        /* No one to wake, or someone awake / already relocked. */
        if ((old >> MUTEX_WAITER_SHIFT) == 0 ||
            (old & (MUTEX_LOCKED | MUTEX_WOKEN | MUTEX_STARVING)) != 0)
            return;
        new = (old - (1 << MUTEX_WAITER_SHIFT)) | MUTEX_WOKEN;
        if (SYNC_CAS(&m->state, &old, new)) {
            sync__semrelease(&m->sema, false);
            return;
        }
    }
}

/* Unlocks m; fatal if it was not locked. Any goroutine may unlock. */
void (sync_mutex_unlock)(sync_mutex_t *m)
{
    int32_t new = SYNC_ADD(&m->state, -MUTEX_LOCKED);
    if (unlikely(new != 0))
        sync__mutex_unlock_slow(m, new);
}
