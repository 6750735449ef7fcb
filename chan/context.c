/*
 * chan/context.c -- Go's context package: Background, TODO, WithCancel,
 * WithDeadline, WithTimeout, WithValue and their Done, Err, Deadline and
 * Value.
 *
 * Owns: struct context and its three shapes (empty, value, cancelable),
 * the tree of cancelable contexts (each one's children on an intrusive
 * doubly linked list under its own lock), the shared closed channel that
 * Done returns after an early cancel, and the deadline timers.
 *
 * May call: chan_make/chan_close, gc_alloc/gc_store, runtime__lock, and
 * sched__timer_add/del (a deadline's timer is a runtime timer whose
 * callback cancels the context on the M that runs it; no goroutine is
 * ever started to propagate a cancellation).
 *
 * Invariants:
 *  - A cancelable context's err goes from NULL to one of the two sentinel
 *    errors once, under its lock, before its done channel is closed (or
 *    the closed channel is installed when nobody asked for Done yet).
 *  - owner is the nearest cancelable ancestor, fixed at creation; a
 *    context is on owner's children list exactly while `linked` is set,
 *    and next/prev/linked are guarded by owner's lock.
 *  - Locks are taken ancestor first: a context never holds its own lock
 *    while it takes an ancestor's (removal from the owner's list happens
 *    after the context's lock is released). A cancel holds the lock of
 *    every context on the path from the cancelled one to the one it is
 *    cancelling, as Go's recursive cancel does, so once context_cancel
 *    returns in any goroutine, every descendant is done.
 *  - Nothing here allocates with a context lock held: the callback of a
 *    deadline timer runs on an M checking timers (maybe without a G) and
 *    must not block or allocate.
 *  - All pointer fields are written through gc_store: contexts are GC
 *    objects, and an armed timer keeps its context alive (the collector
 *    scans the runtime timers as roots).
 */
#include "internal.h"

const char context_canceled[] = "context canceled";
const char context_deadline_exceeded[] = "context deadline exceeded";

enum { CTX_EMPTY, CTX_VALUE, CTX_CANCEL, CTX_TIMER };

/* What every context starts with. */
struct context {
    context_t *parent;             /* NULL for Background and TODO */
    uint32_t kind;                 /* CTX_* */
};

/* WithValue. */
typedef struct {
    context_t base;
    const void *key;
    void *value;
} ctx_value_t;

/* WithCancel; the head of WithDeadline's context. */
typedef struct ctx_cancel {
    context_t base;
    runtime_lock_t lock;
    chan_t *done;                  /* made by the first Done; atomic loads */
    const char *err;               /* atomic loads; set once under lock */
    struct ctx_cancel *owner;      /* nearest cancelable ancestor, or NULL */
    struct ctx_cancel *next, *prev;    /* on owner's list (owner's lock) */
    struct ctx_cancel *children;   /* first child (own lock) */
    intptr_t nchildren;
    bool linked;                   /* on owner's list (owner's lock) */
} ctx_cancel_t;

/* WithDeadline and WithTimeout. */
typedef struct {
    ctx_cancel_t c;
    int64_t deadline;
    bool armed;                    /* timer added and not yet deleted (lock) */
    sched_timer_t timer;
} ctx_timer_t;

static struct context background_ctx = {NULL, CTX_EMPTY};
static struct context todo_ctx = {NULL, CTX_EMPTY};

/* The channel Done returns for a context cancelled before anyone asked. */
static chan_t *closed_chan;
static runtime_lock_t closed_lock;

/* Makes closed_chan once; called by goroutines before any cancel can run. */
static void closed_chan_init(void)
{
    if (likely(__atomic_load_n(&closed_chan, __ATOMIC_ACQUIRE) != NULL))
        return;
    chan_t *c = chan_make(0, 0);
    chan_close(c);
    runtime__lock(&closed_lock);
    if (closed_chan == NULL)
        gc_store(&closed_chan, c);
    runtime__unlock(&closed_lock);
}

/* Nearest cancelable context at or above ctx, or NULL (Background side). */
static ctx_cancel_t *cancelable(context_t *ctx)
{
    while (ctx && ctx->kind == CTX_VALUE)
        ctx = ctx->parent;
    return ctx && ctx->kind >= CTX_CANCEL ? (ctx_cancel_t *)ctx : NULL;
}

