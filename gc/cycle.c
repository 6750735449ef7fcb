/*
 * gc/cycle.c -- the collection cycle: its phases, assists, the helper.
 *
 * Owns: starting a cycle when the heap reaches its trigger, runtime_gc,
 * runtime_set_gc_percent, the cycle's phases (sweep termination and mark
 * setup with the world stopped; the root jobs and the mark beside the
 * program; termination detection; mark termination with the world
 * stopped; the goal it sets is pacer.c's), mark assists, the GC helper
 * goroutine that runs cycles the allocators ask for (and sysmon's
 * 2-minute forced GC, and P-less allocators), and the cycle-start hooks
 * (gc__on_cycle_start: sync.Pool's cleanup).
 * May call: every gc/ file, sched stop/start the world, park/ready,
 * gosched, and the registered hooks (world stopped; they neither
 * allocate nor block).
 * Invariants: at most one cycle runs (gc__state.cycle_lock); a cycle runs
 * on a user or system goroutine that holds no runtime lock; the world is
 * stopped only for the two phase flips (and the flushes of termination
 * detection), for work that does not grow with the heap or the number of
 * goroutines; with GODEBUG=gcstoptheworld=1 (=2: the sweep too) it stays
 * stopped throughout.
 */
#include "internal.h"

gc__state_t gc__state;

static runtime_lock_t helper_lock;
static g_t *helper_g;
static bool helper_idle;
static _Atomic uint32_t bg_started;

static void helper_loop(void *arg);

/* Where a cycle beside the program is, for assists. */
enum { ASSIST_IDLE, ASSIST_STARTING, ASSIST_MARKING, ASSIST_DONE };
static _Atomic int assist_phase;
static g_t *cycle_g;                  /* the goroutine running the cycle */
static runtime_lock_t assist_lock;
static g_t *assist_waiters;           /* parked in "GC assist wait", by schedlink */
static _Atomic uint64_t side_marked;  /* bytes marked beside the cycle's own marker */
static uint64_t assist_live0;          /* heap_live at mark setup */
static _Atomic int64_t assist_ns;      /* time mutators spent marking, this cycle */
static _Atomic int64_t idle_ns;        /* time idle Ps spent marking, this cycle */
/* Allocators waiting past the goal, under assist_lock: their number and
 * the sum of (end - start) of their waits, counting `end` for those still
 * waiting at mark termination. The wait is the collector's time as much as
 * an assist's marking is: the pacer counts it so (a trigger too late shows
 * as waits, not as allocation). */
static int assist_waiting;
static int64_t assist_wait_ns;
static int64_t worker_ns;              /* time the mark workers spent, this cycle */
static void clear_dead_stack(void);

/* Starts the helper and sweeper goroutines once, from a goroutine. */
void gc__bg_start(void)
{
    if (atomic_load_explicit(&bg_started, memory_order_relaxed) || atomic_exchange(&bg_started, 1))
        return;
    sched__go_system(helper_loop, NULL);
    sched__go_system(gc__bgsweep, NULL);
}

/* Wakes the helper goroutine if it is parked. Any context. */
static void helper_wake(void)
{
    runtime__lock(&helper_lock);
    if (helper_idle && helper_g) {
        helper_idle = false;
        sched__ready(helper_g, false);
    }
    runtime__unlock(&helper_lock);
}

/* The helper: runs a cycle each time it is woken. */
static void helper_loop(void *arg)
{
    (void)arg;
    helper_g = sched__getg();
    for (;;) {
        runtime__lock(&helper_lock);
        helper_idle = true;
        sched__parkunlock(&helper_lock, "force gc (idle)");
        gc__cycle(false);
    }
}

