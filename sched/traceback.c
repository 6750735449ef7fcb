/*
 * sched/traceback.c -- goroutine tracebacks and dumps (Go's traceback.go).
 *
 * Owns: unwinding with libunwind (the running stack, a signal context,
 * a parked goroutine's saved registers), the frames shown and hidden,
 * goroutine headers, sched__crash_tracebacks, runtime_stack and
 * debug_print_stack. The sink and symbols are in symbolize.c.
 *
 * May call: libunwind, symbolize.c, the scheduler's G list and
 * stop-the-world (runtime_stack only), write(2).
 *
 * Invariants:
 *  - Everything reachable from sched__crash_tracebacks and the signal
 *    handlers formats by hand and writes with write(2): no malloc, no
 *    stdio, no runtime locks (the G list is read racily, as Go's
 *    forEachGRace). libunwind's local unwinder and libbacktrace (mmap
 *    based) are the only libraries used there.
 *  - A parked G's registers are where runtime/arch/amd64.S's sched__mcall
 *    put them: [mxcsr|fcw][r15 r14 r13 r12 rbx rbp][return address] at
 *    g->sp. A G stopped by asynchronous preemption has, further up, the
 *    frame of sched__asyncpreempt, whose rbx points at the 16 registers it
 *    pushed, the interrupted PC above them and the red zone above that.
 *    A G in a system call is unwound from the frame pointer that
 *    runtime_entersyscall saved in g->syscallregs[1] (libgort keeps frame
 *    pointers): its caller's frames stay put until runtime_exitsyscall.
 *  - libgort's own frames (section gort_text) are hidden unless
 *    GOTRACEBACK=system, except go_panic when it is not the innermost
 *    frame, as Go shows runtime.gopanic.
 */
#define UNW_LOCAL_ONLY
#include <libunwind.h>
#include <link.h>
#include <string.h>
#include <unistd.h>

#include "traceback.h"

#define TB_MAX_FRAMES   100  /* Go's _TracebackMaxFrames */
#define TB_MAX_STEPS    4096 /* unwinder steps before giving up */

/* Set by signal.c on the thread that reports a fatal signal. */
__thread sched__sigctx_t *sched__crash_sigctx;

/* ------------------------------------------------------------------ */
/* goroutine headers                                                   */
/* ------------------------------------------------------------------ */

static const char *const gstatus_names[] = {
    [G_IDLE] = "idle",       [G_RUNNABLE] = "runnable", [G_RUNNING] = "running",
    [G_SYSCALL] = "syscall", [G_WAITING] = "waiting",   [G_DEAD] = "dead",
};

/* Prints Go's goroutine header line. */
void sched__goroutine_header(tb_sink_t *s, g_t *gp)
{
    uint32_t st = atomic_load_explicit(&gp->status, memory_order_relaxed);
    const char *status = st < sizeof gstatus_names / sizeof gstatus_names[0]
                             ? gstatus_names[st] : "???";
    if (st == G_WAITING && gp->waitreason && gp->waitreason[0])
        status = gp->waitreason;
    int64_t minutes = 0;
    if ((st == G_WAITING || st == G_SYSCALL) && gp->waitsince != 0)
        minutes = (runtime__nanotime() - gp->waitsince) / (60LL * 1000000000);
    sched__sink_str(s, "goroutine ");
    sched__sink_dec(s, gp->goid);
    sched__sink_str(s, " [");
    sched__sink_str(s, status);
    if (minutes >= 1) {
        sched__sink_str(s, ", ");
        sched__sink_dec(s, minutes);
        sched__sink_str(s, " minutes");
    }
    if (!gp->unstarted && gp->lockedm)
        sched__sink_str(s, ", locked to thread");
    sched__sink_str(s, "]:\n");
}

/* ------------------------------------------------------------------ */
/* frames                                                              */
/* ------------------------------------------------------------------ */

/* Defined in signal.c: the function a faulting goroutine "calls". */
GORT_HIDDEN void sched__sigpanic_tramp(void);

