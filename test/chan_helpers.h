/*
 * test/chan_helpers.h -- small helpers shared by the channel tests
 * (test/test_chan*.c, test/go/test_chan_*.c).
 *
 * GT_NEW(T, fields...) allocates a T in the GC heap initialised from a
 * compound literal, copying it through gc_memmove so the pointers it holds
 * pass the write barrier (a plain store into a fresh object is not enough
 * while the storing goroutine's stack is still unscanned).
 */
#ifndef GORT_TEST_CHAN_HELPERS_H
#define GORT_TEST_CHAN_HELPERS_H

#include "gort.h"

static inline void *gt_new_copy(const void *v, size_t n)
{
    void *p = gc_alloc(n);
    gc_memmove(p, v, n);
    return p;
}

#define GT_NEW(T, ...) ((T *)gt_new_copy(&(T){__VA_ARGS__}, sizeof(T)))

#endif