void gc__maybe_start(uint64_t allocated)
{
    if (atomic_load_explicit(&gc__state.heap_live, memory_order_relaxed) <
        atomic_load_explicit(&gc__state.trigger, memory_order_relaxed))
        return;
    if (!gc__limiter_allows())
        return;
    m_t *m = sched__getm();
    bool g = m && m->curg && m->p && m->locks == 0;
    if (atomic_load_explicit(&gc__state.cycle_lock, memory_order_relaxed)) {
        /* A cycle runs: past the trigger, an allocator helps it mark
         * (or waits for it) rather than allocate on. */
        if (g)
            gc__assist(allocated);
        return;
    }
    bool past_goal = atomic_load_explicit(&gc__state.heap_live, memory_order_relaxed) >=
                     atomic_load_explicit(&gc__state.next_gc, memory_order_relaxed);
    if (g && (runtime__debug.gcstoptheworld > 0 || past_goal)) {
        /* The allocator runs the cycle itself: with the world stopped
         * throughout, or because the helper has not started one before the
         * goal (it marks beside the others, and this one waits). */
        gc__bg_start();
        clear_dead_stack();
        if (!gc__cycle(false))
            gc__assist(allocated);   /* another goroutine's cycle runs: help it or wait */
    } else if (g) {
        /* Between the trigger and the goal the cycle runs on the helper
         * goroutine, beside this one: wake it and let it start (at
         * GOMAXPROCS=1 it needs this P). */
        gc__bg_start();
        helper_wake();
        sched__gosched();
    } else {
        helper_wake();
    }
}

/* Zeroes dead stack below the caller (at most GC_STACK_CLEAR bytes,
 * keeping clear of the stack's low end). The collector's own frames are
 * built there next; without this, their padding and not-yet-written
 * slots would show the conservative scan stale pointers left by deeper
 * calls (a discarded tree's root, say) and keep garbage alive. */
static GORT_NOINLINE void clear_dead_stack(void)
{
    g_t *g = sched__getg();
    uintptr_t sp = (uintptr_t)__builtin_frame_address(0);
    if (!g || sp < g->stack_lo + 2 * GC_STACK_CLEAR)
        return;
    /* rep stos, not memset: no call builds a frame in the memory being
     * cleared (a sanitizer's memset is an interceptor with frames of its
     * own), so the clearing reaches this frame's red zone. */
    uintptr_t rsp;
    __asm__ volatile("mov %%rsp, %0" : "=r"(rsp));
    uintptr_t lo = sp - GC_STACK_CLEAR;
    uintptr_t n = (rsp - 128 - lo) / sizeof(uintptr_t);
    __asm__ volatile("rep stosq" : "+D"(lo), "+c"(n) : "a"((uintptr_t)0) : "memory");
}

/* Sweeps what the last cycle left unswept, yielding every few spans so
 * that at GOMAXPROCS=1 the program keeps running. */
static void sweep_beside(void)
{
    for (int n = 1; gc__sweep_one(); n++)
        if (n % GC_SWEEP_YIELD == 0)
            sched__gosched();
}

/* Functions run at the start of every cycle, world stopped (sync.Pool's
 * cleanup); appended under the caller's own lock, read by the cycle. */
#define GC_CYCLE_HOOKS 4
static void (*cycle_hooks[GC_CYCLE_HOOKS])(void);
static _Atomic int ncycle_hooks;

void gc__on_cycle_start(void (*fn)(void))
{
    int n = atomic_load(&ncycle_hooks);
    if (n == GC_CYCLE_HOOKS)
        runtime__throw("gc: too many cycle hooks");
    cycle_hooks[n] = fn;
    atomic_store(&ncycle_hooks, n + 1);
}

/* Sweep termination, world stopped and gc__shared_lock held: every cache
 * back to the central lists, every span swept, the cycle hooks run. */
static void sweep_termination(void)
{
    int procs = atomic_load(&sched__gomaxprocs);
    for (int i = 0; i < procs; i++)
        if (sched__allp[i] && sched__allp[i]->mcache)
            gc__mcache_release_all(sched__allp[i]->mcache);
    gc__mcache_release_all(&gc__shared_cache);
    gc__finish_sweep();
    for (int i = 0, n = atomic_load(&ncycle_hooks); i < n; i++)
        cycle_hooks[i]();
}

