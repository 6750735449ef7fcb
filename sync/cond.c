/*
 * sync/cond.c -- sync.Cond over a sync_mutex_t.
 *
 * Owns: sync_cond_t. Waiters take a ticket (c->wait++) while holding c->l,
 * release c->l and park on the notify list (sema.c); Signal wakes the
 * oldest ticket not yet notified, Broadcast all of them. A ticket taken
 * before a Signal is always covered by it, even if its goroutine has not
 * parked yet: no lost wake-ups. c->checker holds the cond's own address
 * after first use, so a copied cond is detected, as Go's copyChecker.
 *
 * May call: sync_mutex_*, sync__notify_*, go_panic.
 */
#include "internal.h"

/* Panics if c was copied after first use (Go's copyChecker). */
static inline void condcheck(sync_cond_t *c)
{
    uintptr_t self = (uintptr_t)c;
    uintptr_t v = SYNC_LOAD_RLX(&c->checker);
    if (likely(v == self))
        return;
    uintptr_t zero = 0;
    if (!SYNC_CAS(&c->checker, &zero, self) && SYNC_LOAD(&c->checker) != self)
        go_panic("sync.Cond is copied");
}

/* Unlocks c->l, waits for a Signal or Broadcast, and relocks c->l. */
void sync_cond_wait(sync_cond_t *c)
{
    condcheck(c);
    if (c->l == NULL)
        go_panic("runtime error: invalid memory address or nil pointer dereference");
    uint32_t t = sync__notify_add(&c->wait);
    sync_mutex_unlock(c->l);
    sync__notify_wait(&c->wait, &c->notify, t);
    sync_mutex_lock(c->l);
}

/* Wakes one waiting goroutine, if any. */
void sync_cond_signal(sync_cond_t *c)
{
    condcheck(c);
    sync__notify_one(&c->wait, &c->notify);
}

/* Wakes every waiting goroutine. */
void sync_cond_broadcast(sync_cond_t *c)
{
    condcheck(c);
    sync__notify_all(&c->wait, &c->notify);
}