typedef struct walk walk_t;
struct walk {
    tb_sink_t *s;
    g_t *gp;          /* bounds the walk to its stack; may be NULL */
    int level;        /* GOTRACEBACK */
    bool all;         /* show libgort frames too */
    int printed;      /* frames printed (or collected) so far */
    bool saw_entry;   /* a frame of gp's start function was printed */
    /* Instead of printing: called with each frame's PC (the return
     * address, or the exact PC) and its function's start. */
    void (*collect)(walk_t *w, uintptr_t pc, uintptr_t start);
    void *arg;
};

/* Prints one function frame as Go: "name(...)\n\tfile:line +0xoff\n",
 * preceded by its inlined callees. exact: pc is the faulting instruction,
 * not a return address. */
static void print_frame(walk_t *w, uintptr_t pc, uintptr_t sp, bool exact)
{
    tb_sink_t *s = w->s;
    uintptr_t lookup = exact ? pc : pc - 1;
    syminfo_t si;
    if (!sched__symbolize(lookup, &si)) {
        unw_proc_info_t pi;
        if (unw_get_proc_info_by_ip(unw_local_addr_space, lookup, &pi, NULL) == 0) {
            si.start = pi.start_ip;
            si.name = NULL;
        }
        Dl_info dl;
        if (dladdr((void *)lookup, &dl) && dl.dli_sname) {
            si.name = dl.dli_sname;
            si.start = (uintptr_t)dl.dli_saddr;
        }
        if (!si.name)
            si.name = "?";
    }
    lineinfo_t li;
    sched__lineinfo(lookup, &li);
    for (int i = 0; i + 1 < li.n; i++) {  /* inlined into the real frame */
        /* gort.h's inline fast paths (sched__, sync__...) are runtime. */
        if (!w->all && li.f[i].fn && strstr(li.f[i].fn, "__"))
            continue;
        sched__sink_funcname(s, li.f[i].fn ? li.f[i].fn : "?");
        sched__sink_str(s, "(...)\n\t");
        sched__sink_str(s, li.f[i].file);
        sched__sink_str(s, ":");
        sched__sink_dec(s, li.f[i].line);
        sched__sink_str(s, "\n");
    }
    sched__sink_funcname(s, si.name);
    sched__sink_str(s, "(...)\n\t");
    sched__sink_where(s, &li, lookup);
    if (si.start && pc > si.start) {
        sched__sink_str(s, " +");
        sched__sink_hex(s, pc - si.start);
    }
    if (w->level >= TRACEBACK_SYSTEM) {
        sched__sink_str(s, " sp=");
        sched__sink_hex(s, sp);
        sched__sink_str(s, " pc=");
        sched__sink_hex(s, pc);
    }
    sched__sink_str(s, "\n");
    w->printed++;
}

/* Decides whether a frame at pc is shown. */
static bool show_frame(walk_t *w, uintptr_t pc, uintptr_t start)
{
    if (w->all || !sched__pc_in_gort(pc))
        return true;
    /* go_panic below a user frame: a panic raised while panicking. */
    return start == (uintptr_t)go_panic && w->printed > 0;
}

/* Re-seeds the cursor with the state sched__asyncpreempt saved: rbx holds
 * the address of its 16 pushed registers (r15 first), the interrupted PC
 * follows them, then the 128-byte red zone it stepped over. */
static bool reseed_asyncpreempt(unw_cursor_t *c, ucontext_t *uc)
{
    unw_word_t rbx;
    if (unw_get_reg(c, UNW_X86_64_RBX, &rbx) != 0 || rbx == 0)
        return false;
    const uintptr_t *r = (const uintptr_t *)rbx;
    memset(uc, 0, sizeof *uc);
    greg_t *gr = uc->uc_mcontext.gregs;
    gr[REG_R15] = (greg_t)r[0];
    gr[REG_R14] = (greg_t)r[1];
    gr[REG_R13] = (greg_t)r[2];
    gr[REG_R12] = (greg_t)r[3];
    gr[REG_R11] = (greg_t)r[4];
    gr[REG_R10] = (greg_t)r[5];
    gr[REG_R9] = (greg_t)r[6];
    gr[REG_R8] = (greg_t)r[7];
    gr[REG_RBP] = (greg_t)r[8];
    gr[REG_RDI] = (greg_t)r[9];
    gr[REG_RSI] = (greg_t)r[10];
    gr[REG_RDX] = (greg_t)r[11];
    gr[REG_RCX] = (greg_t)r[12];
    gr[REG_RBX] = (greg_t)r[13];
    gr[REG_RAX] = (greg_t)r[14];
    gr[REG_RIP] = (greg_t)r[16];
    gr[REG_RSP] = (greg_t)(rbx + 17 * 8 + 128);
    return unw_init_local2(c, uc, UNW_INIT_SIGNAL_FRAME) == 0;
}