/* Mark setup, world stopped: the barrier and black allocation on, the
 * cycle's stack scans opened (from here no G runs with an unscanned
 * stack) and this G's own stack scanned into w. Nothing here grows with
 * the heap or the number of goroutines. */
static void mark_setup(gc__work_t *w)
{
    assist_live0 = atomic_load(&gc__state.heap_live);
    atomic_store(&assist_ns, 0);
    atomic_store(&idle_ns, 0);
    assist_waiting = 0;
    assist_wait_ns = 0;
    gc__work_init(w);
    atomic_store(&gc__phase, GC_PHASE_MARK);
    gc__wb_enabled = true;
    atomic_store(&gc__black_alloc, true);
    gc__stackscan_setup(w);
    gc__workers_start(atomic_load(&sched__gomaxprocs));
}

/* The root jobs, stacks first: every other goroutine's stack (yielding
 * between batches when the world runs), then globals, registered roots,
 * timers, and the referents of finalizable objects. */
static void mark_roots(gc__work_t *w, bool world_runs)
{
    gc__stackscan_walk(w, world_runs);
    gc__mark_roots(w);
    gc__finalizer_mark(w);
}

/* Objects a marker scans between yields (GORT_GC_MARK_BUDGET). */
static int mark_budget(void)
{
    return runtime__debug.gc_mark_budget > 0 ? runtime__debug.gc_mark_budget : GC_MARK_BUDGET;
}

/* The mark beside the program: this goroutine drains the grey objects a
 * budget at a time, shares what it holds with assists, and yields between
 * budgets, so that at GOMAXPROCS=1 the program keeps running too. */
static void mark_concurrent(gc__work_t *w, gc__trace_t *t)
{
    atomic_store(&assist_phase, ASSIST_MARKING);
    for (;;) {
        int64_t t0 = runtime__nanotime();
        bool done = gc__drain_some(w, mark_budget());
        t->bg_ns += runtime__nanotime() - t0;
        if (done)
            break;
        gc__work_share(w);
        if (gc__work_pending())
            sched__wakep();   /* an idle P marks what was shared */
        sched__gosched();
    }
    atomic_store(&assist_phase, ASSIST_DONE);
}

/* Termination detection, world stopped: every P's barrier buffer is
 * flushed to the global list; true if that (or anyone) left grey objects
 * there. */
static bool mark_pending(void)
{
    gc__wb_flush();
    return gc__work_pending();
}

/* The mark beside the program and its termination: marks until no grey
 * object is left, stops the world, and if the barrier buffers held more,
 * starts it again to mark that too (GC_MARK_ROUNDS times at most), so
 * that mark termination finds little. Returns with the world stopped. */
static void mark_until_done(gc__work_t *w, gc__trace_t *t)
{
    int64_t r0 = runtime__nanotime();
    mark_roots(w, true);
    t->bg_ns = runtime__nanotime() - r0;   /* with the yields of the stack walk */
    mark_concurrent(w, t);
    for (int round = 1;; round++) {
        t->t2 = runtime__nanotime();
        sched__stop_the_world("GC mark termination");
        if (round == GC_MARK_ROUNDS || !mark_pending())
            return;
        sched__start_the_world();
        t->reround_ns += runtime__nanotime() - t->t2;
        mark_concurrent(w, t);
    }
}

/* ------------------------------------------------------------------ */
/* mark assists                                                        */
/* ------------------------------------------------------------------ */


/* unlockf of an assist that waits: queued unless the mark is over. */
static bool assist_park_commit(g_t *gp, void *arg)
{
    (void)arg;
    if (atomic_load(&assist_phase) == ASSIST_IDLE) {   /* the cycle is over */
        runtime__unlock(&assist_lock);
        return false;
    }
    gp->schedlink = assist_waiters;
    assist_waiters = gp;
    assist_waiting++;
    assist_wait_ns -= runtime__nanotime();   /* the wait ends at mark termination */
    runtime__unlock(&assist_lock);
    return true;
}

