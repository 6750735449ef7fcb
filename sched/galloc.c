/*
 * sched/galloc.c -- G descriptors: allgs, free lists, and unstarted Gs.
 *
 * A goroutine lives in two kinds of descriptor over its life:
 *
 *  - While it has not run yet, it is an *unstarted G*: the first 48
 *    bytes of a g_t (sp, status, goid, fn, arg, gopc), with no stack, in
 *    a dense pool. go() writes those bytes and queues the G; nothing else
 *    is touched. Readers must check `unstarted` before they look past
 *    gopc (sched/internal.h).
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
 * creation PC. Stack Gs are in allgs forever; unstarted Gs are found by
 * walking their chunks (sched__for_each_unstarted), which keeps allgs at
 * one entry per stack. The collector scans an unstarted G's arg, no stack.
 *
 * Free lists: stack Gs are a linked LIFO per P (the hot one first) that
 * spills to a global stack of batches. Unstarted Gs are arrays of
 * pointers per P, moved in batches through a global pool: the Gs a P
 * starts are usually the Gs another P created, and popping from an array
 * does not chase pointers through descriptors last written by that other
 * core.
 *
 * Context: any, with the P of the current M when p != NULL. Locks:
 * sched.gflock, ulock and allglock come after sched.lock and
 * p->timerslock (docs/HACKING.md); a walk of allgs under allglock may
 * take the collector's work lock.
 */
#include <string.h>
#include <sys/mman.h>

#include "internal.h"

#if __has_include(<valgrind/memcheck.h>)
#include <valgrind/memcheck.h>
#define GALLOC_VALGRIND 1
#else
#define GALLOC_VALGRIND 0
#endif

#define SCHED_GFREE_LOCAL   64      /* per-P free stack Gs before spilling */
#define SCHED_UBATCH        64      /* unstarted Gs moved between P and pool at once */
#define SCHED_UHAND         16      /* whole batches the pool keeps as they are */
#define SCHED_GOID_BATCH    16      /* goroutine ids a P takes at once */
#define SCHED_SCRUB_BYTES   (16 * 1024)  /* stack zeroed for runtime goroutines */

_Static_assert(offsetof(g_t, gopc) + sizeof(uintptr_t) <= SCHED_UNSTARTED_SIZE,
               "an unstarted G's fields must fit in SCHED_UNSTARTED_SIZE bytes");
_Static_assert(SCHED_UCACHE >= 2 * SCHED_UBATCH, "per-P cache holds two batches");
_Static_assert(sizeof(g_t) <= SCHED_UCHUNK_TAIL,
               "a debugger reading a whole g_t at a chunk's last slot stays in the chunk");

runtime_lock_t sched__allglock;
g_t **sched__allgs;
_Atomic size_t sched__allglen;
static size_t allgcap;
static _Atomic int64_t goidgen;

typedef struct uchunk uchunk_t;
static g_t *uslot(uchunk_t *c, uint32_t i);

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
    sched__for_each_unstarted(fn, arg);
}

