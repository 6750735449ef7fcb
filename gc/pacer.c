/*
 * gc/pacer.c -- when the next cycle starts: the heap goal from GOGC and
 * from the soft memory limit (GOMEMLIMIT, debug_set_memory_limit), and
 * the CPU limiter that keeps a limit set too low from stalling the
 * program.
 *
 * The goal is the smaller of
 *   GOGC:  marked + (marked + stacks + globals) * GOGC/100 (Go 1.19), at
 *          least GC_HEAP_MIN * GOGC/100; none with GOGC=off;
 *   limit: the memory limit less what the runtime holds outside heap
 *          objects (goroutine stacks), less GC_LIMIT_HEADROOM_PCT.
 * The trigger is 1/8 of the growth before the goal, so that a mark that
 * runs beside the program ends near the goal (with GODEBUG=gcstoptheworld
 * the trigger is the goal: the whole mark stops the world). Allocators
 * past the trigger while a mark runs help it (gc__assist).
 *
 * A limit below the live heap cannot be met: each cycle would free
 * nothing and the next would start at once. So, as Go's gcCPULimiter
 * caps the collector near 50% of the CPU, while the limit is below the
 * live heap and a cycle lasted longer than the program had run alone
 * since the cycle before, the next cycle waits until the program has run
 * for as long again; meanwhile the heap grows past the limit,
 * and the program slows instead of stopping. A limit that can be met
 * never trips it (a long pause on a loaded machine must not let the heap
 * run away).
 *
 * May call: sched's stack accounting. Context: any; the pacer is set with
 * the world stopped (end of a cycle) or under no lock (GOGC changes).
 */
#include "internal.h"

#define GC_LIMIT_HEADROOM_PCT 3           /* of the limit, as Go's */
#define GC_LIMIT_MIN_GROWTH   (256u << 10) /* room above marked when over the limit */

static _Atomic int64_t memlimit = INT64_MAX;
static _Atomic int64_t limiter_until;     /* no limit-paced cycle before this */
static _Atomic bool limit_unmet;          /* the limit's goal was below the live heap */

/* The heap goal the memory limit allows (UINT64_MAX without a limit). */
uint64_t gc__pacer_limit_goal(void)
{
    int64_t limit = atomic_load_explicit(&memlimit, memory_order_relaxed);
    if (limit == INT64_MAX)
        return UINT64_MAX;
    uint64_t l = (uint64_t)limit;
    uint64_t overhead = gc__stack_scan_bytes + l / 100 * GC_LIMIT_HEADROOM_PCT;
    return l > overhead ? l - overhead : 0;
}

/* The heap goal GOGC asks for after a cycle that marked `marked`. */
static uint64_t gogc_goal(uint64_t marked)
{
    int pct = atomic_load(&gc__state.gcpercent);
    if (pct < 0)
        return UINT64_MAX;
    uint64_t goal = marked + (marked + gc__stack_scan_bytes + gc__globals_bytes) * (uint64_t)pct / 100;
    uint64_t min = (uint64_t)GC_HEAP_MIN * (uint64_t)pct / 100;
    return goal < min ? min : goal;
}

void gc__pacer_set(uint64_t marked)
{
    uint64_t goal = gogc_goal(marked);
    uint64_t lim = gc__pacer_limit_goal();
    bool bylimit = lim < goal, unmet = false;
    if (bylimit) {
        goal = lim;
        if (goal < marked + GC_LIMIT_MIN_GROWTH) {   /* unmeetable: let the heap grow */
            goal = marked + GC_LIMIT_MIN_GROWTH;
            unmet = true;
        }
    }
    atomic_store(&limit_unmet, unmet);
    atomic_store(&gc__state.next_gc, goal);
    /* A mark beside the program starts before the goal, so that it ends
     * near it while the program allocates on (Go's first trigger). */
    uint64_t trigger = goal;
    if (runtime__debug.gcstoptheworld == 0 && goal != UINT64_MAX && goal > marked)
        trigger = goal - (goal - marked) / GC_TRIGGER_HEADROOM;
    atomic_store(&gc__state.trigger, trigger);
}

void gc__limiter_note(int64_t start, int64_t end)
{
    static int64_t prev_end;               /* end of the cycle before; world stopped */
    int64_t ran = start - prev_end;        /* the program alone since then */
    int64_t gc = end - start;              /* this cycle, stopped or beside the program */
    prev_end = end;
    bool over = atomic_load(&limit_unmet) && gc > ran;
    atomic_store(&limiter_until, over ? end + gc : 0);
}

bool gc__limiter_allows(void)
{
    int64_t until = atomic_load_explicit(&limiter_until, memory_order_relaxed);
    return until == 0 || runtime__nanotime() >= until;
}

void gc__pacer_init(void)
{
    atomic_store(&memlimit, runtime__debug.gomemlimit);
}

int64_t debug_set_memory_limit(int64_t limit)
{
    if (limit < 0)
        return atomic_load(&memlimit);
    int64_t old = atomic_exchange(&memlimit, limit);
    gc__pacer_set(gc__state.heap_marked + gc__state.heap_black);
    if (sched__getg())
        gc__maybe_start(0);
    return old;
}
