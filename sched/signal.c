/*
 * sched/signal.c -- synchronous signals turned into panics, SIGQUIT
 * dumps, stack overflow reports (Go's signal_unix.go and sigpanic).
 *
 * Owns: the SIGSEGV, SIGBUS, SIGFPE and SIGQUIT handlers (installed by
 * sched__signal_init at boot, SA_ONSTACK on the per-M sigaltstack the
 * scheduler sets up), the sigpanic trampoline, the crash stack, and the
 * disposition of SIGPIPE (ignored at boot if the program left it default).
 *
 * May call: sched__pc_is_user, sched__stack_guard_owner, traceback.c,
 * the fatal path (runtime__fatal_begin/_error/_end). SIGURG belongs to
 * sched/preempt.c.
 *
 * How a fault becomes a panic: when a goroutine faults in user code (not
 * libgort, not libc: sched__pc_is_user), holds no runtime lock, and the
 * fault is one Go turns into a panic (a nil-ish address below 0x1000, an
 * integer division by zero, ...), the handler edits the saved context so
 * that on return from the signal the thread "calls" sched__sigpanic_tramp
 * with the faulting PC + 1 as its return address (+1 so unwinders look up
 * the faulting instruction's own unwind row). The trampoline aligns the
 * stack and calls sched__sigpanic, which panics like go_panic. Nothing
 * but this edit happens inside the handler, and the faulting frame is
 * never resumed, so its red zone may be overwritten.
 *
 * Everything else is fatal: the report runs on a dedicated crash stack
 * (the altstack may be small), prints Go's texts and exits 2. A fault on
 * a thread the runtime did not create goes to the handler installed
 * before ours, if any (Go's signal forwarding).
 *
 * Invariants: handlers are async-signal-safe up to the point where they
 * decide to die; errno is preserved on the paths that return.
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "traceback.h"

#define NIL_PAGE        0x1000      /* faults below this are nil derefs */
#define CRASH_STACK     (256 * 1024)

/* Filled by the handler, read by sched__sigpanic on the same thread
 * right after the handler returns. */
typedef struct {
    int sig;
    uintptr_t code, addr, pc;
    const char *msg;
} sigpanic_t;

static __thread sigpanic_t sigpanic_info __attribute__((tls_model("initial-exec")));

static char crash_stack[CRASH_STACK] __attribute__((aligned(64)));

/* void sched__sigpanic_tramp(void): entered as if called from the
 * faulting instruction; never returns.
 * void runtime__call_on_stack(void (*fn)(void *), void *arg, void *top). */
__asm__(
    "    .pushsection gort_text,\"ax\",@progbits\n"
    "    .globl sched__sigpanic_tramp\n"
    "    .hidden sched__sigpanic_tramp\n"
    "    .type sched__sigpanic_tramp, @function\n"
    "sched__sigpanic_tramp:\n"
    "    .cfi_startproc\n"
    "    pushq %rbp\n"
    "    .cfi_adjust_cfa_offset 8\n"
    "    .cfi_rel_offset %rbp, 0\n"
    "    movq %rsp, %rbp\n"
    "    .cfi_def_cfa_register %rbp\n"
    "    andq $-16, %rsp\n"
    "    callq sched__sigpanic\n"
    "    ud2\n"
    "    .cfi_endproc\n"
    "    .size sched__sigpanic_tramp, .-sched__sigpanic_tramp\n"
    "\n"
    "    .globl runtime__call_on_stack\n"
    "    .hidden runtime__call_on_stack\n"
    "    .type runtime__call_on_stack, @function\n"
    "runtime__call_on_stack:\n"
    "    .cfi_startproc\n"
    "    pushq %rbp\n"
    "    .cfi_adjust_cfa_offset 8\n"
    "    .cfi_rel_offset %rbp, 0\n"
    "    movq %rsp, %rbp\n"
    "    .cfi_def_cfa_register %rbp\n"
    "    andq $-16, %rdx\n"
    "    movq %rdx, %rsp\n"
    "    movq %rdi, %rax\n"
    "    movq %rsi, %rdi\n"
    "    callq *%rax\n"
    "    movq %rbp, %rsp\n"
    "    popq %rbp\n"
    "    .cfi_def_cfa %rsp, 8\n"
    "    retq\n"
    "    .cfi_endproc\n"
    "    .size runtime__call_on_stack, .-runtime__call_on_stack\n"
    "    .popsection\n");

