/*
 * sched/traceback.h -- internals shared by panic.c, traceback.c and
 * signal.c: the panic and frame records, the output sink, goroutine dumps
 * and the crash-time signal context.
 *
 * Only these three files include it. Everything here is hidden.
 */
#ifndef GORT_RUNTIME_TRACEBACK_H
#define GORT_RUNTIME_TRACEBACK_H

#include <signal.h>
#include <ucontext.h>

#include "internal.h"

/* ------------------------------------------------------------------ */
/* frames and panics (panic.c)                                         */
/* ------------------------------------------------------------------ */

typedef struct {
    void (*fn)(void *);
    void *arg;
} runtime_defer_t;

#define FRAME_INLINE_DEFERS 4  /* defers kept in the frame itself */

/* One go_call frame. It lives in go_call's C frame on the goroutine
 * stack, so the GC's conservative stack scan sees the deferred args. */
typedef struct runtime_frame {
    struct runtime_frame *link;     /* caller's frame */
    void *jb[5];                    /* __builtin_setjmp: recovery lands here */
    runtime_defer_t *defers;        /* inl or a GC-heap array */
    uint32_t n, cap;                /* pending defers: defers[0..n) */
    struct runtime_panic *deferpanic; /* this frame is a deferred call run by it */
    void (*fn)(void *);             /* the frame's function (recover check) */
    uintptr_t callsp;               /* sp at the call of fn: fn's CFA */
    runtime_defer_t inl[FRAME_INLINE_DEFERS];
} sched__frame_t;

/* An active panic (or Goexit). It lives in go_panic's (runtime_goexit's)
 * C frame, which stays live while the deferred calls run above it. */
typedef struct runtime_panic {
    struct runtime_panic *link;     /* older panic */
    const char *msg;
    bool recovered;
    bool aborted;                   /* a newer panic ran past its deferred call */
    bool goexit;                    /* this record is runtime_goexit */
    int sig;                        /* signal that caused it, or 0 */
    uintptr_t sigcode, sigaddr, sigpc;
    void *jb[5];                    /* goexit: a bypassing recovery resumes here */
} sched__panic_t;

/* Panics with a message (not copied: static or GC) and signal details. */
GORT_HIDDEN _Noreturn void sched__panic_sig(const char *msg, int sig,
                                              uintptr_t code, uintptr_t addr,
                                              uintptr_t pc);

/* ------------------------------------------------------------------ */
/* output (traceback.c): to fd 2, or into a caller's buffer            */
/* ------------------------------------------------------------------ */

typedef struct {
    char *buf;       /* NULL: write to fd */
    size_t len, cap; /* bytes in buf / its size */
    size_t total;    /* bytes written to the sink, kept or not */
    int fd;          /* 2 unless sched__sink_init_fd said otherwise */
    int err;         /* errno of a failed write, or 0 */
    char tmp[512];   /* fd mode: pending bytes */
    size_t ntmp;
} tb_sink_t;

GORT_HIDDEN void sched__sink_init(tb_sink_t *s, char *buf, size_t cap);
GORT_HIDDEN void sched__sink_flush(tb_sink_t *s);
/* Starts a sink that writes to fd. */
GORT_HIDDEN void sched__sink_init_fd(tb_sink_t *s, int fd);
GORT_HIDDEN void sched__sink_str(tb_sink_t *s, const char *str);
GORT_HIDDEN void sched__sink_hex(tb_sink_t *s, uint64_t v);
GORT_HIDDEN void sched__sink_dec(tb_sink_t *s, int64_t v);

/* ------------------------------------------------------------------ */
/* tracebacks (traceback.c)                                            */
/* ------------------------------------------------------------------ */

/* "goroutine N [status, M minutes, locked to thread]:\n". */
GORT_HIDDEN void sched__goroutine_header(tb_sink_t *s, g_t *gp);
/* The calling thread's stack from its caller outwards; gp bounds it
 * (NULL: no bounds). Prints "created by" for a user G. */
GORT_HIDDEN void sched__traceback_here(tb_sink_t *s, g_t *gp);
/* A stack from a saved context: a signal's (exact: its PC is the
 * interrupted instruction) or unw_getcontext's. */
GORT_HIDDEN void sched__traceback_context(tb_sink_t *s, g_t *gp,
                                            const ucontext_t *uc, bool exact);
/* Captures the calling function's registers (the callee-saved ones, sp
 * and pc) into *uc, for unwinding from here later, maybe on another
 * stack. No call, no stack: works when the stack is nearly exhausted
 * (unw_getcontext is a PLT call whose lazy binding alone needs KiBs). */
