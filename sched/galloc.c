/*
 * sched/galloc.c -- G descriptors: allgs, free lists, and unstarted Gs.
 *
 * A goroutine lives in two kinds of descriptor over its life:
 *
 *  - While it has not run yet, it is an *unstarted G*: a g_t with no
 *    stack, from a dense array, whose first cache line (sp, status, goid,
 *    fn, arg, gopc, ...) is all it uses. go() writes that one line and
 *    queues the G; nothing else is touched.
 *  - The first time a P runs it (sched__gstart, from execute), the
 *    goroutine moves into a *stack G*: a g_t at the top of a stack slot
 *    (sched/stack.c), taken from the P's free list. A P reuses the stack
 *    G that exited last, so a program that spawns many short goroutines
 *    runs them all on the same few cache-hot stack pages, whatever the
 *    number waiting in the queues. The unstarted G goes back to its pool.
 *
 * Nothing outside the scheduler can hold a pointer to a G that has not run
 * (it has not locked a thread, parked, or taken a timer or a sudog), so the
 * move is invisible: the goroutine keeps its id, entry, argument and
 * creation PC. Both descriptors are in allgs forever, as every G is; the
 * collector scans an unstarted G's arg and no stack.
 *
 * Free lists: stack Gs are a linked LIFO per P (the hot one first) that
 * spills to a global stack of batches. Unstarted Gs are arrays of
 * pointers per P, moved in batches through a global pool: the Gs a P
 * starts are usually the Gs another P created, and popping from an array
 * does not chase pointers through descriptors last written by that other
 * core.
 *
 * Context: any, with the P of the current M when p != NULL. Locks:
 * sched.gflock and ulock are leaves; allglock is a leaf.
 */
#include <string.h>
#include <sys/mman.h>

#include "internal.h"

#define SCHED_GFREE_LOCAL   64      /* per-P free stack Gs before spilling */
#define SCHED_UBATCH        64      /* unstarted Gs moved between P and pool at once */
#define SCHED_UCHUNK        8192    /* unstarted Gs mapped at once */
#define SCHED_GOID_BATCH    16      /* goroutine ids a P takes at once */
#define SCHED_SCRUB_BYTES   (16 * 1024)  /* stack zeroed for runtime goroutines */

_Static_assert(offsetof(g_t, lockedm) + sizeof(void *) <= 64,
               "an unstarted G's fields must fit its first cache line");
_Static_assert(SCHED_UCACHE >= 2 * SCHED_UBATCH, "per-P cache holds two batches");

runtime_lock_t sched__allglock;
g_t **sched__allgs;
_Atomic size_t sched__allglen;
static size_t allgcap;
static _Atomic int64_t goidgen;

/* ------------------------------------------------------------------ */
/* allgs                                                               */
/* ------------------------------------------------------------------ */

/* Adds n new Gs to allgs (for GC and tracebacks). */
static void allgadd(g_t *const *gs, size_t k)
{
    runtime__lock(&sched__allglock);
    size_t n = atomic_load(&sched__allglen);
    if (n + k > allgcap) {
        size_t ncap = allgcap ? allgcap : 1024;
        while (ncap < n + k)
            ncap *= 2;
        g_t **na = runtime__malloc(ncap * sizeof(g_t *));
        if (n)
            memcpy(na, sched__allgs, n * sizeof(g_t *));
        /* The old array is kept: readers without the lock may hold it. */
        sched__allgs = na;
        allgcap = ncap;
    }
    memcpy(&sched__allgs[n], gs, k * sizeof(g_t *));
    atomic_store(&sched__allglen, n + k);
    runtime__unlock(&sched__allglock);
}

void sched__for_each_g(void (*fn)(g_t *, void *), void *arg)
{
    runtime__lock(&sched__allglock);
    size_t n = atomic_load(&sched__allglen);
    for (size_t i = 0; i < n; i++)
        fn(sched__allgs[i], arg);
    runtime__unlock(&sched__allglock);
}

/* ------------------------------------------------------------------ */
/* stack Gs: free lists                                                */
/* ------------------------------------------------------------------ */

/* The global free list is a stack of batches of dead Gs: each batch is a schedlink chain whose head carries the link to the
 * next batch and the count, so moving a batch between a P and the global
 * list touches one G. */

/* Returns a dead stack G for reuse, from p's cache or a global batch. */
static g_t *gfget(p_t *p)
{
    if ((p == NULL || p->gfree == NULL) && sched__sched.gfree) {
        runtime__lock(&sched__sched.gflock);
        g_t *b = sched__sched.gfree;
        if (b) {
            sched__sched.gfree = b->gfreebatch;
            sched__sched.ngfree -= b->gfreebatchn;
        }
        runtime__unlock(&sched__sched.gflock);
        if (b && p) {
            p->gfree = b;
            p->gfreecnt = b->gfreebatchn;
        } else if (b) {
            /* No P to keep the rest: return them as a smaller batch. */
            g_t *rest = b->schedlink;
            if (rest)
                sched__gfree_pushbatch(rest, b->gfreebatchn - 1);
            return b;
        }
    }
    if (p == NULL)
        return NULL;
    g_t *gp = p->gfree;
    if (gp) {
        p->gfree = gp->schedlink;
        p->gfreecnt--;
    }
    return gp;
}