GORT_HIDDEN void sched__sigpanic_tramp(void);
GORT_HIDDEN void runtime__call_on_stack(void (*fn)(void *), void *arg, void *top);
GORT_HIDDEN _Noreturn void sched__sigpanic(void);

/* ------------------------------------------------------------------ */
/* names and the signal line                                           */
/* ------------------------------------------------------------------ */

const char *sched__signame(int sig)
{
    switch (sig) {
    case SIGSEGV: return "SIGSEGV: segmentation violation";
    case SIGBUS:  return "SIGBUS: bus error";
    case SIGFPE:  return "SIGFPE: floating-point exception";
    case SIGQUIT: return "SIGQUIT: quit";
    case SIGILL:  return "SIGILL: illegal instruction";
    case SIGTRAP: return "SIGTRAP: trace trap";
    case SIGABRT: return "SIGABRT: abort";
    default:      return NULL;
    }
}

/* "[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x...]" */
void sched__print_sigline(tb_sink_t *s, int sig, uintptr_t code,
                            uintptr_t addr, uintptr_t pc)
{
    const char *name = sched__signame(sig);
    sched__sink_str(s, "[signal ");
    if (name)
        sched__sink_str(s, name);
    else
        sched__sink_hex(s, (uint64_t)sig);
    sched__sink_str(s, " code=");
    sched__sink_hex(s, code);
    sched__sink_str(s, " addr=");
    sched__sink_hex(s, addr);
    sched__sink_str(s, " pc=");
    sched__sink_hex(s, pc);
    sched__sink_str(s, "]\n");
}

/* ------------------------------------------------------------------ */
/* sigpanic                                                            */
/* ------------------------------------------------------------------ */

/* Go's message for a fault, or NULL when Go throws instead. */
static const char *panic_text(int sig, int code, uintptr_t addr)
{
    switch (sig) {
    case SIGSEGV:
        if ((code == 0 || code == SEGV_MAPERR || code == SEGV_ACCERR) && addr < NIL_PAGE)
            return "runtime error: invalid memory address or nil pointer dereference";
        return NULL;
    case SIGBUS:
        if (code == BUS_ADRERR && addr < NIL_PAGE)
            return "runtime error: invalid memory address or nil pointer dereference";
        return NULL;
    case SIGFPE:
        if (code == FPE_INTDIV)
            return "runtime error: integer divide by zero";
        if (code == FPE_INTOVF)
            return "runtime error: integer overflow";
        return "runtime error: floating point error";
    default:
        return NULL;
    }
}

/* Runs on the goroutine's stack, "called" from the faulting instruction. */
_Noreturn void sched__sigpanic(void)
{
    sigpanic_t si = sigpanic_info;
    sched__panic_sig(si.msg, si.sig, si.code, si.addr, si.pc);
}

/* ------------------------------------------------------------------ */
/* fatal reports                                                       */
/* ------------------------------------------------------------------ */

typedef struct {
    int sig;
    siginfo_t *si;
    ucontext_t *uc;
    g_t *gp;        /* goroutine interrupted, or NULL */
    g_t *overflow;  /* goroutine whose stack overflowed, or NULL */
} crash_t;