/* What allocators waited past the goal this cycle, until end. */
static int64_t assist_waited(int64_t end)
{
    runtime__lock(&assist_lock);
    int64_t ns = assist_wait_ns + assist_waiting * end;
    runtime__unlock(&assist_lock);
    return ns;
}

/* Readies every assist waiting for the cycle (mark over). */
static void assist_wake_all(void)
{
    runtime__lock(&assist_lock);
    g_t *g = assist_waiters;
    assist_waiters = NULL;
    runtime__unlock(&assist_lock);
    while (g) {
        g_t *next = g->schedlink;
        sched__ready(g, false);
        g = next;
    }
}

/* Bytes an assist marks per byte allocated: what the last cycle found
 * live, over the room left between the heap at mark setup and the goal,
 * so that assists alone would finish the mark as the heap reaches it. */
static double assist_ratio(void)
{
    uint64_t goal = atomic_load(&gc__state.next_gc);
    uint64_t room = goal > assist_live0 + GC_ASSIST_MIN_ROOM ? goal - assist_live0
                                                             : GC_ASSIST_MIN_ROOM;
    return (double)(gc__state.heap_marked ? gc__state.heap_marked : room) / (double)room;
}

/* Marks up to budget grey objects of the global list with a grey set of
 * its own, which goes back to the global list before returning (nothing
 * stays private across the caller's next yield: the mark may terminate
 * meanwhile). Adds the bytes marked to *marked; true if none was left. */
static bool mark_side(int budget, uint64_t *marked)
{
    gc__work_t w;
    gc__work_init(&w);
    bool empty = gc__drain_some(&w, budget);
    *marked += w.marked_bytes;
    gc__work_dispose(&w);
    return empty;
}

/* Marks about debt bytes' worth of grey objects (fewer if none are left),
 * a small budget at a time with a preemption point between. */
static void assist_mark(uint64_t debt)
{
    int64_t t0 = runtime__nanotime();
    uint64_t marked = 0;
    while (!mark_side(GC_ASSIST_BUDGET, &marked) && marked < debt)
        sched__checkpreempt();
    gc__note_marked(marked);
    atomic_fetch_add_explicit(&assist_ns, runtime__nanotime() - t0, memory_order_relaxed);
}

void gc__assist(uint64_t allocated)
{
    if (sched__getg() == cycle_g)
        return;   /* the cycle's own goroutine never waits for itself */
    int ph = atomic_load_explicit(&assist_phase, memory_order_relaxed);
    bool past_goal = atomic_load(&gc__state.heap_live) >= atomic_load(&gc__state.next_gc);
    if (ph == ASSIST_IDLE || (ph != ASSIST_MARKING && !past_goal)) {
        sched__gosched();   /* the world is about to stop: let it */
        return;
    }
    if (!past_goal) {
        /* Between the trigger and the goal: pay for the allocation. */
        uint64_t debt = (uint64_t)((double)(allocated ? allocated : GC_PAGE_SIZE) * assist_ratio());
        assist_mark(debt);
        return;
    }
    /* Past the goal: wait for the mark to end rather than grow the heap. */
    runtime__lock(&assist_lock);
    sched__park(assist_park_commit, NULL, "GC assist wait");
}

void gc__note_marked(uint64_t bytes)
{
    atomic_fetch_add_explicit(&side_marked, bytes, memory_order_relaxed);
}

bool gc__idle_mark(void)
{
    if (atomic_load_explicit(&assist_phase, memory_order_relaxed) != ASSIST_MARKING ||
        !gc__work_pending())
        return false;
    int64_t t0 = runtime__nanotime();
    uint64_t marked = 0;
    (void)mark_side(GC_IDLE_BUDGET, &marked);
    gc__note_marked(marked);
    atomic_fetch_add_explicit(&idle_ns, runtime__nanotime() - t0, memory_order_relaxed);
    return true;
}

/* Mark termination's marking, world stopped: whatever the barrier shaded
 * and the markers left, the finalizer queue, and the barrier off. Returns
 * the bytes marked. */
