/*
 * gc/roots.c -- the root set.
 *
 * Owns: the data and bss segments of the program and of every shared
 * object loaded at start-up (found once with dl_iterate_phdr; the
 * runtime's own dependencies jemalloc, libunwind, liblzma and libgcc_s,
 * and a sanitizer's runtime, are skipped: they never hold pointers to GC
 * objects), ranges
 * registered with gc_add_roots, and the runtime timers on every P
 * (goroutine stacks are stackscan.c's).
 * May call: mark.c, the Ps' timer heaps under their locks.
 * Invariants: the roots are scanned beside the program, so every store of
 * a GC pointer into them goes through the barrier: the user's through
 * gc_store (the GC contract), the runtime's own timer pushes shade the
 * timer (sched/timer.c).
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
     * pointers to GC objects (jemalloc alone has 2 MB of bss); in a
     * sanitizer build the sanitizer's runtime is the allocator in
     * jemalloc's place (TSan's has 48 MB of bss, which would also count
     * in the heap goal as globals). */
    static const char *const skip[] = {"linux-vdso", "libjemalloc", "libunwind",
                                       "liblzma", "libgcc_s", "libtsan", "libasan", NULL};
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

/* Greys what p's timers hold (each timer may live in a GC object); the
 * heap's lock keeps its timers in place while the world runs. */
static void scan_timers(gc__work_t *w, p_t *p)
{
    runtime__lock(&p->timerslock);
    for (int32_t k = 0; k < p->ntimers; k++) {
        sched_timer_t *t = p->timers[k];
        gc__mark_ptr(w, (uintptr_t)t);
        gc__scan_range(w, (uintptr_t)t, (uintptr_t)(t + 1));
    }
    runtime__unlock(&p->timerslock);
}

void gc__mark_roots(gc__work_t *w)
{
    for (int i = 0; i < nglobals; i++)
        gc__scan_range(w, globals[i].lo, globals[i].hi);
    runtime__lock(&roots_lock);
    for (int i = 0; i < nroots; i++)
        gc__scan_range(w, roots[i].lo, roots[i].hi);
    runtime__unlock(&roots_lock);
    /* No stop of the world can come between these reads of allp: this G
     * does not yield here, and the runtime's code is never preempted. */
    int n = atomic_load(&sched__gomaxprocs);
    for (int i = 0; i < n; i++)
        if (sched__allp[i] && sched__allp[i]->timers)
            scan_timers(w, sched__allp[i]);
}