/* Go's dumpregs. */
static void dump_regs(tb_sink_t *s, const ucontext_t *uc)
{
    static const struct { const char *name; int reg; } regs[] = {
        {"rax    ", REG_RAX}, {"rbx    ", REG_RBX}, {"rcx    ", REG_RCX},
        {"rdx    ", REG_RDX}, {"rdi    ", REG_RDI}, {"rsi    ", REG_RSI},
        {"rbp    ", REG_RBP}, {"rsp    ", REG_RSP}, {"r8     ", REG_R8},
        {"r9     ", REG_R9},  {"r10    ", REG_R10}, {"r11    ", REG_R11},
        {"r12    ", REG_R12}, {"r13    ", REG_R13}, {"r14    ", REG_R14},
        {"r15    ", REG_R15}, {"rip    ", REG_RIP}, {"rflags ", REG_EFL},
    };
    for (size_t i = 0; i < sizeof regs / sizeof regs[0]; i++) {
        sched__sink_str(s, regs[i].name);
        sched__sink_hex(s, (uint64_t)uc->uc_mcontext.gregs[regs[i].reg]);
        sched__sink_str(s, "\n");
    }
    uint64_t csgsfs = (uint64_t)uc->uc_mcontext.gregs[REG_CSGSFS];
    sched__sink_str(s, "cs     ");
    sched__sink_hex(s, csgsfs & 0xffff);
    sched__sink_str(s, "\nfs     ");
    sched__sink_hex(s, (csgsfs >> 32) & 0xffff);
    sched__sink_str(s, "\ngs     ");
    sched__sink_hex(s, (csgsfs >> 16) & 0xffff);
    sched__sink_str(s, "\n");
}

/* SIGQUIT, or a fatal signal sent by kill: Go's sighandler throw path. */
static void report_sigthrow(crash_t *c)
{
    tb_sink_t s;
    sched__sink_init(&s, NULL, 0);
    greg_t *gr = c->uc->uc_mcontext.gregs;
    m_t *m = sched__getm();
    const char *name = sched__signame(c->sig);
    if (name) {
        sched__sink_str(&s, name);
    } else {
        sched__sink_str(&s, "Signal ");
        sched__sink_dec(&s, c->sig);
    }
    sched__sink_str(&s, "\nPC=");
    sched__sink_hex(&s, (uint64_t)gr[REG_RIP]);
    sched__sink_str(&s, " m=");
    sched__sink_dec(&s, m ? m->id : -1);
    sched__sink_str(&s, " sigcode=");
    sched__sink_dec(&s, c->si->si_code);
    sched__sink_str(&s, "\n\n");
    if (runtime__debug.traceback > TRACEBACK_NONE) {
        if (c->gp) {
            sched__goroutine_header(&s, c->gp);
            sched__traceback_context(&s, c->gp, c->uc, true);
        } else {
            sched__sink_str(&s, "goroutine 0 [idle]:\n");
            sched__traceback_context(&s, NULL, c->uc, true);
        }
        sched__sink_flush(&s);
        sched__traceback_others(&s, c->gp);
        sched__sink_str(&s, "\n");
        dump_regs(&s, c->uc);
    }
    sched__sink_flush(&s);
    runtime__fatal_end(false, false);   /* it printed its own tracebacks */
}

/* The body of every fatal report, on the crash stack. */
static void crash_report(void *arg)
{
    crash_t *c = arg;
    int code = c->si->si_code;
    uintptr_t addr = (uintptr_t)c->si->si_addr;
    uintptr_t pc = (uintptr_t)c->uc->uc_mcontext.gregs[REG_RIP];
    static sched__sigctx_t sc;
    sc.sig = c->sig;
    sc.code = (uintptr_t)code;
    sc.addr = addr;
    sc.pc = pc;
    sc.uc = c->uc;
    sc.exact = true;
    sc.gp = c->gp;
    if (c->overflow) {
        g_t *gp = c->overflow;
        uintptr_t sp = (uintptr_t)c->uc->uc_mcontext.gregs[REG_RSP];
        runtime__printf("runtime: goroutine stack exceeds %zu-byte limit\n",
                        gp->stacksize);
        runtime__printf("runtime: sp=%#lx stack=[%#lx, %#lx]\n",
                        (unsigned long)sp, (unsigned long)gp->stack_lo,
                        (unsigned long)gp->stack_hi);
        sc.sig = 0;  /* Go reports no signal for an overflow */
        sc.gp = gp;
        sched__crash_sigctx = &sc;
        runtime__fatal_error("stack overflow");
    }
    if (code == SI_USER || c->sig == SIGQUIT)
        report_sigthrow(c);
    sched__crash_sigctx = &sc;
    if (c->gp && (c->sig == SIGSEGV || c->sig == SIGBUS) && sched__pc_is_user(pc)) {
        /* A wild address in user code: Go's sigpanic throw. */
        runtime__printf("unexpected fault address %#lx\n", (unsigned long)addr);
        runtime__fatal_error("fault");
    }
    runtime__fatal_error("unexpected signal during runtime execution");
}

