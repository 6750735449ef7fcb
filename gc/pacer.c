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
 * The trigger adapts cycle by cycle, as Go 1.18's pacer: each mark
 * measures the cons/mark ratio -- bytes the program allocated per CPU
 * second over bytes the collector scanned per CPU second -- and a
 * proportional-integral controller smooths it. The next mark, at the goal
 * utilization of 25% of the CPU, needs a runway of
 *   cons/mark * (1 - 0.25) / 0.25 * (marked + stacks + globals)
 * bytes of allocation to scan what this one found, so it starts that far
 * before the goal, kept between 45/64 and 61/64 of the growth from the
 * marked heap to the goal (and no later than GC_HEAP_MIN before a large
 * goal): a program that allocates fast while marking starts early and is
 * not left to assists, one that allocates little starts late and collects
 * less often. With GODEBUG=gcstoptheworld the trigger is the goal: the
 * whole mark stops the world. Allocators past the trigger while a mark
 * runs help it (gc__assist). GODEBUG=gcpacertrace=1 prints the
 * controller's inputs at the end of each cycle, in Go's format.
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
#define GC_GOAL_UTIL          0.25        /* the CPU share a mark is paced for */
#define GC_UTIL_MAX           0.95        /* the most of the CPU a mark is counted to take */
#define GC_TRIGGER_DEN        64          /* the trigger's bounds, in 64ths of the growth: */
#define GC_TRIGGER_MIN_NUM    45          /*   no earlier than ~0.70 of the way to the goal */
#define GC_TRIGGER_MAX_NUM    61          /*   no later than ~0.95 (small heaps) */
#define GC_PI_KP              0.9         /* cons/mark controller: proportional gain, */
#define GC_PI_TI              4.0         /*   integral time (cycles), */
#define GC_PI_TT              1000.0      /*   anti-windup reset time (cycles), */
#define GC_PI_LIMIT           1000.0      /*   and output bound */

static _Atomic int64_t memlimit = INT64_MAX;
static _Atomic int64_t limiter_until;     /* no limit-paced cycle before this */
static _Atomic bool limit_unmet;          /* the limit's goal was below the live heap */

/* The cons/mark estimate and its controller's integral: written at mark
 * termination (world stopped), read when the trigger is set. */
static struct {
    double consmark, integral;
    uint64_t last_goal, last_scan;        /* for gcpacertrace */
} pacer;

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
    atomic_store(&gc__state.trigger, gc__pacer_trigger(marked, goal));
    pacer.last_goal = goal;
    pacer.last_scan = marked + gc__stack_scan_bytes + gc__globals_bytes;
}

/* ------------------------------------------------------------------ */
/* the adaptive trigger                                                */
/* ------------------------------------------------------------------ */

uint64_t gc__pacer_trigger(uint64_t marked, uint64_t goal)
{
    if (runtime__debug.gcstoptheworld > 0 || goal == UINT64_MAX || goal <= marked)
        return goal;
    uint64_t growth = goal - marked;
    uint64_t lo = marked + growth / GC_TRIGGER_DEN * GC_TRIGGER_MIN_NUM;
    uint64_t hi = marked + growth / GC_TRIGGER_DEN * GC_TRIGGER_MAX_NUM;
    if (goal > GC_HEAP_MIN && goal - GC_HEAP_MIN > hi)
        hi = goal - GC_HEAP_MIN;   /* a large heap needs no more room than a small one */
    double scan = (double)(marked + gc__stack_scan_bytes + gc__globals_bytes);
    double runway = pacer.consmark * (1 - GC_GOAL_UTIL) / GC_GOAL_UTIL * scan;
    uint64_t trigger = runway >= (double)goal ? lo : goal - (uint64_t)runway;
    return trigger < lo ? lo : trigger > hi ? hi : trigger;
}

/* One step of the cons/mark controller towards what the last cycle
 * measured; false (and the estimate reset) if it overflowed. */
static bool consmark_step(double measured)
{
    double err = measured - pacer.consmark;
    double raw = GC_PI_KP * err + pacer.integral;
    double out = raw < -GC_PI_LIMIT ? -GC_PI_LIMIT : raw > GC_PI_LIMIT ? GC_PI_LIMIT : raw;
    pacer.integral += GC_PI_KP / GC_PI_TI * err + (out - raw) / GC_PI_TT;
    if (!__builtin_isfinite(raw) || !__builtin_isfinite(pacer.integral)) {
        pacer.consmark = pacer.integral = 0;
        return false;
    }
    pacer.consmark = out;
    return true;
}

/* Writes v as Go's runtime prints a float64 (+d.dddddde+ddd) into b[16]. */
static void fmt_float(char b[16], double v)
{
    int e = 0;
    b[0] = v < 0 ? '-' : '+';
    v = v < 0 ? -v : v;
    if (v != 0) {
        for (; v >= 10; v /= 10) e++;
        for (; v < 1; v *= 10) e--;
        v += 5e-7;             /* round to 7 digits */
        if (v >= 10) { e++; v /= 10; }
    }
    for (int i = 0; i < 7; i++) {
        int d = (int)v;
        b[i == 0 ? 1 : i + 2] = (char)('0' + d);
        v = (v - d) * 10;
    }
    b[2] = '.';
    b[9] = 'e';
    b[10] = e < 0 ? '-' : '+';
    e = e < 0 ? -e : e;
    b[11] = (char)('0' + e / 100);
    b[12] = (char)('0' + e / 10 % 10);
    b[13] = (char)('0' + e % 10);
    b[14] = 0;
}

void gc__pacer_observe(const gc__pacer_obs_t *o)
{
    uint64_t work = o->heap_work + o->stack_work + o->globals_work;
    if (o->live <= o->triggered || o->mark_ns <= 0 || o->procs <= 0 || work == 0)
        return;   /* nothing allocated or scanned beside the mark: nothing learnt */
    double cpu = (double)o->mark_ns * o->procs;
    if (runtime__debug.gcpacertrace > 1)
        runtime__printf("pacer: measured bg %d%% assist %d%% idle %d%%\n", (int)(o->bg_ns * 100 / cpu),
                        (int)(o->assist_ns * 100 / cpu), (int)(o->idle_ns * 100 / cpu));
    double util = GC_GOAL_UTIL + (double)o->assist_ns / cpu;   /* workers assumed on target */
    if (util > GC_UTIL_MAX)
        util = GC_UTIL_MAX;   /* allocators waited more than the mark ran */
    double idle = (double)o->idle_ns / cpu;
    double measured = (double)(o->live - o->triggered) * (util + idle) / ((double)work * (1 - util));
    double old = pacer.consmark;
    bool ok = consmark_step(measured);
    if (runtime__debug.gcpacertrace <= 0)
        return;
    char f[16];
    fmt_float(f, old);
    runtime__printf("pacer: %d%% CPU (%d exp.) for %llu+%llu+%llu B work (%llu B exp.) in %llu B -> "
                    "%llu B (\xe2\x88\x86goal %lld, cons/mark %s)%s\n",
                    (int)(util * 100), (int)(GC_GOAL_UTIL * 100), (unsigned long long)o->heap_work,
                    (unsigned long long)o->stack_work, (unsigned long long)o->globals_work,
                    (unsigned long long)pacer.last_scan, (unsigned long long)o->triggered,
                    (unsigned long long)o->live, (long long)(o->live - pacer.last_goal), f,
                    ok ? "" : "[controller reset]");
}

double gc__pacer_consmark(void)
{
    return pacer.consmark;
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
