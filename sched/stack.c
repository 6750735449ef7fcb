/*
 * sched/stack.c -- goroutine stacks and the G descriptors that live on them.
 *
 * Each goroutine gets one fixed-size slot carved from a large mmap'd chunk:
 *
 *     [guard page?][ ... stack grows down ... ][g_t][canary of slot above]
 *     ^slot base   ^stack_lo          stack_hi ^
 *
 * The G descriptor sits at the very top of its own stack, so a parked
 * goroutine costs the one page that holds its descriptor and its few top
 * frames, and nothing else. Pages are committed by the kernel on first
 * touch (MAP_NORESERVE): a 64 KiB stack that uses 3 KiB costs one page.
 *
 * Every stack has a guard page below it where the kernel can install one
 * inside a mapping without splitting it (madvise MADV_GUARD_INSTALL,
 * Linux 6.13+): then a million stacks cost no more mappings than a few
 * chunks. Elsewhere (older kernels, or GORT_STACK_GUARD=mprotect) a guard
 * page is an mprotect'ed page, which splits a mapping and so costs two of
 * the kernel's vm.max_map_count mappings: stacks get one while the budget
 * (an eighth of max_map_count) lasts; later ones come unguarded from big
 * chunks and rely on a canary: a magic word just below stack_lo,
 * checked on every switch away from the G and by stack scans. The canary
 * lives in the top page of the slot below (a chunk starts with one spare
 * page for its first slot), which that slot's own descriptor keeps
 * resident anyway: the check costs no extra page per goroutine. Each
 * unguarded chunk still begins with one guard page.
 *
 * Stacks are never unmapped: a dead G keeps its stack for reuse (G
 * descriptors are never freed, which the scheduler relies on).
 */
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "internal.h"

/* Valgrind's client requests cost a few instructions outside valgrind. */
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define STACK_VALGRIND 1
#else
#define STACK_VALGRIND 0
#endif

#define STACK_PAGE            4096
#define STACK_CANARY          0x676f72747374616bULL  /* "gortstak" */
#define STACK_GUARDED_CHUNK   64      /* slots per guarded chunk */
#define STACK_UNGUARDED_CHUNK 1024    /* slots per unguarded chunk */
#define STACK_MAX_CHUNKS      65536
#define STACK_INSTALLED_CHUNK 1024    /* slots per chunk with installed guards */

/* A sanitizer's frames are larger (ASan's redzones around every local
 * whose address is taken, TSan's bookkeeping): as in Go's race build, a
 * goroutine there gets a multiple of the stack it asked for, so that a
 * program that fits in the default build fits there too. Limits and
 * messages keep the size asked for. */
#if GORT_ASAN || GORT_TSAN
#define STACK_MULT            2
#else
#define STACK_MULT            1
#endif

#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL    102     /* Linux 6.13 */
#endif

typedef struct {
    uintptr_t base, end;   /* [base, end) */
    size_t stride;         /* bytes per slot */
    bool guarded;
} stack_chunk_t;

size_t sched__stack_size = RUNTIME_STACK_DEFAULT;
_Atomic uint64_t sched__stack_inuse;

static runtime_lock_t stacklock;
static stack_chunk_t *chunks;          /* sorted by base (mmap grows down or up: we sort) */
static int nchunks;
static uintptr_t cur, curend;          /* free slots of the newest chunk */
static size_t curstride;
static bool curguarded;
static long guard_budget = -1;         /* guarded slots left (mprotect) */
static int guard_install = -1;         /* 1: MADV_GUARD_INSTALL, 0: mprotect */
_Atomic uint64_t sched__stack_guards;  /* stacks made with a guard page */

/* Whether the kernel installs guard regions inside a mapping, unless
 * GORT_STACK_GUARD=mprotect asks for the fallback (or =none for no guard). */