/* Walks and prints from an initialised cursor. exact: the first PC is an
 * interrupted instruction rather than a return address. */
/* One frame line for the entry of the function at pc (a start function
 * whose own frame is gone, or one that never ran). */
static void print_entry_frame(tb_sink_t *s, uintptr_t pc)
{
    syminfo_t si;
    sched__sink_funcname(s, sched__symbolize(pc, &si) ? si.name : "?");
    sched__sink_str(s, "(...)\n\t");
    lineinfo_t li;
    sched__lineinfo(pc, &li);
    sched__sink_where(s, &li, pc);
    sched__sink_str(s, "\n");
}

/* At the end of a goroutine's walk: its start function, if no frame of
 * it was shown -- its last call was a tail call into gort, which leaves
 * no frame (as Go shows a goroutine's entry always). Not for libgort's
 * own start functions (the main goroutine's). */
static void finish_walk(walk_t *w)
{
    uintptr_t fn = w->gp ? (uintptr_t)w->gp->fn : 0;
    if (w->collect || w->saw_entry || fn == 0 || sched__pc_in_gort(fn))
        return;
    print_entry_frame(w->s, fn);
    w->printed++;
}

static void walk(walk_t *w, unw_cursor_t *c, bool exact)
{
    ucontext_t reseed;
    bool after_tramp = false;
    unw_word_t prev_sp = 0;
    for (int steps = 0; steps < TB_MAX_STEPS; steps++) {
        unw_word_t ip = 0, sp = 0;
        unw_get_reg(c, UNW_REG_IP, &ip);
        unw_get_reg(c, UNW_REG_SP, &sp);
        if (ip == 0)
            break;
        /* Stacks grow down: a caller's sp is higher. No lower bound for
         * the first frame: an overflowing goroutine's sp is below it. */
        if ((w->gp && sp > w->gp->stack_hi) || sp < prev_sp)
            break;
        prev_sp = sp;
        unw_proc_info_t pi;
        uintptr_t start = 0;
        if (unw_get_proc_info(c, &pi) == 0)
            start = pi.start_ip;
        if (start == (uintptr_t)sched__asyncpreempt) {
            if (!reseed_asyncpreempt(c, &reseed))
                break;
            exact = true;
            continue;
        }
        /* The frame sigpanic's trampoline "returns" to is the faulting
         * one: its return address is the faulting PC + 1. */
        uintptr_t pc = after_tramp ? ip - 1 : ip;
        if (w->collect) {
            if (w->printed == TB_MAX_FRAMES)
                break;
            w->collect(w, pc, start);
            w->printed++;
        } else if (show_frame(w, ip, start)) {
            if (w->printed == TB_MAX_FRAMES) {
                sched__sink_str(w->s, "...additional frames elided...\n");
                return;
            }
            print_frame(w, pc, sp, exact || after_tramp);
            if (w->gp && start == (uintptr_t)w->gp->fn)
                w->saw_entry = true;
        }
        if (start == (uintptr_t)sched__call_entry ||
            start == (uintptr_t)sched__goentry)
            break;  /* the goroutine's outermost frames */
        after_tramp = start == (uintptr_t)sched__sigpanic_tramp;
        exact = false;
        if (unw_step(c) <= 0)
            break;
    }
    finish_walk(w);
}