void sched__for_each_unstarted(void (*fn)(g_t *, void *), void *arg)
{
    size_t n = atomic_load_explicit(&sched__nuchunks, memory_order_acquire);
    for (size_t c = 0; c < n; c++) {
        for (uint32_t i = 0; i < SCHED_UCHUNK; i++) {
            g_t *gp = uslot(sched__uchunks[c], i);
            if (atomic_load_explicit(&gp->status, memory_order_acquire) == G_RUNNABLE)
                fn(gp, arg);
        }
    }
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

/* The pool is a set of 1 MiB chunks, each aligned to its size and headed
 * by a bitmap of its free slots, so that a freed G finds its chunk from
 * its address and the pool costs one bit per G: no list node, no pointer
 * array. The chunks are also how walkers find unstarted Gs. */
struct uchunk {
    struct uchunk *next;               /* chunks with free slots */
    int32_t nfree;
    bool listed;                       /* on ufree */
    uint32_t cursor;                   /* word to scan first */
    uint64_t free[(SCHED_UCHUNK + 63) / 64];   /* 1: slot free */
};

_Static_assert(sizeof(uchunk_t) <= SCHED_UCHUNK_HDR, "chunk header fits its page");

static runtime_lock_t ulock;
/* Whole batches on their way from the P that starts goroutines to the one
 * that creates them: passed on as they are, no bitmap work. A fixed few,
 * so that the pool still costs one bit per free G. */
static g_t *uhand[SCHED_UHAND][SCHED_UBATCH];
static int32_t nuhand;
static uchunk_t *ufree;                /* chunks with free slots */
void *sched__uchunks[SCHED_UCHUNK_MAX];
_Atomic size_t sched__nuchunks;

static uchunk_t *uchunk_of(g_t *gp)
{
    return (uchunk_t *)((uintptr_t)gp & ~(uintptr_t)(SCHED_UCHUNK_BYTES - 1));
}

static g_t *uslot(uchunk_t *c, uint32_t i)
{
    return (g_t *)((uintptr_t)c + SCHED_UCHUNK_HDR + (uintptr_t)i * SCHED_UNSTARTED_SIZE);
}

/* Maps a new chunk, every slot free. ulock held. */
static void unewchunk(void)
{
    size_t i = atomic_load_explicit(&sched__nuchunks, memory_order_relaxed);
    if (i == SCHED_UCHUNK_MAX)
        runtime__throw("too many goroutines waiting to start");
    /* Twice the size, then trim, for the alignment uchunk_of needs. */
    size_t len = 2 * (size_t)SCHED_UCHUNK_BYTES;
    void *m = mmap(NULL, len, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (m == MAP_FAILED)
        runtime__throw("out of memory allocating goroutine descriptors");
    uintptr_t lo = (uintptr_t)m;
    uintptr_t base = (lo + SCHED_UCHUNK_BYTES - 1) & ~(uintptr_t)(SCHED_UCHUNK_BYTES - 1);
    if (base > lo)
        munmap(m, base - lo);
    if (lo + len > base + SCHED_UCHUNK_BYTES)
        munmap((void *)(base + SCHED_UCHUNK_BYTES), lo + len - base - SCHED_UCHUNK_BYTES);
    uchunk_t *c = (uchunk_t *)base;
    for (uint32_t k = 0; k < SCHED_UCHUNK; k++)
        c->free[k / 64] |= 1ULL << (k % 64);
    c->nfree = SCHED_UCHUNK;
    c->listed = true;
    c->next = ufree;
    ufree = c;
    sched__uchunks[i] = c;
    atomic_store_explicit(&sched__nuchunks, i + 1, memory_order_release);
}

/* Takes up to k free slots into out[]. ulock held. */
static int32_t utake(g_t **out, int32_t k)
{
    int32_t n = 0;
    while (n < k) {
        if (ufree == NULL)
            unewchunk();
        uchunk_t *c = ufree;
        const uint32_t nw = (SCHED_UCHUNK + 63) / 64;
        for (uint32_t scanned = 0; n < k && c->nfree > 0 && scanned < nw; scanned++) {
            uint32_t w = c->cursor;
            while (c->free[w] && n < k) {
                uint32_t bit = (uint32_t)__builtin_ctzll(c->free[w]);
                c->free[w] &= c->free[w] - 1;
                c->nfree--;
                out[n++] = uslot(c, w * 64 + bit);
            }
            if (c->free[w] == 0)
                c->cursor = (w + 1) % nw;
        }
        if (c->nfree == 0) {
            ufree = c->next;
            c->listed = false;
        }
    }
    return n;
}

/* Refills p's empty cache (or, without a P, returns one G): a batch
 * another P spilled if there is one, else slots from the bitmaps. */
static g_t *urefill(p_t *p)
{
    g_t *one = NULL;
    runtime__lock(&ulock);
    if (p && nuhand > 0) {
        nuhand--;
        memcpy(p->ucache, uhand[nuhand], sizeof uhand[nuhand]);
        p->nucache = SCHED_UBATCH;
    } else if (p) {
        p->nucache = utake(p->ucache, SCHED_UBATCH);
    } else {
        utake(&one, 1);
    }
    runtime__unlock(&ulock);
    return one;
}

/* Marks the n Gs at gs free: as a whole batch handed to the next P that
 * refills while there is room for one, else in their chunks' bitmaps. */
static void uspill(g_t *const *gs, int32_t n)
{
    runtime__lock(&ulock);
    if (n == SCHED_UBATCH && nuhand < SCHED_UHAND) {
        memcpy(uhand[nuhand++], gs, sizeof uhand[0]);
        runtime__unlock(&ulock);
        return;
    }
    for (int32_t i = 0; i < n; i++) {
        uchunk_t *c = uchunk_of(gs[i]);
        uint32_t k = (uint32_t)(((uintptr_t)gs[i] - (uintptr_t)c - SCHED_UCHUNK_HDR) /
                                SCHED_UNSTARTED_SIZE);
        c->free[k / 64] |= 1ULL << (k % 64);
        c->nfree++;
        if (!c->listed) {
            c->listed = true;
            c->next = ufree;
            ufree = c;
        }
    }
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
        sched__prefetchw(p->ucache[p->nucache - 1 - SCHED_PREFETCH]);
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
    uspill(p->ucache, p->nucache);
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
    g_t *gp = uget(p);   /* dead: not read, only written */
    gp->unstarted = true;   /* (a fresh slot is all zero) */
    gp->fn = fn;
    if (unlikely(gc__wb_enabled))
        gc__shade(arg);   /* a store into a G the mark may have passed */
    gp->arg = arg;
    gp->gopc = pc;
    gp->system = system;
    gp->goid = newgoid(p);
    atomic_store_explicit(&gp->status, G_RUNNABLE, memory_order_release);
    return gp;
}

/* Where a G's first context lies: near the top of its stack, aligned. */
static uintptr_t gcontext_sp(const g_t *gp)
{
    return (gp->stack_hi - 80) & ~(uintptr_t)15;
}

/* Lays out a fresh context on gp's stack so that gogo enters gostart. */
static void gcontext_init(g_t *gp)
{
    uintptr_t *sp = (uintptr_t *)gcontext_sp(gp);
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
#if GALLOC_VALGRIND
    /* Below where the stack's last user stood, valgrind has the memory
     * unaddressable; it is the stack's own, being reset. */
    VALGRIND_MAKE_MEM_UNDEFINED((void *)lo, gp->stack_hi - lo);
#endif
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

/* Moves unstarted ug's goroutine onto stack G gp and returns ug to the
 * pool. */
static void gtake(p_t *p, g_t *gp, g_t *ug)
{
    runtime__assert(ug->unstarted && atomic_load(&ug->status) == G_RUNNABLE);
    if (unlikely(gc__wb_enabled))
        gc__shade(ug->arg);   /* the stack G may be scanned already */
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
    atomic_store_explicit(&ug->status, G_DEAD, memory_order_release);
    uput(p, ug);
}

g_t *sched__gstart(p_t *p, g_t *ug)
{
    g_t *gp = stackg(p);
    gtake(p, gp, ug);
    if (gp->system)
        scrub_stack_top(gp);
    gcontext_init(gp);
    atomic_store_explicit(&gp->status, G_RUNNABLE, memory_order_release);
    return gp;
}

uintptr_t sched__greuse(p_t *p, g_t *g, g_t *ug)
{
    runtime__assert(!ug->system && g->stacksize == sched__stack_size);
    gtake(p, g, ug);
    return gcontext_sp(g) + 64;   /* where gogo leaves rsp for gostart */
}