static uint64_t mark_finish(gc__work_t *w)
{
    gc__wb_flush();
    gc__drain(w);
    gc__finalizer_collect(w);
    gc__drain(w);
    worker_ns = gc__workers_stop();
    gc__wb_enabled = false;
    atomic_store(&gc__black_alloc, false);
    atomic_store(&gc__phase, GC_PHASE_OFF);
    uint64_t marked = w->marked_bytes + atomic_exchange(&side_marked, 0);
    gc__work_dispose(w);
    return marked;
}

/* Mark termination's bookkeeping, world stopped and the shared lock held:
 * caches flushed (what they hold was allocated black), everything
 * unswept, the next cycle paced, the statistics of this one. live0 is
 * heap_live at mark setup: what was allocated since is live too. */
static void mark_termination(gc__trace_t *t, uint64_t marked, uint64_t live0, bool user,
                             bool stw)
{
    int procs = atomic_load(&sched__gomaxprocs);
    for (int i = 0; i < procs; i++)
        if (sched__allp[i] && sched__allp[i]->mcache)
            gc__mcache_release_all(sched__allp[i]->mcache);
    gc__mcache_release_all(&gc__shared_cache);
    uint64_t live = atomic_load(&gc__state.heap_live);
    t->heap1 = live;
    atomic_fetch_add(&gc__heap.sweepgen, 2);
    gc__state.heap_marked = marked;
    gc__state.heap_black = live > live0 ? live - live0 : 0;
    atomic_store(&gc__state.heap_live, marked + gc__state.heap_black);
    t->assist_ns = atomic_load(&assist_ns);
    t->idle_ns = atomic_load(&idle_ns);
    t->bg_ns += worker_ns;
    if (!stw)
        gc__pacer_observe(&(gc__pacer_obs_t){
            .triggered = t->heap0, .live = live, .heap_work = marked,
            .stack_work = gc__stack_scan_bytes, .globals_work = gc__globals_bytes,
            .mark_ns = t->t2 - t->t1, .bg_ns = t->bg_ns,
            .assist_ns = t->assist_ns + assist_waited(t->t2), .idle_ns = t->idle_ns,
            .procs = procs});
    gc__pacer_set(marked + gc__state.heap_black);
    gc__sweep_setup();
    if (runtime__debug.gcstoptheworld == 2)
        gc__finish_sweep();   /* as Go: the sweep too with the world stopped */
    t->heap2 = marked + gc__state.heap_black;
    t->goal = atomic_load(&gc__state.next_gc);
    t->procs = procs;
    uint32_t n = atomic_fetch_add(&gc__state.num_gc, 1) + 1;
    if (user)
        gc__state.num_forced_gc++;
    int64_t end = runtime__nanotime();
    uint64_t pause = stw ? (uint64_t)(end - t->t0)
                         : (uint64_t)(end - t->t2) + (uint64_t)(t->t1 - t->t0) +
                               (uint64_t)t->reround_ns;
    gc__state.pause_total += pause;
    gc__state.pause_ns[(n + 255) % 256] = pause;
    gc__state.gc_cpu_ns += pause * (uint64_t)procs + (uint64_t)(t->bg_ns + t->assist_ns + t->idle_ns);
    /* checkmark's second mark is a debugging aid, not collection work:
     * the limiter does not count it (the cycle counts from after it). */
    gc__limiter_note(t->t0 + t->checkmark_ns, end);
    atomic_store(&gc__state.last_gc, end);
    t->t3 = end;
}

/* Collector body with the world stopped for the whole mark
 * (GODEBUG=gcstoptheworld=1); returns bytes marked. */
static uint64_t mark_stw(void)
{
    gc__work_t w;
    mark_setup(&w);
    mark_roots(&w, false);
    return mark_finish(&w);
}