/* ------------------------------------------------------------------ */
/* the tree of cancelable contexts                                     */
/* ------------------------------------------------------------------ */

/* Owner's lock held: takes c off owner's children list. */
static void unlink_child(ctx_cancel_t *owner, ctx_cancel_t *c)
{
    if (c->prev)
        gc_store(&c->prev->next, c->next);
    else
        gc_store(&owner->children, c->next);
    if (c->next)
        gc_store(&c->next->prev, c->prev);
    gc_store(&c->next, NULL);
    gc_store(&c->prev, NULL);
    c->linked = false;
    owner->nchildren--;
}

/* c's lock held, c not yet cancelled: records err, closes Done (or
 * installs the closed channel), and stops a deadline's timer. */
static void mark_cancelled(ctx_cancel_t *c, const char *err)
{
    __atomic_store_n(&c->err, err, __ATOMIC_RELEASE);
    chan_t *d = c->done;
    if (d)
        chan_close(d);
    else
        gc_store(&c->done, closed_chan);
    if (c->base.kind == CTX_TIMER) {
        ctx_timer_t *t = (ctx_timer_t *)c;
        if (t->armed) {
            sched__timer_del(&t->timer);
            t->armed = false;
        }
    }
}

/* Cancels c and all its descendants with err; with remove, also takes c
 * off its owner's list. Depth first without recursion: the path of
 * locked contexts is the chain of owner pointers back up to c. */
static void cancel(ctx_cancel_t *c, bool remove, const char *err)
{
    runtime__lock(&c->lock);
    if (c->err) {
        runtime__unlock(&c->lock);
        return;
    }
    mark_cancelled(c, err);
    ctx_cancel_t *cur = c;
    for (;;) {
        ctx_cancel_t *ch = cur->children;
        if (ch) {
            unlink_child(cur, ch);
            runtime__lock(&ch->lock);
            if (ch->err) {                 /* cancelled on its own meanwhile */
                runtime__unlock(&ch->lock);
                continue;
            }
            mark_cancelled(ch, err);
            cur = ch;
            continue;
        }
        runtime__unlock(&cur->lock);
        if (cur == c)
            break;
        cur = cur->owner;
    }
    ctx_cancel_t *o = c->owner;
    if (remove && o) {
        runtime__lock(&o->lock);
        if (c->linked)
            unlink_child(o, c);
        runtime__unlock(&o->lock);
    }
}

/* Ties a fresh child to its nearest cancelable ancestor (Go's
 * propagateCancel): on its list, or cancelled at once if it is done. */
static void propagate(context_t *parent, ctx_cancel_t *child)
{
    ctx_cancel_t *p = cancelable(parent);
    if (p == NULL)
        return;
    gc_store(&child->owner, p);
    runtime__lock(&p->lock);
    const char *err = p->err;
    if (err == NULL) {
        gc_store(&child->next, p->children);
        if (p->children)
            gc_store(&p->children->prev, child);
        gc_store(&p->children, child);
        child->linked = true;
        p->nchildren++;
    }
    runtime__unlock(&p->lock);
    if (err)
        cancel(child, false, err);
}

/* Timer callback of a deadline: runs on an M checking timers. */
static void deadline_fire(void *arg, uintptr_t seq)
{
    (void)seq;
    cancel(arg, true, context_deadline_exceeded);
}

/* ------------------------------------------------------------------ */
/* constructors                                                        */
/* ------------------------------------------------------------------ */

/* context.Background(). */
context_t *context_background(void)
{
    return &background_ctx;
}

/* context.TODO(). */
context_t *context_todo(void)
{
    return &todo_ctx;
}

/* Allocates a cancelable context of kind (size bytes) under parent. */
static ctx_cancel_t *cancel_alloc(context_t *parent, size_t size, uint32_t kind)
{
    if (parent == NULL)
        go_panic("cannot create context from nil parent");
    closed_chan_init();
    ctx_cancel_t *c = gc_alloc(size);
    c->base.kind = kind;
    gc_store(&c->base.parent, parent);
    return c;
}

/* context.WithCancel(parent); the result is its own CancelFunc handle. */
context_t *context_with_cancel(context_t *parent)
{
    ctx_cancel_t *c = cancel_alloc(parent, sizeof(ctx_cancel_t), CTX_CANCEL);
    propagate(parent, c);
    return &c->base;
}