/* "created by f\n\tfile:line +0xoff\n" for a goroutine started by go(). */
static void print_created_by(tb_sink_t *s, g_t *gp)
{
    if (!gp || !gp->gopc || gp->goid == 1)
        return;  /* main was not created by a go statement */
    uintptr_t pc = gp->gopc;
    syminfo_t si;
    if (!sched__symbolize(pc - 1, &si))
        return;
    sched__sink_str(s, "created by ");
    sched__sink_funcname(s, si.name);
    sched__sink_str(s, "\n\t");
    lineinfo_t li;
    sched__lineinfo(pc - 1, &li);
    if (li.n > 0) {
        sched__sink_str(s, li.f[li.n - 1].file);
        sched__sink_str(s, ":");
        sched__sink_dec(s, li.f[li.n - 1].line);
    } else {
        sched__sink_module(s, pc);
    }
    if (pc > si.start) {
        sched__sink_str(s, " +");
        sched__sink_hex(s, pc - si.start);
    }
    sched__sink_str(s, "\n");
}

/* Prints a stack from a register context; if every frame was hidden,
 * prints it again with all frames (as Go's traceback1). */
static void trace_context(tb_sink_t *s, g_t *gp, ucontext_t *uc, bool exact)
{
    walk_t w = {.s = s, .gp = gp, .level = runtime__debug.traceback};
    w.all = w.level >= TRACEBACK_SYSTEM;
    for (int pass = 0; pass < 2; pass++) {
        unw_cursor_t c;
        ucontext_t copy = *uc;
        if (unw_init_local2(&c, &copy, exact ? UNW_INIT_SIGNAL_FRAME : 0) != 0)
            break;
        walk(&w, &c, exact);
        if (w.printed > 0 || w.all)
            break;
        w.all = true;
    }
    print_created_by(s, gp);
}

/* Prints the calling thread's stack. */
GORT_NOINLINE void sched__traceback_here(tb_sink_t *s, g_t *gp)
{
    ucontext_t uc;
    if (unw_getcontext(&uc) != 0)
        return;
    trace_context(s, gp, &uc, false);
}

/* Prints a stack from a saved context: exact for a signal's (its PC is
 * the interrupted instruction), not for unw_getcontext's. */
void sched__traceback_context(tb_sink_t *s, g_t *gp, const ucontext_t *uc,
                                bool exact)
{
    ucontext_t copy = *uc;
    trace_context(s, gp, &copy, exact);
}

/* A goroutine that never ran: its entry function, as Go shows startpc. */
static void print_entry(tb_sink_t *s, g_t *gp)
{
    print_entry_frame(s, (uintptr_t)gp->fn);
    print_created_by(s, gp);
}

/* The context of a switched-out goroutine, from the registers
 * sched__mcall saved at gp->sp; false if the stack pointer is not in its
 * stack. *entry: it never ran (its first context is still sched__gostart's). */
static bool parked_context(g_t *gp, ucontext_t *uc, bool *entry)
{
    uintptr_t sp = gp->sp;
    *entry = gp->unstarted;
    if (*entry)
        return true;
    if (sp < gp->stack_lo || sp + 64 > gp->stack_hi)
        return false;
    const uintptr_t *r = (const uintptr_t *)sp;
    *entry = r[7] == (uintptr_t)sched__gostart;
    memset(uc, 0, sizeof *uc);
    greg_t *gr = uc->uc_mcontext.gregs;
    gr[REG_R15] = (greg_t)r[1];
    gr[REG_R14] = (greg_t)r[2];
    gr[REG_R13] = (greg_t)r[3];
    gr[REG_R12] = (greg_t)r[4];
    gr[REG_RBX] = (greg_t)r[5];
    gr[REG_RBP] = (greg_t)r[6];
    gr[REG_RIP] = (greg_t)r[7];
    gr[REG_RSP] = (greg_t)(sp + 64);
    return true;
}

/* The context of a goroutine blocked in a system call, from the frame
 * pointer runtime_entersyscall saved (libgort keeps frame pointers): its
 * caller's frames stay put until runtime_exitsyscall. */
