/*
 * gc/stackcopy.c -- checkmark's copies of goroutine stacks as the
 * concurrent mark scanned them (ThreadSanitizer builds).
 *
 * checkmark's second mark reads each parked goroutine's stack where this
 * cycle's scan read it. Words a goroutine writes there after its scan
 * hold pointers the barrier and black allocation already cover, or stale
 * words a conservative scan may meet. Under TSan the second kind is
 * common: TSan's runtime, entered on every memory access of instrumented
 * code, leaves old heap addresses in the stack below its caller, and the
 * never-written slots of a later frame (padding of gc_alloc's frame, say)
 * keep them, so that a word that points at garbage freed in an earlier
 * cycle looks like a root the concurrent mark missed. So in those builds
 * each scan keeps a copy of the range it read, and the recheck reads the
 * copy: the second mark then starts from exactly the roots the first one
 * had, which is what it checks.
 *
 * Owns: the table of copies, filled by scans during the mark (any M,
 * under copy_lock) and read and emptied by checkmark, world stopped.
 * May call: runtime__malloc/free, the runtime lock.
 */
#include "internal.h"

#define STACKCOPY_BUCKETS 4096      /* a power of two */

typedef struct stackcopy {
    struct stackcopy *next;
    const g_t *g;
    size_t len;                     /* bytes of words[] */
    uintptr_t words[];
} stackcopy_t;

static stackcopy_t *buckets[STACKCOPY_BUCKETS];
static runtime_lock_t copy_lock;

/* The bucket of g's copy. */
static stackcopy_t **bucket(const g_t *g)
{
    return &buckets[((uintptr_t)g >> 6) & (STACKCOPY_BUCKETS - 1)];
}

bool gc__stackcopy_enabled(void)
{
    return GORT_TSAN && runtime__debug.gccheckmark;
}

/* Copies a stack's words the way the scan reads them: uninstrumented,
 * since the goroutine's later writes are ordered after the scan by its
 * token, which TSan does not see. */
static GORT_NO_SANITIZE void copy_words(uintptr_t *dst, uintptr_t lo, size_t len)
{
    for (size_t i = 0; i < len / 8; i++)
        dst[i] = ((const volatile uintptr_t *)lo)[i];
}

void gc__stackcopy_save(const g_t *g, uintptr_t lo, uintptr_t hi)
{
    lo = (lo + 7) & ~(uintptr_t)7;
    size_t len = hi > lo ? (hi - lo) & ~(size_t)7 : 0;
    stackcopy_t *c = runtime__malloc(sizeof *c + len);
    c->g = g;
    c->len = len;
    copy_words(c->words, lo, len);
    runtime__lock(&copy_lock);
    stackcopy_t **b = bucket(g);
    c->next = *b;
    *b = c;
    runtime__unlock(&copy_lock);
}

bool gc__stackcopy_scan(gc__work_t *w, const g_t *g)
{
    bool found = false;
    for (stackcopy_t *c = *bucket(g); c; c = c->next)
        if (c->g == g) {
            gc__scan_range(w, (uintptr_t)c->words, (uintptr_t)c->words + c->len);
            found = true;
        }
    return found;
}

void gc__stackcopy_clear(void)
{
    for (size_t i = 0; i < STACKCOPY_BUCKETS; i++)
        while (buckets[i]) {
            stackcopy_t *c = buckets[i];
            buckets[i] = c->next;
            runtime__free(c, sizeof *c + c->len);
        }
}