void sched__gfree_pushbatch(g_t *head, int32_t n)
{
    head->gfreebatchn = n;
    runtime__lock(&sched__sched.gflock);
    head->gfreebatch = sched__sched.gfree;
    sched__sched.gfree = head;
    sched__sched.ngfree += n;
    runtime__unlock(&sched__sched.gflock);
}

void sched__gfput(p_t *p, g_t *gp)
{
    /* A full cache goes global as one batch; the G just freed (the hot
     * one) starts the new cache. */
    if (p->gfreecnt >= SCHED_GFREE_LOCAL) {
        sched__gfree_pushbatch(p->gfree, p->gfreecnt);
        p->gfree = NULL;
        p->gfreecnt = 0;
    }
    gp->schedlink = p->gfree;
    p->gfree = gp;
    p->gfreecnt++;
}

/* ------------------------------------------------------------------ */
/* unstarted Gs: the pool                                              */
/* ------------------------------------------------------------------ */

typedef struct ubatch {
    struct ubatch *next;
    int32_t n;
    g_t *g[SCHED_UBATCH];
} ubatch_t;

static runtime_lock_t ulock;
static ubatch_t *ufull;                /* batches of free unstarted Gs */
static ubatch_t *uempty;               /* spare batch records */
static uintptr_t ucur, uend;           /* unused part of the newest chunk */

/* Size of one unstarted G in its chunk: whole cache lines. */
static size_t ustride(void)
{
    return (sizeof(g_t) + 63) & ~(size_t)63;
}

/* Carves up to k never-used unstarted Gs out of the current chunk,
 * mapping a new one when it is used up. ulock held. */
static int32_t ucarve(g_t **out, int32_t k)
{
    size_t stride = ustride();
    if (ucur + stride > uend) {
        size_t len = stride * SCHED_UCHUNK;
        void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (p == MAP_FAILED)
            runtime__throw("out of memory allocating goroutine descriptors");
        /* Many queued goroutines are a dense sweep over this array:
         * huge pages spare the TLB (advice only; failure is harmless). */
        (void)madvise(p, len, MADV_HUGEPAGE);
        ucur = (uintptr_t)p;
        uend = ucur + len;
    }
    int32_t n = 0;
    while (n < k && ucur + stride <= uend) {
        g_t *gp = (g_t *)ucur;
        ucur += stride;
        gp->unstarted = true;
        atomic_store_explicit(&gp->status, G_DEAD, memory_order_relaxed);
        out[n++] = gp;
    }
    return n;
}

/* Refills p's empty cache (or, without a P, returns one G) from the pool
 * or from fresh memory. */
static g_t *urefill(p_t *p)
{
    g_t *fresh[SCHED_UBATCH];
    int32_t nfresh = 0;
    g_t *one = NULL;
    runtime__lock(&ulock);
    ubatch_t *b = ufull;
    if (b) {
        if (p) {
            ufull = b->next;
            memcpy(p->ucache, b->g, (size_t)b->n * sizeof(g_t *));
            p->nucache = b->n;
            b->next = uempty;
            uempty = b;
        } else {
            one = b->g[--b->n];
            if (b->n == 0) {
                ufull = b->next;
                b->next = uempty;
                uempty = b;
            }
        }
    } else {
        nfresh = ucarve(fresh, p ? SCHED_UBATCH : 1);
    }
    runtime__unlock(&ulock);
    if (nfresh == 0)
        return one;
    allgadd(fresh, (size_t)nfresh);
    if (p == NULL)
        return fresh[0];
    memcpy(p->ucache, fresh, (size_t)nfresh * sizeof(g_t *));
    p->nucache = nfresh;
    return NULL;
}

/* Moves the n Gs at gs to the pool as one batch. */
static void uspill(g_t *const *gs, int32_t n)
{
    runtime__lock(&ulock);
    ubatch_t *b = uempty;
    if (b)
        uempty = b->next;
    runtime__unlock(&ulock);
    if (b == NULL)
        b = runtime__malloc(sizeof *b);
    memcpy(b->g, gs, (size_t)n * sizeof(g_t *));
    b->n = n;
    runtime__lock(&ulock);
    b->next = ufull;
    ufull = b;
    runtime__unlock(&ulock);
}

