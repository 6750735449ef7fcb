/*
 * runtime/malloc.c -- the runtime's own non-GC memory, from jemalloc.
 *
 * M, P, timer and table allocations go through mallocx/sdallocx: fast
 * under threads, and sized frees skip a metadata lookup. Out of memory is
 * fatal, as in Go.
 */
#include <jemalloc/jemalloc.h>

#include "internal.h"

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