/* context.WithDeadline(parent, d): d on the time_now() clock. */
context_t *context_with_deadline(context_t *parent, int64_t deadline)
{
    int64_t cur;
    if (parent && context_deadline(parent, &cur) && cur < deadline)
        return context_with_cancel(parent);   /* the parent's comes first */
    ctx_timer_t *t = (ctx_timer_t *)cancel_alloc(parent, sizeof(ctx_timer_t), CTX_TIMER);
    t->deadline = deadline;
    propagate(parent, &t->c);
    if (deadline <= time_now()) {
        cancel(&t->c, true, context_deadline_exceeded);
        return &t->c.base;
    }
    runtime__lock(&t->c.lock);
    if (t->c.err == NULL) {
        t->timer.f = deadline_fire;
        t->timer.arg = t;              /* points into its own object */
        t->timer.when = deadline;
        t->armed = true;
        sched__timer_add(&t->timer);
    }
    runtime__unlock(&t->c.lock);
    return &t->c.base;
}

/* context.WithTimeout(parent, d): WithDeadline(parent, now + d). */
context_t *context_with_timeout(context_t *parent, int64_t timeout_ns)
{
    int64_t d;
    if (__builtin_add_overflow(time_now(), timeout_ns, &d))
        d = timeout_ns > 0 ? INT64_MAX : INT64_MIN;
    return context_with_deadline(parent, d);
}

/* context.WithValue(parent, key, value); key compared by address. */
context_t *context_with_value(context_t *parent, const void *key, void *value)
{
    if (parent == NULL)
        go_panic("cannot create context from nil parent");
    if (key == NULL)
        go_panic("nil key");
    ctx_value_t *v = gc_alloc(sizeof *v);
    v->base.kind = CTX_VALUE;
    gc_store(&v->base.parent, parent);
    gc_store(&v->key, key);
    gc_store(&v->value, value);
    return &v->base;
}

/* ------------------------------------------------------------------ */
/* methods                                                             */
/* ------------------------------------------------------------------ */

/* The CancelFunc: cancels ctx if it is cancelable; otherwise nothing. */
void context_cancel(context_t *ctx)
{
    if (ctx && ctx->kind >= CTX_CANCEL)
        cancel((ctx_cancel_t *)ctx, true, context_canceled);
}

/* ctx.Done(): made on first use, outside the lock (no allocation under a
 * context lock); a loser of the race drops its channel. */
chan_t *context_done(context_t *ctx)
{
    ctx_cancel_t *c = ctx ? cancelable(ctx) : NULL;
    if (c == NULL)
        return NULL;
    chan_t *d = __atomic_load_n(&c->done, __ATOMIC_ACQUIRE);
    if (likely(d != NULL))
        return d;
    chan_t *fresh = chan_make(0, 0);
    runtime__lock(&c->lock);
    if (c->done == NULL)
        gc_store(&c->done, fresh);     /* cancel installs closed_chan itself */
    d = c->done;
    runtime__unlock(&c->lock);
    return d;
}

/* ctx.Err(): NULL, context_canceled or context_deadline_exceeded. */
const char *context_err(context_t *ctx)
{
    ctx_cancel_t *c = ctx ? cancelable(ctx) : NULL;
    return c ? __atomic_load_n(&c->err, __ATOMIC_ACQUIRE) : NULL;
}

/* ctx.Deadline(): the nearest deadline at or above ctx. */
bool context_deadline(context_t *ctx, int64_t *deadline)
{
    for (; ctx; ctx = ctx->parent) {
        if (ctx->kind == CTX_TIMER) {
            if (deadline)
                *deadline = ((ctx_timer_t *)ctx)->deadline;
            return true;
        }
    }
    return false;
}

/* ctx.Value(key): the nearest WithValue of key, child to parent. */
void *context_value(context_t *ctx, const void *key)
{
    for (; ctx; ctx = ctx->parent)
        if (ctx->kind == CTX_VALUE && ((ctx_value_t *)ctx)->key == key)
            return ((ctx_value_t *)ctx)->value;
    return NULL;
}

/* Number of cancelable children on ctx's list (tests). */
intptr_t chan__context_nchildren(context_t *ctx)
{
    ctx_cancel_t *c = ctx && ctx->kind >= CTX_CANCEL ? (ctx_cancel_t *)ctx : NULL;
    if (c == NULL)
        return 0;
    runtime__lock(&c->lock);
    intptr_t n = c->nchildren;
    runtime__unlock(&c->lock);
    return n;
}
