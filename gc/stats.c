/*
 * gc/stats.c -- runtime_read_mem_stats and the gctrace line.
 *
 * Owns: exact MemStats figures (the world is stopped to subtract the
 * unused slots of cached spans, as Go's ReadMemStats), and Go 1.19's
 * "gc N @Ts P%: ..." line for GODEBUG=gctrace=1.
 * May call: cycle.c state, mcache.c, sched stop/start the world.
 */
#include <string.h>

#include "internal.h"

void runtime_read_mem_stats(runtime_mem_stats_t *ms)
{
    bool stw = sched__getg() != NULL;
    if (stw)
        sched__stop_the_world("read mem stats");
    runtime__lock(&gc__shared_lock);
    uint64_t uobjs = 0, ubytes = 0;
    int procs = atomic_load(&sched__gomaxprocs);
    for (int i = 0; i < procs; i++)
        if (sched__allp[i] && sched__allp[i]->mcache)
            gc__mcache_unused(sched__allp[i]->mcache, &uobjs, &ubytes);
    gc__mcache_unused(&gc__shared_cache, &uobjs, &ubytes);
    memset(ms, 0, sizeof *ms);
    ms->mallocs = atomic_load(&gc__state.nmalloc) - uobjs;
    ms->total_alloc = atomic_load(&gc__state.total_alloc) - ubytes;
    ms->frees = atomic_load(&gc__state.nfree);
    ms->heap_alloc = ms->total_alloc - atomic_load(&gc__state.total_free);
    ms->heap_objects = ms->mallocs - ms->frees;
    runtime__lock(&gc__heap.lock);
    ms->heap_sys = gc__heap.sys;
    runtime__unlock(&gc__heap.lock);
    uint64_t goal = atomic_load(&gc__state.next_gc);
    ms->next_gc = goal == UINT64_MAX ? 0 : goal;
    ms->last_gc = (uint64_t)atomic_load(&gc__state.last_gc);
    ms->pause_total_ns = gc__state.pause_total;
    memcpy(ms->pause_ns, gc__state.pause_ns, sizeof ms->pause_ns);
    ms->num_gc = atomic_load(&gc__state.num_gc);
    ms->num_forced_gc = gc__state.num_forced_gc;
    int64_t el = runtime__nanotime() - gc__state.init_time;
    if (el > 0 && procs > 0)
        ms->gc_cpu_fraction = (double)gc__state.gc_cpu_ns / ((double)el * procs);
    ms->stack_inuse = sched__stack_resident();
    runtime__unlock(&gc__shared_lock);
    if (stw)
        sched__start_the_world();
}

/* Go's itoaDiv: val with dec decimals, written at the end of buf. */
static char *itoa_div(char *end, uint64_t val, int dec)
{
    char *p = end;
    *--p = 0;
    int i = 0;
    do {
        *--p = (char)('0' + val % 10);
        val /= 10;
        if (++i == dec)
            *--p = '.';
    } while (val || i <= dec);
    return p;
}

/* Go's fmtNSAsMS: whole ms from 10 ms up, else two significant digits. */
static char *fmt_ms(char *end, uint64_t ns)
{
    if (ns >= 10000000)
        return itoa_div(end, ns / 1000000, 0);
    uint64_t x = ns / 1000;
    if (x == 0)
        return itoa_div(end, 0, 0);
    int dec = 3;
    while (x >= 100) {
        x /= 10;
        dec--;
    }
    return itoa_div(end, x, dec);
}

void gc__trace_print(const gc__trace_t *t)
{
    char b[10][32];
    uint64_t stw1 = (uint64_t)(t->t1 - t->t0), mark = (uint64_t)(t->t2 - t->t1),
             stw2 = (uint64_t)(t->t3 - t->t2);
    int64_t el = t->t3 - gc__state.init_time;
    int util = el > 0 ? (int)((double)gc__state.gc_cpu_ns / ((double)el * t->procs) * 100) : 0;
    runtime__printf("gc %u @%ss %d%%: %s+%s+%s ms clock, %s+%s/%s/%s+%s ms cpu, "
                    "%lu->%lu->%lu MB, %lu MB goal, %lu MB stacks, %lu MB globals, %d P%s\n",
                    atomic_load(&gc__state.num_gc),
                    itoa_div(b[0] + 32, (uint64_t)(t->t0 - gc__state.init_time) / 1000000, 3),
                    util, fmt_ms(b[1] + 32, stw1), fmt_ms(b[2] + 32, mark),
                    fmt_ms(b[3] + 32, stw2), fmt_ms(b[4] + 32, stw1 * (uint64_t)t->procs),
                    fmt_ms(b[5] + 32, (uint64_t)t->assist_ns), fmt_ms(b[6] + 32, (uint64_t)t->bg_ns),
                    fmt_ms(b[7] + 32, (uint64_t)t->idle_ns), fmt_ms(b[8] + 32, stw2 * (uint64_t)t->procs),
                    (unsigned long)(t->heap0 >> 20), (unsigned long)(t->heap1 >> 20),
                    (unsigned long)(t->heap2 >> 20), (unsigned long)(t->goal >> 20),
                    (unsigned long)(gc__stack_scan_bytes >> 20),
                    (unsigned long)(gc__globals_bytes >> 20), t->procs,
                    t->user ? " (forced)" : "");
}

