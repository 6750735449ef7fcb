/*
 * sched/panic.c -- go_call frames, defer, panic, recover, Goexit.
 *
 * Owns: the per-goroutine list of go_call frames (g->frame), each with its
 * LIFO of deferred calls; the list of active panics (g->panic); the
 * unrecovered-panic report; runtime_goexit; sched__call_entry.
 *
 * May call: the scheduler (sched__getg, sched__goexit1), traceback.c for
 * reports, gc_alloc when a frame outgrows its inline defer slots, and
 * symbols (traceback.c) to check that recover is called directly by a
 * deferred call.
 *
 * How it works (see docs/panic.md):
 *  - go_call pushes a frame that lives in its own C stack frame, marks a
 *    recovery point with __builtin_setjmp, calls fn, then runs the frame's
 *    pending defers LIFO and pops it. Each deferred call is itself a frame
 *    (so its own go_defer calls and panics nest as in Go).
 *  - go_panic runs deferred calls from inside its own C frame, deeper on
 *    the stack, walking frames outwards and popping the exhausted ones.
 *    If a deferred call recovered it, go_panic longjmps to that frame's
 *    recovery point: the frame runs its remaining defers and go_call
 *    returns normally. If the frames run out, the panic is fatal.
 *  - A frame whose deferred call was started by panic P carries
 *    deferpanic = P. A newer panic that pops such a frame has run past P's
 *    deferred call: P is aborted (printed, but no longer recoverable), as
 *    Go marks started defers.
 *
 * Invariants:
 *  - g->frame and g->panic are touched only by their own goroutine.
 *  - A frame is on g->frame from go_call's push until its pop; a frame
 *    popped by a panic walk is never resumed except by longjmp to a frame
 *    still on the list.
 *  - Every sched__panic_t on g->panic lives in a C frame that is still
 *    live (go_panic and runtime_goexit never return).
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "traceback.h"

/* ------------------------------------------------------------------ */
/* frames                                                              */
/* ------------------------------------------------------------------ */

static void call_frame(g_t *g, void (*fn)(void *), void *arg,
                       sched__panic_t *dp);

/* Runs the pending defers of f, newest first, each as its own frame. */
static void run_defers(g_t *g, sched__frame_t *f)
{
    while (f->n > 0) {
        runtime_defer_t d = f->defers[--f->n];
        call_frame(g, d.fn, d.arg, NULL);
    }
}

/* One go_call frame around fn(arg); dp != NULL marks a deferred call run
 * by that panic. noinline/noclone: go_recover recognises a deferred
 * function that tail-called it by a return address in this function. */
static GORT_NOINLINE __attribute__((noclone)) void
call_frame(g_t *g, void (*fn)(void *), void *arg, sched__panic_t *dp)
{
    sched__frame_t f;
    f.link = g->frame;
    f.defers = f.inl;
    f.n = 0;
    f.cap = FRAME_INLINE_DEFERS;
    f.deferpanic = dp;
    f.fn = fn;
    g->frame = &f;
    if (__builtin_setjmp(f.jb) == 0) {
        /* No push between here and the call (x86-64 passes arg in rdi). */
        __asm__ volatile("movq %%rsp, %0" : "=r"(f.callsp));
        fn(arg);
    }
    /* Returned normally, or recovered: the rest of the defers run. */
    run_defers(g, &f);
    g->frame = f.link;
}

/* The current goroutine, or a misuse report naming the API call. */
static inline g_t *current_g(const char *what)
{
    g_t *g = sched__getg();
    return likely(g != NULL) ? g : sched__needg(what);
}

void go_call(void (*fn)(void *arg), void *arg)
{
    call_frame(current_g("go_call"), fn, arg, NULL);
}

/* The scheduler's entry for every goroutine: an implicit outermost frame. */
void sched__call_entry(void (*fn)(void *), void *arg)
{
    g_t *g = sched__getg();
    g->frame = NULL;
    g->panic = NULL;
    g->goexiting = false;
    g->paniconfault = false;
    call_frame(g, fn, arg, NULL);
}

/* Grows a frame's defer array into the GC heap (scanned, so deferred
 * arguments stay reachable). */
static void grow_defers(sched__frame_t *f)
{
    uint32_t cap = f->cap * 2;
    size_t size = cap * sizeof(runtime_defer_t);
    runtime_defer_t *d = gc_alloc(size);
    memcpy(d, f->defers, f->n * sizeof(runtime_defer_t));
    /* Without a GC heap the old array leaks unless it was inline; such
     * builds are for tests of this file only. */
    f->defers = d;
    f->cap = cap;
}

void go_defer(void (*fn)(void *arg), void *arg)
{
    g_t *g = current_g("go_defer");
    sched__frame_t *f = g->frame;
    if (unlikely(!f))
        runtime__throw("go_defer: no go_call frame");
    if (unlikely(f->n == f->cap))
        grow_defers(f);
    f->defers[f->n].fn = fn;
    f->defers[f->n].arg = arg;
    f->n++;
}

