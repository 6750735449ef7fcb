/*
 * gc/stackscan.c -- goroutine stacks, scanned one at a time beside the
 * program.
 *
 * Owns: each G's scan token, the walk over the Gs that existed at mark
 * setup (and the arguments of queued unstarted Gs), the scan a G gets on
 * its way back to running, and a goroutine's scan of its own stack on
 * leaving a system call it entered before the cycle.
 * May call: mark.c, sched's G tables (allgs under sched__allglock, the
 * unstarted chunks lock-free), sched__gosched.
 *
 * Invariant: from mark setup until every G of the setup's snapshot has
 * been scanned (gc__stackscan_on), no G runs with an unscanned stack. The
 * M that switches to a G scans it first (sched__gcscan_check), a G that
 * leaves a system call scans itself, and mark setup scans the collecting
 * G. Every other G was switched out when the world stopped. So a stack is
 * scanned only while its goroutine is stopped, once per cycle, and never
 * again: with the hybrid barrier and black allocation, a pointer a
 * scanned G loads later was marked already, or is still reachable from a
 * slot whose overwrite shades it. A G created during the mark starts
 * with nothing on its stack but its argument, which go() shades.
 *
 * The token g->gcscan is 2c once cycle c has scanned the stack and 2c-1
 * while somebody scans it; it is claimed by CAS, so each stack is scanned
 * by one scanner, and a G about to run waits out a scan in progress
 * (which never blocks: it reads a stopped stack and greys what it finds).
 *
 * Context: the walk on the collecting G, holding no lock; before_run on
 * g0 or on the G that switches to gp, with its P; self on the G itself.
 */
#include <setjmp.h>

#include "internal.h"

#define STACKSCAN_BATCH  64          /* Gs read per allglock hold */
#define STACKSCAN_YIELD  (256 << 10) /* bytes of stack scanned between yields */

_Atomic bool gc__stackscan_on;
static uint32_t scan_token;          /* 2c of the running cycle */
static size_t scan_nallg;            /* allgs at mark setup */
static _Atomic uint64_t scan_bytes;  /* stack bytes scanned this cycle */
static int64_t scan_start;           /* coarse time of mark setup */

/* Claims g's scan for this cycle: true if the caller must scan it now,
 * false if it is done (after waiting out a scan in progress). */
static bool claim(g_t *g)
{
    uint32_t tok = scan_token;
    for (;;) {
        uint32_t v = atomic_load(&g->gcscan);
        if (v == tok)
            return false;
        if (v == tok - 1) {
            __builtin_ia32_pause();
            continue;
        }
        if (atomic_compare_exchange_weak(&g->gcscan, &v, tok - 1))
            return true;
    }
}

/* Greys what g's descriptor and stack from lo up hold (the token is
 * claimed; the caller publishes the scan). */
static void scan_stack(gc__work_t *w, g_t *g, uintptr_t lo)
{
    /* The descriptor's fields that may hold GC pointers (not all of it:
     * stale saved registers of an old system call would pin garbage). */
    gc__mark_ptr(w, (uintptr_t)g->arg);
    gc__mark_ptr(w, (uintptr_t)g->param);
    gc__mark_ptr(w, (uintptr_t)g->frame);
    gc__mark_ptr(w, (uintptr_t)g->panic);
    if (lo < g->stack_lo || lo > g->stack_hi)
        lo = g->stack_lo;   /* unknown: the whole stack, conservatively */
    gc__scan_range(w, lo, g->stack_hi);
    if (gc__stackcopy_enabled())
        gc__stackcopy_save(g, lo, g->stack_hi);
    atomic_fetch_add_explicit(&scan_bytes, g->stack_hi - lo, memory_order_relaxed);
    g->gcscansp = lo;
}

/* Scans switched-out g, whose token the caller claimed, and publishes the
 * scan. With shrink (the walk: g stays parked), a goroutine parked since
 * before the cycle first gives back what a burst of deep calls left below
 * its stack pointer, once per park (a system call each, so not on every
 * cycle), while the claim still keeps it from running. */
static void scan_stopped(gc__work_t *w, g_t *g, bool shrink)
{
    uint32_t st = atomic_load_explicit(&g->status, memory_order_acquire);
    if (unlikely(st == G_RUNNING))
        runtime__throwf("gc: goroutine %lld runs with an unscanned stack", (long long)g->goid);
    if (st != G_DEAD && st != G_IDLE) {   /* a later start shades a dead G's argument */
        uintptr_t lo = g->sp;
        if (st == G_SYSCALL) {
            lo = g->syscallsp;
            gc__scan_range(w, (uintptr_t)g->syscallregs, (uintptr_t)(g->syscallregs + 8));
            if (gc__stackcopy_enabled())
                gc__stackcopy_save(g, (uintptr_t)g->syscallregs, (uintptr_t)(g->syscallregs + 8));
        }
        scan_stack(w, g, lo);
        if (shrink && st == G_WAITING && !g->stackshrunk && g->waitsince < scan_start) {
            g->stackshrunk = true;
            sched__stack_release_below(g, lo);
        }
    }
    atomic_store(&g->gcscan, scan_token);
}