static bool probe_guard_install(void)
{
    if (runtime__debug.stack_guard_mprotect || runtime__debug.stack_guard_none)
        return false;
    void *p = mmap(NULL, 2 * STACK_PAGE, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return false;
    bool ok = madvise(p, STACK_PAGE, MADV_GUARD_INSTALL) == 0;
    munmap(p, 2 * STACK_PAGE);
    return ok;
}

bool sched__stack_guard_installs(void)
{
    runtime__lock(&stacklock);
    if (guard_install < 0)
        guard_install = probe_guard_install();
    bool r = guard_install;
    runtime__unlock(&stacklock);
    return r;
}

/* Reads vm.max_map_count once; a quarter of it goes to guard pages. With
 * read and a digit loop, not stdio's scanf and strtol: those would be the
 * only callers of their libc pages in an idle program's resident set. */
static long initial_guard_budget(void)
{
    long max = 65530;
    char buf[32];
    int fd = open("/proc/sys/vm/max_map_count", O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        ssize_t n = read(fd, buf, sizeof buf - 1);
        close(fd);
        long v = 0;
        for (ssize_t i = 0; i < n && buf[i] >= '0' && buf[i] <= '9' && v < (1L << 40); i++)
            v = v * 10 + (buf[i] - '0');
        if (v > 0)
            max = v;
    }
    return max / 8;   /* each guard costs ~2 mappings: a quarter of the map */
}

/* Records a chunk so that a faulting address can be mapped to its G. */
static void chunk_add(uintptr_t base, uintptr_t end, size_t stride, bool guarded)
{
    if (chunks == NULL)
        chunks = runtime__malloc(sizeof(stack_chunk_t) * STACK_MAX_CHUNKS);
    if (nchunks == STACK_MAX_CHUNKS)
        runtime__throw("too many goroutine stack chunks");
    int i = nchunks++;
    while (i > 0 && chunks[i - 1].base > base) {
        chunks[i] = chunks[i - 1];
        i--;
    }
    chunks[i] = (stack_chunk_t){base, end, stride, guarded};
}

/* Maps a new chunk of slots of the current stack size. stacklock held. */
static void chunk_new(size_t size)
{
    if (guard_install < 0)
        guard_install = probe_guard_install();
    if (guard_budget < 0)   /* GORT_STACK_GUARD=none: every chunk as past the budget */
        guard_budget = runtime__debug.stack_guard_none ? 0 : initial_guard_budget();
    bool guarded = guard_install || guard_budget >= STACK_GUARDED_CHUNK;
    size_t stride = size + (guarded ? STACK_PAGE : 0);
    size_t n = guard_install ? STACK_INSTALLED_CHUNK
                             : guarded ? STACK_GUARDED_CHUNK : STACK_UNGUARDED_CHUNK;
    /* An unguarded chunk starts with a guard page and the canary page of
     * slot 0: a runaway recursion that skipped every canary check still
     * stops at the chunk's end instead of running through the next one. */
    size_t pad = guarded ? 0 : 2 * STACK_PAGE;
    size_t len = stride * n + pad;
    void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED)
        runtime__throw("out of memory allocating goroutine stack");
    uintptr_t base = (uintptr_t)p;
    if (!guarded && mprotect(p, STACK_PAGE, PROT_NONE) != 0)
        runtime__throw("mprotect of stack chunk guard page failed");
    if (guarded && !guard_install) {   /* installed guards: per slot, when used */
        guard_budget -= (long)n;
        for (size_t i = 0; i < n; i++)
            if (mprotect((void *)(base + i * stride), STACK_PAGE, PROT_NONE) != 0)
                runtime__throw("mprotect of stack guard page failed");
    }
    base += pad;
    chunk_add(base, base + stride * n, stride, guarded);
    cur = base;
    curend = base + stride * n;
    curstride = stride;
    curguarded = guarded;
}

/* The G descriptor of a slot: at its top, below the word reserved for
 * the canary of the slot above. */
static g_t *slot_g(uintptr_t slot, size_t stride)
{
    return (g_t *)((slot + stride - 64 - sizeof(g_t)) & ~(uintptr_t)63);
}

/* Allocates a fresh, zeroed G at the top of a fresh stack slot for a
 * stack of size bytes. */
