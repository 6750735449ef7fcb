/*
 * gc/roots.c -- the root set.
 *
 * Owns: the data and bss segments of the program and of every shared
 * object loaded at start-up (found once with dl_iterate_phdr; the
 * runtime's own dependencies jemalloc, libunwind, liblzma and libgcc_s
 * are skipped: they never hold pointers to GC objects), ranges
 * registered with gc_add_roots, and, per cycle, every goroutine's stack
 * (from its saved stack pointer up, with its saved registers), every G
 * descriptor (entry argument, wake-up parameter), and the runtime timers
 * on every P.
 * May call: sched__for_each_g, mark.c.
 * Invariants: the world is stopped while gc__mark_roots runs; the caller's
 * own callee-saved registers are spilled on its stack first.
 */
#include <link.h>
#include <string.h>

#include "internal.h"

typedef struct { uintptr_t lo, hi; } range_t;

static range_t *globals;
static int nglobals;
static range_t *roots;
static int nroots, roots_cap;
static runtime_lock_t roots_lock;

uint64_t gc__globals_bytes, gc__stack_scan_bytes;

/* dl_iterate_phdr callback: records each writable PT_LOAD segment. */
static int phdr_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size; (void)arg;
    /* The vDSO, and the runtime's own dependencies, which never hold
     * pointers to GC objects (jemalloc alone has 2 MB of bss). */
    static const char *const skip[] = {"linux-vdso", "libjemalloc", "libunwind",
                                       "liblzma", "libgcc_s", NULL};
    for (int k = 0; info->dlpi_name && skip[k]; k++)
        if (strstr(info->dlpi_name, skip[k]))
            return 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_W) || ph->p_memsz == 0)
            continue;
        range_t r = {info->dlpi_addr + ph->p_vaddr, info->dlpi_addr + ph->p_vaddr + ph->p_memsz};
        range_t *n = runtime__malloc((size_t)(nglobals + 1) * sizeof *n);
        if (globals) {
            memcpy(n, globals, (size_t)nglobals * sizeof *n);
            runtime__free(globals, (size_t)nglobals * sizeof *n);
        }
        globals = n;
        globals[nglobals++] = r;
        gc__globals_bytes += r.hi - r.lo;
    }
    return 0;
}

void gc__roots_init(void)
{
    dl_iterate_phdr(phdr_cb, NULL);
}

void gc_add_roots(void *lo, void *hi)
{
    if ((uintptr_t)hi < (uintptr_t)lo)
        go_panic("gc_add_roots: hi < lo");
    runtime__lock(&roots_lock);
    if (nroots == roots_cap) {
        int cap = roots_cap ? roots_cap * 2 : 16;
        range_t *n = runtime__malloc((size_t)cap * sizeof *n);
        if (roots) {
            memcpy(n, roots, (size_t)nroots * sizeof *n);
            runtime__free(roots, (size_t)roots_cap * sizeof *n);
        }
        roots = n;
        roots_cap = cap;
    }
    roots[nroots++] = (range_t){(uintptr_t)lo, (uintptr_t)hi};
    runtime__unlock(&roots_lock);
}

void gc_remove_roots(void *lo, void *hi)
{
    runtime__lock(&roots_lock);
    int j = 0;
    for (int i = 0; i < nroots; i++)
        if (!(roots[i].lo >= (uintptr_t)lo && roots[i].hi <= (uintptr_t)hi))
            roots[j++] = roots[i];
    nroots = j;
    runtime__unlock(&roots_lock);
}

typedef struct {
    gc__work_t *w;
    g_t *self;
    uintptr_t sp_self;
    bool recheck;   /* checkmark: only what this cycle's first scan covered */
} stackctx_t;

/* Scans one goroutine: its descriptor, saved registers and live stack. */
static void scan_g(g_t *g, void *arg)
{
    stackctx_t *ctx = arg;
    uint32_t st = atomic_load(&g->status);
    if (st == G_DEAD || st == G_IDLE)
        return;
    if (g->unstarted) {
        gc__mark_ptr(ctx->w, (uintptr_t)g->arg);
        return;   /* no stack yet, and no fields past gopc */
    }
    uint32_t cycle = atomic_load(&gc__state.num_gc) + 1;
    if (ctx->recheck && g->gcscandone != cycle)
        return;   /* began after mark setup: holds only what that mark covers */
    /* The descriptor's fields that may hold GC pointers (not all of it:
     * stale saved registers of an old system call would pin garbage). */
    gc__mark_ptr(ctx->w, (uintptr_t)g->arg);
    gc__mark_ptr(ctx->w, (uintptr_t)g->param);
    gc__mark_ptr(ctx->w, (uintptr_t)g->frame);
    gc__mark_ptr(ctx->w, (uintptr_t)g->panic);
    uintptr_t lo;
    if (g == ctx->self) {
        lo = ctx->sp_self;
    } else if (st == G_SYSCALL) {
        lo = g->syscallsp;
        gc__scan_range(ctx->w, (uintptr_t)g->syscallregs, (uintptr_t)(g->syscallregs + 8));
    } else {
        lo = g->sp;
    }
    if (lo < g->stack_lo || lo > g->stack_hi)
        lo = g->stack_lo;   /* unknown: the whole stack, conservatively */
    if (ctx->recheck) {
        /* Frames made since mark setup hold only pointers that mark
         * covers, and may hold stale words a precise mark would not see:
         * look only where the first scan looked. */
        if (lo < g->gcscansp)
            lo = g->gcscansp;
        gc__scan_range(ctx->w, lo, g->stack_hi);
        return;
    }
    gc__stack_scan_bytes += g->stack_hi - lo;
    gc__scan_range(ctx->w, lo, g->stack_hi);
    g->gcscandone = cycle;
    g->gcscansp = lo;
}

/* The roots; recheck: checkmark's second mark (see scan_g). */
static void mark_roots(gc__work_t *w, uintptr_t sp_self, bool recheck)
{
    for (int i = 0; i < nglobals; i++)
        gc__scan_range(w, globals[i].lo, globals[i].hi);
    runtime__lock(&roots_lock);
    for (int i = 0; i < nroots; i++)
        gc__scan_range(w, roots[i].lo, roots[i].hi);
    runtime__unlock(&roots_lock);

    if (!recheck)
        gc__stack_scan_bytes = 0;
    stackctx_t ctx = {w, sched__getg(), sp_self, recheck};
    sched__for_each_g(scan_g, &ctx);

    int n = atomic_load(&sched__gomaxprocs);
    for (int i = 0; i < n; i++) {
        p_t *p = sched__allp[i];
        if (!p || !p->timers)
            continue;
        for (int32_t k = 0; k < p->ntimers; k++) {
            sched_timer_t *t = p->timers[k];
            gc__mark_ptr(w, (uintptr_t)t);
            gc__scan_range(w, (uintptr_t)t, (uintptr_t)(t + 1));
        }
    }
}

void gc__mark_roots(gc__work_t *w, uintptr_t sp_self)
{
    uintptr_t sp;
    __asm__ volatile("movq %%rsp, %0" : "=r"(sp));
    mark_roots(w, sp < sp_self ? sp : sp_self, false);
}

void gc__mark_roots_recheck(gc__work_t *w)
{
    mark_roots(w, 0, true);
}
