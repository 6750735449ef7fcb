/*
 * runtime/malloc.c -- the runtime's own non-GC memory, from jemalloc.
 *
 * M, P, timer and table allocations go through mallocx/sdallocx: fast
 * under threads, and sized frees skip a metadata lookup. Out of memory is
 * fatal, as in Go. A sanitizer build takes them from calloc/free, which
 * the sanitizer's allocator serves and checks.
 */
#include "internal.h"
#include "sanitizer.h"

#if GORT_ASAN || GORT_TSAN
#include <stdlib.h>
#define mallocx(size, flags) calloc(1, (size))
#define sdallocx(p, size, flags) free(p)
#else
#include <jemalloc/jemalloc.h>
#endif

void *runtime__malloc(size_t size)
{
    void *p = mallocx(size ? size : 1, MALLOCX_ZERO);
    if (unlikely(p == NULL))
        runtime__throw("out of memory");
    return p;
}

void runtime__free(void *p, size_t size)
{
    if (p)
        sdallocx(p, size ? size : 1, 0);
}