/* A dead unstarted G for a new goroutine. */
static g_t *uget(p_t *p)
{
    if (p == NULL)
        return urefill(NULL);
    if (unlikely(p->nucache == 0))
        urefill(p);
    /* The next ones were likely last written by the core that started
     * them: fetch ahead, so that go() stores into a line already here. */
    if (p->nucache > SCHED_PREFETCH)
        __builtin_prefetch(p->ucache[p->nucache - 1 - SCHED_PREFETCH], 1);
    return p->ucache[--p->nucache];
}

/* Returns a started goroutine's unstarted G to p's cache. */
static void uput(p_t *p, g_t *ug)
{
    if (unlikely(p->nucache == SCHED_UCACHE)) {
        p->nucache -= SCHED_UBATCH;
        uspill(&p->ucache[p->nucache], SCHED_UBATCH);
    }
    p->ucache[p->nucache++] = ug;
}

void sched__ucache_flush(p_t *p)
{
    for (int32_t i = 0; i < p->nucache; i += SCHED_UBATCH) {
        int32_t n = p->nucache - i;
        uspill(&p->ucache[i], n < SCHED_UBATCH ? n : SCHED_UBATCH);
    }
    p->nucache = 0;
}

/* ------------------------------------------------------------------ */
/* creating and starting goroutines                                    */
/* ------------------------------------------------------------------ */

/* A fresh goroutine id: from the P's cached batch, so that Ps spawning
 * concurrently do not fight over one counter. */
static int64_t newgoid(p_t *p)
{
    if (p == NULL)
        return atomic_fetch_add_explicit(&goidgen, 1, memory_order_relaxed) + 1;
    if (p->goidcache == p->goidcacheend) {
        p->goidcache = atomic_fetch_add_explicit(&goidgen, SCHED_GOID_BATCH,
                                                 memory_order_relaxed) + 1;
        p->goidcacheend = p->goidcache + SCHED_GOID_BATCH;
    }
    return p->goidcache++;
}

g_t *sched__newg(p_t *p, void (*fn)(void *), void *arg, bool system, uintptr_t pc)
{
    g_t *gp = uget(p);   /* dead and unstarted: not read, only written */
    gp->fn = fn;
    gp->arg = arg;
    gp->gopc = pc;
    gp->system = system;
    gp->goid = newgoid(p);
    atomic_store_explicit(&gp->status, G_RUNNABLE, memory_order_release);
    return gp;
}

/* Lays out a fresh context on gp's stack so that gogo enters gostart. */
static void gcontext_init(g_t *gp)
{
    uintptr_t *sp = (uintptr_t *)((gp->stack_hi - 80) & ~(uintptr_t)15);
    sp[0] = 0x1F80 | ((uintptr_t)0x037F << 32);   /* MXCSR, x87 CW defaults */
    for (int i = 1; i <= 6; i++)
        sp[i] = 0;                                /* r15..rbp */
    sp[7] = (uintptr_t)sched__gostart;            /* return address */
    gp->sp = (uintptr_t)sp;
}

/* Zeroes the top of a reused stack for a runtime goroutine: those live
 * for the whole program, and the collector scans stacks conservatively,
 * so a dead pointer left in a hole of their frames by the stack's last
 * user would stay a root for good. Rare: not worth doing for every G. */
static void scrub_stack_top(g_t *gp)
{
    uintptr_t lo = gp->stack_hi - SCHED_SCRUB_BYTES;
    if (lo < gp->stack_lo)
        lo = gp->stack_lo;
    memset((void *)lo, 0, gp->stack_hi - lo);
}

/* A dead stack G of the current stack size: the P's hottest, or new. */
static g_t *stackg(p_t *p)
{
    g_t *gp = gfget(p);
    if (gp && gp->stacksize != sched__stack_size)
        gp = NULL;   /* stack size changed: the old G stays dead */
    if (gp == NULL) {
        gp = sched__stackalloc_g(sched__stack_size);
        atomic_store(&gp->status, G_DEAD);
        allgadd(&gp, 1);
        atomic_fetch_add(&sched__stack_inuse, gp->stacksize);
    }
    return gp;
}

g_t *sched__gstart(p_t *p, g_t *ug)
{
    runtime__assert(ug->unstarted && atomic_load(&ug->status) == G_RUNNABLE);
    g_t *gp = stackg(p);
    gp->fn = ug->fn;
    gp->arg = ug->arg;
    gp->gopc = ug->gopc;
    gp->system = ug->system;
    gp->goid = ug->goid;
    gp->waitreason = NULL;
    gp->lockedm = NULL;
    gp->frame = NULL;
    gp->panic = NULL;
    gp->goexiting = false;
    gp->waiting = NULL;
    gp->param = NULL;
    atomic_store_explicit(&gp->preempt, false, memory_order_relaxed);
    if (gp->system)
        scrub_stack_top(gp);
    gcontext_init(gp);
    atomic_store_explicit(&gp->status, G_RUNNABLE, memory_order_release);
    atomic_store_explicit(&ug->status, G_DEAD, memory_order_release);
    uput(p, ug);
    return gp;
}
