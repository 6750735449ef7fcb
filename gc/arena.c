/*
 * gc/arena.c -- heap arenas and the address -> span index.
 *
 * Owns: reserving 64 MiB arenas with mmap (from Go's hint address up, so
 * the heap stays one contiguous range when the kernel allows it), the L1
 * table arena number -> gc_arena_t (page -> span), and the [lo, hi) bounds
 * scanning uses as a first filter.
 * May call: mmap/munmap, runtime__malloc, throw.
 * Invariants: arenas are arena-aligned and never unmapped; gc__arenas
 * entries are published (release) before gc__heap_hi covers them.
 */
#include <sys/mman.h>

#include "internal.h"

gc_arena_t **gc__arenas;
_Atomic uintptr_t gc__heap_lo, gc__heap_hi;   /* empty until the first arena */
static uintptr_t arena_hint = GC_ARENA_HINT;

/* Maps the L1 table (virtual only: untouched entries cost nothing). */
void gc__arena_init(void)
{
    void *p = mmap(NULL, GC_ARENA_L1 * sizeof(gc_arena_t *), PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED)
        runtime__throw("out of memory");
    gc__arenas = p;
}

/* Maps size bytes at an arena-aligned address, trying the hint first. */
static uintptr_t arena_map(uintptr_t size)
{
    int flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE;
    for (int tries = 0; tries < 64 && arena_hint + size < ((uintptr_t)1 << GC_ADDR_BITS); tries++) {
        void *p = mmap((void *)arena_hint, size, PROT_READ | PROT_WRITE, flags, -1, 0);
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
    void *p = mmap(NULL, size + GC_ARENA_SIZE, PROT_READ | PROT_WRITE, flags, -1, 0);
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

uintptr_t gc__arena_grow(uintptr_t size)
{
    size = (size + GC_ARENA_SIZE - 1) & ~(GC_ARENA_SIZE - 1);
    uintptr_t base = arena_map(size);
    if (!base)
        runtime__throw("out of memory");
    for (uintptr_t a = base; a < base + size; a += GC_ARENA_SIZE) {
        gc_arena_t *ar = runtime__malloc(sizeof *ar);
        __atomic_store_n(&gc__arenas[a >> GC_ARENA_SHIFT], ar, __ATOMIC_RELEASE);
    }
    if (atomic_load(&gc__heap_hi) == 0 || base < atomic_load(&gc__heap_lo))
        atomic_store(&gc__heap_lo, base);
    if (base + size > atomic_load(&gc__heap_hi))
        atomic_store(&gc__heap_hi, base + size);
    return base;
}