bool gc__cycle(bool user)
{
    uint32_t z = 0;
    while (!atomic_compare_exchange_strong(&gc__state.cycle_lock, &z, 1)) {
        if (!user)
            return false;
        z = 0;
        sched__gosched();
    }
    bool stw = runtime__debug.gcstoptheworld > 0;
    cycle_g = sched__getg();
    if (!stw)
        atomic_store(&assist_phase, ASSIST_STARTING);
    gc__trace_t t = {.user = user};
    sweep_beside();   /* the stop then finds nothing left to sweep */
    t.t0 = runtime__nanotime();
    sched__stop_the_world("GC");
    runtime__lock(&gc__shared_lock);
    t.heap0 = atomic_load(&gc__state.heap_live);
    sweep_termination();
    uint64_t live0 = atomic_load(&gc__state.heap_live);
    uint64_t marked;
    if (stw) {
        t.t1 = runtime__nanotime();
        marked = mark_stw();
        t.t2 = runtime__nanotime();
    } else {
        gc__work_t w;
        mark_setup(&w);
        t.t1 = runtime__nanotime();
        runtime__unlock(&gc__shared_lock);
        sched__start_the_world();
        mark_until_done(&w, &t);
        runtime__lock(&gc__shared_lock);
        marked = mark_finish(&w);
        if (runtime__debug.gccheckmark) {
            int64_t c0 = runtime__nanotime();
            gc__checkmark();
            t.checkmark_ns = runtime__nanotime() - c0;
        }
    }
    mark_termination(&t, marked, live0, user, stw);
    atomic_store(&assist_phase, ASSIST_IDLE);
    cycle_g = NULL;
    runtime__unlock(&gc__shared_lock);
    /* Released with the world still stopped: once it starts, this G may
     * wait on a run queue while others allocate past the next trigger. */
    atomic_store(&gc__state.cycle_lock, 0);
    sched__start_the_world();
    assist_wake_all();

    gc__finalizer_wake();
    gc__sweeper_wake();
    if (runtime__debug.gctrace > 0)
        gc__trace_print(&t);
    if (user)
        gc__finish_sweep();   /* runtime.GC returns after sweeping */
    return true;
}

void runtime_gc(void)
{
    sched__needg("runtime_gc");
    gc__bg_start();
    clear_dead_stack();
    gc__cycle(true);
}

int runtime_set_gc_percent(int percent)
{
    if (percent < 0)
        percent = -1;
    int old = atomic_exchange(&gc__state.gcpercent, percent);
    gc__pacer_set(gc__state.heap_marked + gc__state.heap_black);
    if (atomic_load(&gc__state.heap_live) >= atomic_load(&gc__state.trigger) && sched__getg())
        gc__maybe_start(0);
    return old;
}

void gc__sysmon(int64_t now)
{
    static int64_t last_scavenge;
    if (atomic_load_explicit(&bg_started, memory_order_relaxed) &&
        !atomic_load(&gc__state.cycle_lock)) {
        int64_t last = atomic_load(&gc__state.last_gc);
        if (last == 0)
            last = gc__state.init_time;
        bool forced = atomic_load(&gc__state.gcpercent) >= 0 &&
                      now - last > gc__state.force_period;
        if (forced || (atomic_load(&gc__state.heap_live) >= atomic_load(&gc__state.trigger) &&
                       gc__limiter_allows()))
            helper_wake();
    }
    /* Scavenger: keep at most goal + 10% of free pages resident. */
    if (now - last_scavenge >= 10 * 1000 * 1000) {
        last_scavenge = now;
        uint64_t goal = atomic_load(&gc__state.next_gc);
        if (goal == UINT64_MAX)
            goal = gc__heap.inuse;
        uint64_t retain = goal + goal / 100 * GC_RETAIN_PCT;
        uint64_t cap = gc__pacer_limit_goal();   /* stay under the memory limit */
        if (retain > cap)
            retain = cap > gc__heap.inuse ? cap : gc__heap.inuse;
        uint64_t resident = gc__heap.sys - gc__heap.released;
        if (resident > retain && gc__heap.freebytes > 0)
            gc__heap_scavenge(resident - retain < GC_SCAVENGE_CHUNK ? resident - retain
                                                                    : GC_SCAVENGE_CHUNK);
    }
}
