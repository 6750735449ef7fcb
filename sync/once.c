/*
 * sync/once.c -- sync.Once.
 *
 * Owns: sync_once_t. done is 0 until fn has returned (or panicked), then
 * 1 forever; m serialises the slow path so that fn runs exactly once and
 * every caller returns only after it has finished.
 *
 * May call: sync_mutex_*, go_call/go_defer (so that a panicking fn still
 * counts as done and releases m, as in Go).
 *
 * Invariant: done is set (release) only after fn returned or panicked,
 * and read (acquire) by the fast path: a caller that sees 1 sees fn's
 * effects.
 */
#include "internal.h"

typedef struct {
    sync_once_t *o;
    void (*fn)(void *);
    void *arg;
} once_call_t;

/* Deferred: releases the once's mutex. */
static void once_unlock(void *o)
{
    sync_mutex_unlock(&((sync_once_t *)o)->m);
}

/* Deferred: marks the once done (also when fn panicked). */
static void once_setdone(void *o)
{
    __atomic_store_n(&((sync_once_t *)o)->done, 1, __ATOMIC_RELEASE);
}

/* The slow path, run as one go_call frame so its defers run on panic. */
static void once_slow(void *p)
{
    once_call_t *c = p;
    sync_mutex_lock(&c->o->m);
    go_defer(once_unlock, c->o);
    if (SYNC_LOAD_RLX(&c->o->done) == 0) {
        go_defer(once_setdone, c->o);
        c->fn(c->arg);
    }
}

/* Calls fn(arg) if and only if this is the first call for o. (Parenthesised:
 * gort.h wraps the name in a macro that inlines the fast path.) */
void (sync_once_do)(sync_once_t *o, void (*fn)(void *arg), void *arg)
{
    if (likely(__atomic_load_n(&o->done, __ATOMIC_ACQUIRE) != 0))
        return;
    once_call_t c = {o, fn, arg};
    go_call(once_slow, &c);
}