g_t *sched__stackalloc_g(size_t asked)
{
    size_t size = asked * STACK_MULT;
    runtime__lock(&stacklock);
    if (cur >= curend || curstride != size + (curguarded ? STACK_PAGE : 0))
        chunk_new(size);
    uintptr_t slot = cur;
    bool guarded = curguarded;
    cur += curstride;
    runtime__unlock(&stacklock);

    if (guarded && guard_install && madvise((void *)slot, STACK_PAGE, MADV_GUARD_INSTALL) != 0)
        runtime__throw("madvise(MADV_GUARD_INSTALL) of a stack guard page failed");
    if (guarded)
        atomic_fetch_add_explicit(&sched__stack_guards, 1, memory_order_relaxed);
    g_t *g = slot_g(slot, size + (guarded ? STACK_PAGE : 0));
    g->stack_base = slot;
    g->stacksize = asked;
    g->stack_lo = slot + (guarded ? STACK_PAGE : 0);
    g->stack_hi = (uintptr_t)g & ~(uintptr_t)15;
    if (!guarded) {
        g->canary = (uint64_t *)(slot - sizeof(uint64_t));
        *g->canary = STACK_CANARY;
    }
    /* The last word of the slot: the canary of the slot above, next to our
     * descriptor. An overflow from above crosses it before it reaches our
     * descriptor and saved registers (sched__stackcheck_above). */
    *sched__canary_above(g) = STACK_CANARY;
#if STACK_VALGRIND
    /* Valgrind takes a jump into a registered stack for a switch, not for
     * a huge stack frame; the stack lives as long as the program. */
    (void)VALGRIND_STACK_REGISTER(g->stack_lo, g->stack_hi);
#endif
    return g;
}

/* Throws if the G's canary word was overwritten: its stack overflowed. */
void sched__stackcheck(g_t *gp)
{
    if (unlikely(gp->canary && *gp->canary != STACK_CANARY)) {
        runtime__printf("runtime: goroutine stack exceeds %zu-byte limit\n"
                        "runtime: goroutine %lld: stack=[%#lx, %#lx] canary overwritten\n",
                        gp->stacksize, (long long)gp->goid,
                        (unsigned long)gp->stack_lo, (unsigned long)gp->stack_hi);
        runtime__throw("stack overflow");
    }
}

void sched__stackcheck_above(g_t *gp)
{
    if (unlikely(*sched__canary_above(gp) != STACK_CANARY)) {
        runtime__printf("runtime: goroutine stack exceeds its limit: the goroutine "
                        "whose stack lies above goroutine %p's overran into it\n",
                        (void *)gp);
        runtime__throw("stack overflow");
    }
}

/* Maps an address to the G whose guard page or canary area holds it. */
g_t *sched__stack_guard_owner(uintptr_t addr)
{
    for (int i = 0; i < nchunks; i++) {
        stack_chunk_t *c = &chunks[i];
        if (addr < c->base || addr >= c->end)
            continue;
        uintptr_t slot = c->base + (addr - c->base) / c->stride * c->stride;
        g_t *g = slot_g(slot, c->stride);
        if (addr < g->stack_lo + STACK_PAGE)
            return g;
        return NULL;
    }
    return NULL;
}

/* Bytes of goroutine stack memory actually resident (mincore over every
 * chunk, a page vector at a time): what MemStats.StackInuse means here.
 * Costs one system call per 16 MiB of stack address space. */
uint64_t sched__stack_resident(void)
{
    enum { VEC = 4096 };   /* pages per mincore call */
    unsigned char vec[VEC];
    uint64_t pages = 0;
    runtime__lock(&stacklock);
    for (int i = 0; i < nchunks; i++) {
        for (uintptr_t a = chunks[i].base; a < chunks[i].end; a += (uintptr_t)VEC * STACK_PAGE) {
            size_t len = chunks[i].end - a;
            if (len > (size_t)VEC * STACK_PAGE)
                len = (size_t)VEC * STACK_PAGE;
            if (mincore((void *)a, len, vec) != 0)
                continue;
            for (size_t k = 0; k < len / STACK_PAGE; k++)
                pages += vec[k] & 1;
        }
    }
    runtime__unlock(&stacklock);
    return pages * STACK_PAGE;
}

void sched__stack_release_below(g_t *gp, uintptr_t sp)
{
    if (sp < gp->stack_lo || sp > gp->stack_hi)
        return;   /* not a stack pointer of this stack: keep everything */
    uintptr_t hi = (sp - STACK_PAGE) & ~(uintptr_t)(STACK_PAGE - 1);
    uintptr_t lo = (gp->stack_lo + STACK_PAGE - 1) & ~(uintptr_t)(STACK_PAGE - 1);
    /* MADV_DONTNEED keeps guard regions (MADV_GUARD_INSTALL) in place. */
    if (hi > lo)
        madvise((void *)lo, hi - lo, MADV_DONTNEED);
}

int debug_set_max_stack(int bytes)
{
    int old = (int)sched__stack_size;
    if (bytes < RUNTIME_STACK_MIN)
        bytes = RUNTIME_STACK_MIN;
    sched__stack_size = ((size_t)bytes + STACK_PAGE - 1) & ~(size_t)(STACK_PAGE - 1);
    return old;
}