#define RUNTIME_CAPTURE_CONTEXT(uc)                                             \
    do {                                                                        \
        greg_t *gr_ = (uc)->uc_mcontext.gregs;                                  \
        __asm__ volatile("movq %%rbx, %c1(%0)\n\t"                              \
                         "movq %%rbp, %c2(%0)\n\t"                              \
                         "movq %%r12, %c3(%0)\n\t"                              \
                         "movq %%r13, %c4(%0)\n\t"                              \
                         "movq %%r14, %c5(%0)\n\t"                              \
                         "movq %%r15, %c6(%0)\n\t"                              \
                         "movq %%rsp, %c7(%0)\n\t"                              \
                         "leaq 0(%%rip), %%rax\n\t"                             \
                         "movq %%rax, %c8(%0)"                                  \
                         :                                                      \
                         : "r"(gr_), "i"(REG_RBX * 8), "i"(REG_RBP * 8),        \
                           "i"(REG_R12 * 8), "i"(REG_R13 * 8), "i"(REG_R14 * 8), \
                           "i"(REG_R15 * 8), "i"(REG_RSP * 8), "i"(REG_RIP * 8)  \
                         : "rax", "memory");                                    \
    } while (0)

/* Runs fn(arg) on the process's crash stack (256 KiB), or on the current
 * stack if another thread is using it. For fatal reports only. */
GORT_HIDDEN void sched__call_on_crash_stack(void (*fn)(void *), void *arg);
/* Calls fn(arg, pc, start) for each frame of gp's stack, innermost first,
 * libgort's frames included: pc is the frame's return address (the
 * resumption point), start its function's entry (0 if unknown). gp is the
 * caller, or not running (the world stopped, or parked). Returns the
 * number of frames, 0 for a goroutine that never ran, -1 if its stack
 * cannot be walked. */
GORT_HIDDEN int sched__stack_frames(g_t *gp,
                                    void (*fn)(void *arg, uintptr_t pc, uintptr_t start),
                                    void *arg);
/* Every goroutine except me (and the one this M runs), each after a
 * blank line, as Go's tracebackothers. */
GORT_HIDDEN void sched__traceback_others(tb_sink_t *s, g_t *me);

/* The signal context a fatal signal left for sched__crash_tracebacks
 * (set on the crashing thread only). */
typedef struct {
    int sig;
    uintptr_t code, addr, pc;
    const ucontext_t *uc;
    bool exact;              /* uc is where the thread stopped (a signal) */
    g_t *gp;                 /* goroutine the signal interrupted, or NULL */
} sched__sigctx_t;
GORT_HIDDEN extern __thread sched__sigctx_t *sched__crash_sigctx
    __attribute__((tls_model("initial-exec")));

/* "SIGSEGV: segmentation violation" etc. */
GORT_HIDDEN const char *sched__signame(int sig);
/* "[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x...]\n" */
GORT_HIDDEN void sched__print_sigline(tb_sink_t *s, int sig, uintptr_t code,
                                        uintptr_t addr, uintptr_t pc);

/* How far below a goroutine's stack an overflowing frame's sp may be
 * (a large frame jumps over the guard page, or the stack has a canary
 * instead of a guard) and still be reported as that goroutine's. */
#define STACK_OVERFLOW_SLACK (256 * 1024)

/* ------------------------------------------------------------------ */
/* symbols (sched/symbolize.c)                                         */
/* ------------------------------------------------------------------ */

#define TB_MAX_INLINE   16   /* inlined frames kept per PC */

typedef struct {
    const char *name;
    uintptr_t start, size;
} syminfo_t;
/* The symbol (function) containing pc; false if none is known. */
GORT_HIDDEN bool sched__symbolize(uintptr_t pc, syminfo_t *out);

/* file:line of a PC, innermost inlined function first. */
typedef struct {
    int n;
    struct { const char *file, *fn; int line; } f[TB_MAX_INLINE];
} lineinfo_t;
GORT_HIDDEN void sched__lineinfo(uintptr_t pc, lineinfo_t *li);
/* "file:line" of li's outermost function, or pc's module without lines. */
GORT_HIDDEN void sched__sink_where(tb_sink_t *s, const lineinfo_t *li, uintptr_t pc);
/* The module (executable or library path) containing pc. */
GORT_HIDDEN void sched__sink_module(tb_sink_t *s, uintptr_t pc);
/* A function name without gcc's clone suffixes (".isra.0", ".cold"). */
GORT_HIDDEN void sched__sink_funcname(tb_sink_t *s, const char *name);

/* [start, start + size) of the function containing pc, from the unwind
 * tables (cached; no debug information loaded); false if unknown. */
GORT_HIDDEN bool sched__func_extent(uintptr_t pc, uintptr_t *start,
                                      uintptr_t *size);
/* The symbol name of the function containing pc, or NULL (slow the first
 * time: loads symbols and debug information). */
GORT_HIDDEN const char *sched__func_name(uintptr_t pc);

/* True if pc is in libgort's own code (frames hidden from tracebacks). */
GORT_HIDDEN bool sched__pc_in_gort(uintptr_t pc);

#endif /* GORT_RUNTIME_TRACEBACK_H */