/* Scans the calling G's own stack (its registers spilled into this
 * frame) unless this cycle already did. */
static GORT_NOINLINE void scan_self(gc__work_t *w)
{
    jmp_buf regs;
    __builtin_unwind_init();
    setjmp(regs);
    g_t *g = sched__getg();
    if (claim(g)) {
        scan_stack(w, g, (uintptr_t)&regs);
        atomic_store(&g->gcscan, scan_token);
    }
    __asm__ volatile("" : : "r"(&regs) : "memory");
}

void gc__stackscan_before_run(g_t *gp)
{
    if (!claim(gp))
        return;
    gc__work_t w;
    gc__work_init(&w);
    scan_stopped(&w, gp, false);
    gc__note_marked(w.marked_bytes);
    gc__work_dispose(&w);
}

void gc__stackscan_self(void)
{
    gc__work_t w;
    gc__work_init(&w);
    scan_self(&w);
    gc__note_marked(w.marked_bytes);
    gc__work_dispose(&w);
}

void gc__stackscan_setup(gc__work_t *w)
{
    scan_token = 2 * (atomic_load(&gc__state.num_gc) + 1);
    gc__stackcopy_clear();
    atomic_store(&scan_bytes, 0);
    scan_nallg = atomic_load(&sched__allglen);
    scan_start = atomic_load_explicit(&sched__coarsenow, memory_order_relaxed);
    atomic_store(&gc__stackscan_on, true);
    scan_self(w);
}

/* Greys the argument of a queued unstarted G (one that starts meanwhile
 * has it shaded as it moves onto a stack). */
static void scan_unstarted(g_t *g, void *arg)
{
    if (g->unstarted)
        gc__mark_ptr(arg, (uintptr_t)g->arg);
}

void gc__stackscan_walk(gc__work_t *w, bool world_runs)
{
    uint64_t since_yield = 0;
    for (size_t i = 0; i < scan_nallg;) {
        g_t *batch[STACKSCAN_BATCH];
        int n = 0;
        runtime__lock(&sched__allglock);
        while (n < STACKSCAN_BATCH && i < scan_nallg)
            batch[n++] = sched__allgs[i++];
        runtime__unlock(&sched__allglock);
        for (int k = 0; k < n; k++) {
            /* A scan in progress is waited out: one by a goroutine leaving
             * a system call holds no P, so no stop of the world would wait
             * for its grey objects to reach the global list. */
            if (!claim(batch[k]))
                continue;
            uint64_t before = atomic_load_explicit(&scan_bytes, memory_order_relaxed);
            scan_stopped(w, batch[k], true);
            since_yield += atomic_load_explicit(&scan_bytes, memory_order_relaxed) - before + 256;
        }
        if (world_runs && since_yield >= STACKSCAN_YIELD) {
            since_yield = 0;
            gc__work_share(w);
            sched__gosched();
        }
    }
    sched__for_each_unstarted(scan_unstarted, w);
    gc__stack_scan_bytes = atomic_load(&scan_bytes);
    atomic_store(&gc__stackscan_on, false);
}

typedef struct {
    gc__work_t *w;
    uintptr_t self_lo;   /* the calling G's frames live since its scan */
} recheck_t;

/* Checkmark's second look at one stack, world stopped: only where this
 * cycle's scan looked and the frames still live (frames made since hold
 * only what that mark covers, and may hold stale words a precise mark
 * would not see); goroutines started since are skipped. The calling G
 * (the collector's) is running: below its caller's frames lie
 * checkmark's own, made since, whose unwritten slots keep what the
 * cycle's earlier calls left there (span bases, objects being scanned). */
static void recheck_g(g_t *g, void *arg)
{
    recheck_t *rc = arg;
    gc__work_t *w = rc->w;
    uint32_t st = atomic_load(&g->status);
    if (st == G_DEAD || st == G_IDLE)
        return;
    if (g->unstarted) {
        gc__mark_ptr(w, (uintptr_t)g->arg);
        return;
    }
    if (atomic_load(&g->gcscan) != scan_token)
        return;
    gc__mark_ptr(w, (uintptr_t)g->arg);
    gc__mark_ptr(w, (uintptr_t)g->param);
    gc__mark_ptr(w, (uintptr_t)g->frame);
    gc__mark_ptr(w, (uintptr_t)g->panic);
    if (g != sched__getg() && gc__stackcopy_scan(w, g))
        return;
    uintptr_t lo = g == sched__getg() ? rc->self_lo : g->sp;
    if (st == G_SYSCALL) {
        lo = g->syscallsp;
        gc__scan_range(w, (uintptr_t)g->syscallregs, (uintptr_t)(g->syscallregs + 8));
    }
    if (lo < g->gcscansp)
        lo = g->gcscansp;
    gc__scan_range(w, lo, g->stack_hi);
}

void gc__stackscan_recheck(gc__work_t *w, uintptr_t self_lo)
{
    recheck_t rc = {w, self_lo};
    sched__for_each_g(recheck_g, &rc);
}