#if GORT_ASAN
typedef struct {
    void (*fn)(void *);
    void *arg;
    const void *bottom;   /* the stack left for the crash stack */
    size_t size;
} crashcall_t;

/* On the crash stack: ASan's switch to it is finished, fn runs, and the
 * switch back is begun. */
static void crash_call_tramp(void *arg)
{
    crashcall_t *cc = arg;
    __sanitizer_finish_switch_fiber(NULL, &cc->bottom, &cc->size);
    cc->fn(cc->arg);
    __sanitizer_start_switch_fiber(NULL, cc->bottom, cc->size);
}
#endif

/* Calls fn(arg) on the crash stack, announced to ASan in its build. */
static void crash_call(void (*fn)(void *), void *arg)
{
#if GORT_ASAN
    crashcall_t cc = {fn, arg, NULL, 0};
    void *fake;
    __sanitizer_start_switch_fiber(&fake, crash_stack, sizeof crash_stack);
    runtime__call_on_stack(crash_call_tramp, &cc, crash_stack + sizeof crash_stack);
    __sanitizer_finish_switch_fiber(fake, NULL, NULL);
#else
    runtime__call_on_stack(fn, arg, crash_stack + sizeof crash_stack);
#endif
}

/* Runs fn(arg) on the crash stack, owned by one thread at a time. */
void sched__call_on_crash_stack(void (*fn)(void *), void *arg)
{
    static _Atomic(void *) owner;
    static __thread char self __attribute__((tls_model("initial-exec")));
    void *me = &self, *none = NULL;  /* no call: the stack may be full */
    if (atomic_load(&owner) == me) {
        fn(arg);  /* already on it */
    } else if (atomic_compare_exchange_strong(&owner, &none, me)) {
        crash_call(fn, arg);
        atomic_store(&owner, NULL);
    } else {
        fn(arg);
    }
}

/* Reports on the crash stack; never returns. */
static _Noreturn void die(crash_t *c)
{
    runtime__fatal_begin();
    sched__call_on_crash_stack(crash_report, c);
    _exit(2);
}

/* ------------------------------------------------------------------ */
/* handlers                                                            */
/* ------------------------------------------------------------------ */

/* The goroutine whose stack sp is on, if it is this M's current one. */
static g_t *interrupted_g(uintptr_t sp)
{
    m_t *m = sched__getm();
    g_t *g = m ? m->curg : NULL;
    if (g && sp >= g->stack_lo && sp <= g->stack_hi)
        return g;
    return NULL;
}

/* The handlers installed before ours, for faults on threads that are not
 * the runtime's (Go's sigfwd). */
static struct sigaction old_segv, old_bus, old_fpe;

/* Passes a fault on a foreign thread to the handler installed before
 * ours; false if there is none (default or ignore). */
static bool forward(int sig, siginfo_t *si, void *ctx)
{
    const struct sigaction *old = sig == SIGSEGV ? &old_segv : sig == SIGBUS ? &old_bus : &old_fpe;
    if (old->sa_flags & SA_SIGINFO) {
        if (!old->sa_sigaction)
            return false;
        old->sa_sigaction(sig, si, ctx);
        return true;
    }
    if (old->sa_handler == SIG_DFL || old->sa_handler == SIG_IGN)
        return false;
    old->sa_handler(sig);
    return true;
}

