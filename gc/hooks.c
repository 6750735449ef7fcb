/*
 * gc/hooks.c -- the collector's entry points called by the scheduler.
 *
 * Owns: boot-time set-up (size classes, arena index, roots, pacer, the
 * forced-GC period), per-P cache creation and release.
 * May call: every gc/ file.
 * Environment: GORT_FORCEGC_PERIOD_MS overrides the 2-minute period of
 * the forced GC (for tests; documented in docs/gc.md).
 */
#include <stdlib.h>

#include "internal.h"

void gc__init(void)
{
    gc__sizeclass_init();
    gc__arena_init();
    gc__roots_init();
    for (int i = 0; i < GC_NUM_SPANCLASS; i++) {
        gc__central[i].spanclass = i;
        if (!gc__shared_cache.alloc[i])
            gc__shared_cache.alloc[i] = &gc__emptyspan;
    }
    gc__state.init_time = runtime__nanotime();
    gc__state.force_period = GC_FORCE_PERIOD_NS;
    const char *e = getenv("GORT_FORCEGC_PERIOD_MS");
    if (e && *e) {
        char *end;
        long ms = strtol(e, &end, 10);
        if (*end || ms <= 0)
            runtime__printf("gort: GORT_FORCEGC_PERIOD_MS=%s: not a positive number; using 120000\n", e);
        else
            gc__state.force_period = ms * 1000000LL;
    }
    atomic_store(&gc__state.gcpercent, runtime__debug.gogc < 0 ? -1 : runtime__debug.gogc);
    gc__pacer_init();
    gc__pacer_set(0);
}

void gc__p_init(p_t *p)
{
    if (!p->mcache)
        p->mcache = gc__mcache_new();
    gc__wb_p_init(p);
}

void gc__p_destroy(p_t *p)
{
    if (p->mcache)
        gc__mcache_release_all(p->mcache);
    gc__wb_p_flush(p);   /* shades it holds join the global list */
}
