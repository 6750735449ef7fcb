/*
 * gc/arena.c -- heap arenas and the address -> span index.
 *
 * Owns: reserving 64 MiB arenas with mmap (from Go's hint address up, so
 * the heap stays one contiguous range when the kernel allows it), the L1
 * table arena number -> gc__arena_t (page -> span), the [lo, hi) bounds
 * scanning uses as a first filter, and committing reserved memory.
 * Reservations are address space only (PROT_NONE, as Go's sysReserve);
 * the page heap commits them as it hands pages out (read-write, counted
 * by the kernel's overcommit accounting, as Go's sysMap), so a request the
 * machine cannot back fails at once with ENOMEM instead of being touched.
 * May call: mmap/munmap, runtime__malloc, throw.
 * Invariants: arenas are arena-aligned and never unmapped; gc__arenas
 * entries are published (release) before gc__heap_hi covers them.
 */
#include <errno.h>
#include <sys/mman.h>

#include "internal.h"

gc__arena_t **gc__arenas;
_Atomic uintptr_t gc__heap_lo, gc__heap_hi;   /* empty until the first arena */
static uintptr_t arena_hint = GC_ARENA_HINT;

/* Maps the L1 table (virtual only: untouched entries cost nothing). */
void gc__arena_init(void)
{
    void *p = mmap(NULL, GC_ARENA_L1 * sizeof(gc__arena_t *), PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED)
        runtime__throw("out of memory");
    gc__arenas = p;
}

/* Reserves size bytes of address space at an arena-aligned address,
 * trying the hint first; 0 if the address space has no such room. */
static uintptr_t arena_map(uintptr_t size)
{
    int flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE;
    for (int tries = 0; tries < 64 && arena_hint + size < ((uintptr_t)1 << GC_ADDR_BITS); tries++) {
        void *p = mmap((void *)arena_hint, size, PROT_NONE, flags, -1, 0);
        if (p == MAP_FAILED)
            break;
        if ((uintptr_t)p == arena_hint) {
            arena_hint += size;
            return (uintptr_t)p;
        }
        munmap(p, size);
        arena_hint += GC_ARENA_SIZE * 16;
    }
    /* Anywhere, aligned by over-mapping and trimming. */
    void *p = mmap(NULL, size + GC_ARENA_SIZE, PROT_NONE, flags, -1, 0);
    if (p == MAP_FAILED)
        return 0;
    uintptr_t a = ((uintptr_t)p + GC_ARENA_SIZE - 1) & ~(GC_ARENA_SIZE - 1);
    if (a > (uintptr_t)p)
        munmap(p, a - (uintptr_t)p);
    uintptr_t end = (uintptr_t)p + size + GC_ARENA_SIZE;
    if (end > a + size)
        munmap((void *)(a + size), end - (a + size));
    if ((a + size) >> GC_ADDR_BITS)
        return 0;
    return a;
}

/* Reserves address space for size bytes; 0 if there is none that large. */
uintptr_t gc__arena_reserve(uintptr_t size)
{
    if (size > GC_MAX_ALLOC)
        return 0;
    return arena_map((size + GC_ARENA_SIZE - 1) & ~(GC_ARENA_SIZE - 1));
}

/* Makes reserved [a, a+n) read-write memory the kernel has agreed to back. */
void gc__arena_commit(uintptr_t a, uintptr_t n)
{
    void *p = mmap((void *)a, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    if (p == MAP_FAILED && errno == ENOMEM)
        runtime__throw("runtime: out of memory");
    if (p != (void *)a) {
        runtime__printf("runtime: mmap(%#lx, %lu) returned %p, %d\n", (unsigned long)a,
                        (unsigned long)n, p, p == MAP_FAILED ? errno : 0);
        runtime__throw("runtime: cannot map pages in arena address space");
    }
}

/* Gives every arena of [base, base+size) its page table and widens the bounds. */
void gc__arena_register(uintptr_t base, uintptr_t size)
{
    /* By arena number: no heap address stays in a register that the
     * allocator's callees spill, where it would pin an object later. */
    for (uintptr_t i = base >> GC_ARENA_SHIFT; i < (base + size) >> GC_ARENA_SHIFT; i++) {
        gc__arena_t *ar = runtime__malloc(sizeof *ar);
        __atomic_store_n(&gc__arenas[i], ar, __ATOMIC_RELEASE);
    }
    if (atomic_load(&gc__heap_hi) == 0 || base < atomic_load(&gc__heap_lo))
        atomic_store(&gc__heap_lo, base);
    if (base + size > atomic_load(&gc__heap_hi))
        atomic_store(&gc__heap_hi, base + size);
}