static void fault_handler(int sig, siginfo_t *si, void *ctx)
{
    ucontext_t *uc = ctx;
    if (!sched__getm() && forward(sig, si, ctx))
        return;
    greg_t *gr = uc->uc_mcontext.gregs;
    uintptr_t pc = (uintptr_t)gr[REG_RIP];
    uintptr_t sp = (uintptr_t)gr[REG_RSP];
    uintptr_t addr = (uintptr_t)si->si_addr;
    crash_t c = {sig, si, uc, interrupted_g(sp), NULL};

    m_t *m = sched__getm();
    if (sig != SIGFPE && si->si_code != SI_USER) {
        c.overflow = sched__stack_guard_owner(addr);
        /* A frame larger than the guard, or an unguarded stack: user
         * code runs only on its goroutine's stack, anything else within
         * a short distance below it (libc called from user code). */
        g_t *cur = m ? m->curg : NULL;
        if (!c.overflow && cur && sp < cur->stack_lo &&
            (sched__pc_is_user(pc) || sp + STACK_OVERFLOW_SLACK >= cur->stack_lo))
            c.overflow = cur;
        if (c.overflow)
            die(&c);
    }
    const char *msg = si->si_code == SI_USER ? NULL : panic_text(sig, si->si_code, addr);
    if (!msg && si->si_code != SI_USER && c.gp && c.gp->paniconfault &&
        (sig == SIGSEGV || sig == SIGBUS))
        msg = "runtime error: invalid memory address or nil pointer dereference";
    if (msg && c.gp && m->locks == 0) {
        /* A call through a nil function pointer faults at pc 0 with the
         * caller's return address on top of the stack: the caller made
         * the mistake, and that return address already "calls" the
         * trampoline (as Go's preparePanic does for pc 0). */
        bool nilcall = pc < NIL_PAGE && sp >= c.gp->stack_lo && sp < c.gp->stack_hi &&
                       sched__pc_is_user(*(uintptr_t *)sp);
        if (nilcall || sched__pc_is_user(pc)) {
            sigpanic_info.sig = sig;
            sigpanic_info.code = (uintptr_t)si->si_code;
            sigpanic_info.addr = addr;
            sigpanic_info.pc = pc;
            sigpanic_info.msg = msg;
            if (!nilcall) {
                sp -= 8;
                *(uintptr_t *)sp = pc + 1;
                gr[REG_RSP] = (greg_t)sp;
            }
            gr[REG_RIP] = (greg_t)(uintptr_t)sched__sigpanic_tramp;
            return;
        }
    }
    die(&c);
}

static void quit_handler(int sig, siginfo_t *si, void *ctx)
{
    ucontext_t *uc = ctx;
    crash_t c = {sig, si, uc, interrupted_g((uintptr_t)uc->uc_mcontext.gregs[REG_RSP]), NULL};
    die(&c);
}

/* SIGPIPE is ignored unless the program installed a handler (or already
 * ignores it): a write to a closed peer returns EPIPE, as in Go, instead
 * of killing the process. */
static void ignore_sigpipe(void)
{
    struct sigaction old;
    if (sigaction(SIGPIPE, NULL, &old) != 0 || old.sa_handler != SIG_DFL ||
        (old.sa_flags & SA_SIGINFO))
        return;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);
}

/* Installs the handlers; called once at boot. */
void sched__signal_init(void)
{
    static bool installed;
    if (installed)
        return;  /* a second call would save our own handler as "old" */
    installed = true;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
    sigfillset(&sa.sa_mask);
    sigdelset(&sa.sa_mask, SIGSEGV);
    sigdelset(&sa.sa_mask, SIGBUS);
    sigdelset(&sa.sa_mask, SIGFPE);
    sa.sa_sigaction = fault_handler;
    sigaction(SIGSEGV, &sa, &old_segv);
    sigaction(SIGBUS, &sa, &old_bus);
    sigaction(SIGFPE, &sa, &old_fpe);
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sa.sa_sigaction = quit_handler;
    sigaction(SIGQUIT, &sa, NULL);
    ignore_sigpipe();
}