/* ------------------------------------------------------------------ */
/* panic                                                               */
/* ------------------------------------------------------------------ */

/* Prints the panic chain oldest first, as Go's printpanics. */
static void print_panics(tb_sink_t *s, sched__panic_t *p)
{
    if (p->link) {
        print_panics(s, p->link);
        if (!p->link->goexit)
            sched__sink_str(s, "\t");
    }
    if (p->goexit)
        return;
    sched__sink_str(s, "panic: ");
    sched__sink_str(s, p->msg);
    if (p->recovered)
        sched__sink_str(s, " [recovered]");
    sched__sink_str(s, "\n");
}

typedef struct {
    g_t *g;
    ucontext_t here;   /* the panicking stack, unwound from here */
} fatal_t;

/* The panic's own lines, on the crash stack; the tracebacks follow from
 * runtime__fatal_end, in the panicking goroutine's context (here). */
static void fatal_panic_body(void *arg)
{
    fatal_t *a = arg;
    g_t *g = a->g;
    runtime__fatal_begin();
    fflush(stdout);
    tb_sink_t s;
    sched__sink_init(&s, NULL, 0);
    print_panics(&s, g->panic);
    for (sched__panic_t *p = g->panic; p; p = p->link) {
        if (p->sig) {
            sched__print_sigline(&s, p->sig, p->sigcode, p->sigaddr, p->sigpc);
            break;
        }
    }
    sched__sink_flush(&s);
    static sched__sigctx_t sc;
    sc = (sched__sigctx_t){.uc = &a->here, .gp = g};
    sched__crash_sigctx = &sc;
}

/* The unrecovered panic: messages, signal line, tracebacks, exit 2. The
 * report runs on the crash stack: the panicking one may be nearly full. */
static _Noreturn GORT_NOINLINE void fatal_panic(g_t *g)
{
    /* Two threads may both fill it: the second one to switch stacks runs
     * on its own and waits in runtime__fatal_begin before reading it. */
    static fatal_t a;
    fatal_t mine;
    fatal_t *ap = &a;
    static _Atomic int claimed;
    if (atomic_exchange(&claimed, 1))
        ap = &mine;
    ap->g = g;
    RUNTIME_CAPTURE_CONTEXT(&ap->here);
    sched__call_on_crash_stack(fatal_panic_body, ap);
    runtime__fatal_end(true, false);
}

/* A deferred call recovered p while frame f's defers were running: drop
 * p (and the panics it aborted) and resume f, or resume a Goexit that p
 * interrupted, as Go's recovery. */
static _Noreturn void recovery(g_t *g, sched__panic_t *p, sched__frame_t *f)
{
    g->panic = p->link;
    GORT_ASAN_NORETURN();
    if (g->panic && g->panic->goexit && g->panic->aborted)
        __builtin_longjmp(g->panic->jb, 1);
    while (g->panic && g->panic->aborted)
        g->panic = g->panic->link;
    __builtin_longjmp(f->jb, 1);
}

/* Pops g's next deferred call (innermost frame first) into *d and returns
 * its frame, or NULL when no frame is left. Frames left empty are
 * unlinked; leaving a deferred call of an older panic (or Goexit) means
 * that one can no longer be recovered. */
static sched__frame_t *pop_defer(g_t *g, runtime_defer_t *d)
{
    for (;;) {
        sched__frame_t *f = g->frame;
        if (f == NULL)
            return NULL;
        if (f->n > 0) {
            *d = f->defers[--f->n];
            return f;
        }
        if (f->deferpanic)
            f->deferpanic->aborted = true;
        g->frame = f->link;
    }
}

/* Runs the goroutine's deferred calls for panic p until one recovers. */
static _Noreturn GORT_NOINLINE void panic_run(g_t *g, sched__panic_t *p)
{
    p->link = g->panic;
    g->panic = p;
    runtime_defer_t d;
    sched__frame_t *f;
    while ((f = pop_defer(g, &d)) != NULL) {
        call_frame(g, d.fn, d.arg, p);
        if (p->recovered)
            recovery(g, p, f);
    }
    fatal_panic(g);
}

/* Checks the context a panic may start in; returns the goroutine. */
static g_t *panic_g(const char *msg)
{
    m_t *m = sched__getm();
    g_t *g = m ? m->curg : NULL;
    if (unlikely(!g)) {
        if (!m)
            runtime__misuse("go_panic(\"%s\") called outside a goroutine", msg);
        runtime__printf("panic: %s\n", msg);
        runtime__throw("panic on system stack");
    }
    if (unlikely(m->locks > 0)) {
        runtime__printf("panic: %s\n", msg);
        runtime__throw("panic holding locks");
    }
    return g;
}