static bool syscall_context(g_t *gp, ucontext_t *uc)
{
    uintptr_t fp = gp->syscallregs[1];
    if (!gp->syscallsp || fp < gp->syscallsp || fp + 16 > gp->stack_hi ||
        fp < gp->stack_lo)
        return false;
    const uintptr_t *frame = (const uintptr_t *)fp;
    memset(uc, 0, sizeof *uc);
    greg_t *gr = uc->uc_mcontext.gregs;
    gr[REG_RBX] = (greg_t)gp->syscallregs[0];
    gr[REG_R12] = (greg_t)gp->syscallregs[2];
    gr[REG_R13] = (greg_t)gp->syscallregs[3];
    gr[REG_R14] = (greg_t)gp->syscallregs[4];
    gr[REG_R15] = (greg_t)gp->syscallregs[5];
    gr[REG_RBP] = (greg_t)frame[0];
    gr[REG_RIP] = (greg_t)frame[1];
    gr[REG_RSP] = (greg_t)(fp + 16);
    return true;
}

/* Prints a switched-out goroutine. */
static void traceback_parked(tb_sink_t *s, g_t *gp)
{
    ucontext_t uc;
    bool entry;
    if (!parked_context(gp, &uc, &entry)) {
        sched__sink_str(s, "\tstack unavailable (sp=");
        sched__sink_hex(s, gp->sp);
        sched__sink_str(s, ")\n");
    } else if (entry) {
        print_entry(s, gp);
    } else {
        trace_context(s, gp, &uc, false);
    }
}

/* Prints a goroutine blocked in a system call; false if it cannot. */
static bool traceback_syscall(tb_sink_t *s, g_t *gp)
{
    ucontext_t uc;
    if (!syscall_context(gp, &uc))
        return false;
    trace_context(s, gp, &uc, false);
    return true;
}

/* Walks uc's stack (gp's) collecting every frame, libgort's included. */
static int collect_context(g_t *gp, ucontext_t *uc, walk_t *w)
{
    unw_cursor_t c;
    if (unw_init_local2(&c, uc, 0) != 0)
        return 0;
    walk(w, &c, false);
    return w->printed;
}

/* Hands a walk's collected frame to sched__stack_frames' callback. */
typedef struct {
    void (*fn)(void *arg, uintptr_t pc, uintptr_t start);
    void *arg;
} frames_cb_t;

static void collect_frame(walk_t *w, uintptr_t pc, uintptr_t start)
{
    frames_cb_t *cb = w->arg;
    cb->fn(cb->arg, pc, start);
}

GORT_NOINLINE int sched__stack_frames(g_t *gp,
                                      void (*fn)(void *arg, uintptr_t pc, uintptr_t start),
                                      void *arg)
{
    frames_cb_t cb = {fn, arg};
    walk_t w = {.gp = gp, .all = true, .collect = collect_frame, .arg = &cb};
    ucontext_t uc;
    bool entry = false;
    if (gp == sched__getg()) {
        if (unw_getcontext(&uc) != 0)
            return -1;
        return collect_context(gp, &uc, &w);
    }
    uint32_t st = atomic_load(&gp->status);
    if (st == G_SYSCALL) {
        if (!syscall_context(gp, &uc))
            return -1;
    } else if (st == G_RUNNING || !parked_context(gp, &uc, &entry)) {
        return -1;
    }
    return entry ? 0 : collect_context(gp, &uc, &w);
}

typedef struct {
    tb_sink_t *s;
    g_t *me, *cur;
    int level;
} others_t;

/* Prints one goroutine of tracebackothers, unless it is skipped. */
static void traceback_other(g_t *gp, void *arg)
{
    others_t *o = arg;
    if (!gp || gp == o->me || gp == o->cur)
        return;
    uint32_t st = atomic_load(&gp->status);
    if (st == G_DEAD || st == G_IDLE)
        return;
    if (o->level < TRACEBACK_SYSTEM && gp->system)
        return;
    tb_sink_t *s = o->s;
    sched__sink_str(s, "\n");
    sched__goroutine_header(s, gp);
    if (st == G_SYSCALL && traceback_syscall(s, gp)) {
        /* printed */
    } else if (st == G_RUNNING || st == G_SYSCALL) {
        sched__sink_str(s, "\tgoroutine running on other thread; stack unavailable\n");
        print_created_by(s, gp);
    } else {
        traceback_parked(s, gp);
    }
    sched__sink_flush(s);
}

/* Prints every other goroutine (Go's tracebackothers): lock-free, since
 * it runs in crashes. */
void sched__traceback_others(tb_sink_t *s, g_t *me)
{
    m_t *m = sched__getm();
    others_t o = {s, me, m ? m->curg : NULL, runtime__debug.traceback};
    if (o.cur && o.cur != me) {
        sched__sink_str(s, "\n");
        sched__goroutine_header(s, o.cur);
        sched__traceback_here(s, o.cur);
    }
    size_t n = atomic_load(&sched__allglen);
    g_t **all = sched__allgs;
    for (size_t i = 0; all && i < n; i++)
        traceback_other(all[i], &o);
    sched__for_each_unstarted(traceback_other, &o);
}

/* ------------------------------------------------------------------ */
/* fatal reports                                                       */
/* ------------------------------------------------------------------ */

typedef struct {
    sched__sigctx_t *sc;   /* the report's context, or NULL */
    ucontext_t here;        /* else: where sched__crash_tracebacks was called */
    bool all;               /* every goroutine, not only the reporting one */
} crash_tb_t;

static void crash_tracebacks_body(void *arg)
{
    crash_tb_t *a = arg;
    sched__sigctx_t *sc = a->sc;
    const ucontext_t *uc = sc && sc->uc ? sc->uc : &a->here;
    bool exact = sc && sc->uc && sc->exact;
    tb_sink_t s;
    sched__sink_init(&s, NULL, 0);
    if (sc && sc->sig)
        sched__print_sigline(&s, sc->sig, sc->code, sc->addr, sc->pc);
    int level = runtime__debug.traceback;
    if (level > TRACEBACK_NONE) {
        g_t *gp = sc ? sc->gp : sched__getg();
        if (gp) {
            sched__sink_str(&s, "\n");
            sched__goroutine_header(&s, gp);
            sched__traceback_context(&s, gp, uc, exact);
        } else if (level >= TRACEBACK_SYSTEM) {
            sched__sink_str(&s, "\nruntime stack:\n");
            sched__traceback_context(&s, NULL, uc, exact);
        }
        sched__sink_flush(&s);
        if (a->all || level >= TRACEBACK_ALL)
            sched__traceback_others(&s, gp);
    }
    sched__sink_flush(&s);
}

/* What a fatal report owes the user after its header: the signal line,
 * the reporting goroutine (in the context sched__crash_sigctx names, else
 * here), then, with all or GOTRACEBACK=all, every other goroutine. Runs
 * on the crash stack: the failing stack may be nearly exhausted. */
GORT_NOINLINE void sched__crash_tracebacks(bool all)
{
    static crash_tb_t a;  /* one thread gets here: runtime__fatal_begin */
    a.all = all;
    a.sc = sched__crash_sigctx;
    if (!a.sc)
        RUNTIME_CAPTURE_CONTEXT(&a.here);
    sched__call_on_crash_stack(crash_tracebacks_body, &a);
}

/* ------------------------------------------------------------------ */
/* runtime.Stack and debug.PrintStack                                  */
/* ------------------------------------------------------------------ */

size_t runtime_stack(char *buf, size_t len, bool all)
{
    g_t *gp = sched__needg("runtime_stack");
    tb_sink_t s;
    sched__sink_init(&s, buf, len);
    if (all)
        sched__stop_the_world("stack trace");
    sched__goroutine_header(&s, gp);
    sched__traceback_here(&s, gp);
    if (all) {
        sched__traceback_others(&s, gp);
        sched__start_the_world();
    }
    return s.len;
}

void debug_print_stack(void)
{
    g_t *gp = sched__needg("debug_print_stack");
    tb_sink_t s;
    sched__sink_init(&s, NULL, 0);
    sched__goroutine_header(&s, gp);
    sched__traceback_here(&s, gp);
    sched__sink_flush(&s);
}