_Noreturn void go_panic(const char *msg)
{
    if (!msg)
        msg = "nil";
    g_t *g = panic_g(msg);
    size_t n = strlen(msg) + 1;
    char *copy = gc_alloc_noscan(n);
    memcpy(copy, msg, n);
    sched__panic_t p;
    memset(&p, 0, sizeof p);
    p.msg = copy;
    panic_run(g, &p);
}

_Noreturn void sched__panic_sig(const char *msg, int sig, uintptr_t code,
                                  uintptr_t addr, uintptr_t pc)
{
    g_t *g = panic_g(msg);
    sched__panic_t p;
    memset(&p, 0, sizeof p);
    p.msg = msg;
    p.sig = sig;
    p.sigcode = code;
    p.sigaddr = addr;
    p.sigpc = pc;
    panic_run(g, &p);
}

/* ------------------------------------------------------------------ */
/* recover                                                             */
/* ------------------------------------------------------------------ */

/* Go's "recover is called directly by a deferred function", from the
 * return address ra of go_recover and its frame address cfa:
 *  - ra in call_frame: fn tail-called go_recover. Yes.
 *  - ra in fn (or in a part gcc split off it, "fn.cold": told by symbol
 *    names, the slow path), and no return address into fn between cfa and
 *    fn's own frame base f->callsp (fn did not recurse on the way). Yes.
 *  - Otherwise (a helper called by fn, ...): no.
 * A helper that tail-calls go_recover vanishes from the stack and passes
 * (docs/panic.md). Without unwind tables the check passes. */
static GORT_NO_SANITIZE bool called_directly(uintptr_t ra, uintptr_t cfa, sched__frame_t *f)
{
    uintptr_t start, size, fsize;
    uintptr_t fn = (uintptr_t)f->fn;
    if (!sched__func_extent(ra - 1, &start, &size))
        return true;
    if (start == (uintptr_t)call_frame)
        return true;
    if (!sched__func_extent(fn, &start, &fsize) || start != fn)
        return true;  /* fn is not a function's entry (a PLT stub...) */
    if (!(ra > fn && ra <= fn + fsize)) {
        const char *name = sched__func_name(ra - 1);
        const char *fname = sched__func_name(fn);
        if (!name || !fname)
            return true;
        size_t n = strlen(fname);
        if (strncmp(name, fname, n) != 0 || name[n] != '.')
            return false;
    }
    /* f->callsp - 8 holds fn's return address into call_frame; if it does
     * not, the frame layout is not understood: do not judge. */
    const uintptr_t *lo = (const uintptr_t *)cfa, *hi = (const uintptr_t *)f->callsp - 1;
    if (cfa >= f->callsp || !sched__func_extent(*hi - 1, &start, &size) ||
        start != (uintptr_t)call_frame)
        return true;
    for (const uintptr_t *w = lo; w < hi; w++)
        if (*w > fn && *w <= fn + fsize)
            return false;  /* a return address into fn: fn recursed */
    return true;
}

GORT_NOINLINE const char *go_recover(void)
{
    g_t *g = sched__getg();
    if (!g)
        return NULL;
    sched__panic_t *p = g->panic;
    sched__frame_t *f = g->frame;
    if (!p || p->goexit || p->recovered || !f)
        return NULL;
    if ((uintptr_t)f->fn == (uintptr_t)go_recover) {
        /* go_defer(go_recover): Go's "defer recover()", which recovers
         * only when deferred by a deferred call of the panic. */
        if (!f->link || f->link->deferpanic != p)
            return NULL;
    } else if (f->deferpanic != p ||
               !called_directly((uintptr_t)__builtin_return_address(0),
                                (uintptr_t)__builtin_frame_address(0) + 16, f)) {
        return NULL;
    }
    p->recovered = true;
    return p->msg;
}

/* ------------------------------------------------------------------ */
/* Goexit                                                              */
/* ------------------------------------------------------------------ */

void runtime_goexit(void)
{
    g_t *g = sched__needg("runtime_goexit");
    sched__panic_t p;
    memset(&p, 0, sizeof p);
    p.goexit = true;
    p.link = g->panic;
    g->panic = &p;
    g->goexiting = true;
    /* A panic raised by one of our deferred calls and recovered further
     * out resumes here, with the defers that are left (Go 1.14+). */
    __builtin_setjmp(p.jb);
    g = sched__getg();
    g->panic = &p;
    p.aborted = false;
    runtime_defer_t d;
    while (pop_defer(g, &d) != NULL)
        call_frame(g, d.fn, d.arg, &p);
    g->panic = NULL;
    sched__goexit1();
}

bool debug_set_panic_on_fault(bool enabled)
{
    g_t *g = current_g("debug_set_panic_on_fault");
    bool old = g->paniconfault;
    g->paniconfault = enabled;
    return old;
}
