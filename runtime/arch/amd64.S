/*
 * runtime/arch/amd64.S -- goroutine context switch, x86-64 System V.
 *
 * A switched-out goroutine's state is on its own stack, at g->sp:
 *
 *     sp+0   MXCSR (4 bytes), x87 control word (2 bytes), pad
 *     sp+8   r15  r14  r13  r12  rbx  rbp      (callee-saved, ABI)
 *     sp+56  return address
 *
 * Only what the ABI says a callee must preserve is saved: everything else
 * is dead across the call to sched__mcall. The GC scans a parked stack
 * from g->sp upwards, so these saved registers are roots too.
 */
    .text

/* In a sanitizer build sched/fiber.c wraps the four switches in C that
 * announces them to the sanitizer; these are then the *_raw symbols. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define sched__mcall    sched__mcall_raw
#define sched__gogo     sched__gogo_raw
#define sched__gswitch  sched__gswitch_raw
#define sched__grestart sched__grestart_raw
#endif

/* Pushes the callee-saved state in the layout above; rsp is then g->sp. */
.macro SAVE_CONTEXT
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    subq $8, %rsp
    stmxcsr (%rsp)
    fnstcw 4(%rsp)
.endm

/* Pops a context saved by SAVE_CONTEXT at rsp and returns into it. */
.macro RESUME_CONTEXT
    ldmxcsr (%rsp)
    fldcw 4(%rsp)
    addq $8, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    retq
.endm

/* void sched__mcall(g_t *g, uintptr_t g0sp, void (*fn)(g_t *))
 * Saves the caller's context into g->sp and calls fn(g) on the g0 stack. */
    .globl sched__mcall
    .hidden sched__mcall
    .type sched__mcall, @function
sched__mcall:
    .cfi_startproc
    SAVE_CONTEXT
    movq %rsp, (%rdi)          /* g->sp */
    movq %rsi, %rsp            /* onto g0's stack */
    xorl %ebp, %ebp            /* g0 frames end the unwinder's walk */
    callq *%rdx                /* fn(g): never returns */
    ud2
    .cfi_endproc
    .size sched__mcall, .-sched__mcall

/* _Noreturn void sched__gogo(uintptr_t sp)
 * Resumes a context saved by sched__mcall, or a fresh goroutine. */
    .globl sched__gogo
    .hidden sched__gogo
    .type sched__gogo, @function
sched__gogo:
    .cfi_startproc
    movq %rdi, %rsp
    RESUME_CONTEXT
    .cfi_endproc
    .size sched__gogo, .-sched__gogo

/* void sched__gswitch(g_t *from, uintptr_t to_sp, void (*hook)(g_t *))
 * Switches from the calling goroutine straight to another one, without
 * passing through g0: saves the caller's context into from->sp (as
 * sched__mcall does), moves onto the stack of the context saved at to_sp,
 * calls hook(from) there, just below that context, and then resumes it.
 * The hook finishes what g0 would have done once `from` was switched out
 * (release the lock it parked under, queue it), so it must not park and
 * must not need more than a little stack. */
    .globl sched__gswitch
    .hidden sched__gswitch
    .type sched__gswitch, @function
sched__gswitch:
    .cfi_startproc
    SAVE_CONTEXT
    movq %rsp, (%rdi)          /* from->sp */
    movq %rsi, %rsp            /* onto the target's stack, at its context */
    xorl %ebp, %ebp            /* the hook's frames end the unwinder's walk */
    callq *%rdx                /* hook(from) */
    RESUME_CONTEXT
    .cfi_endproc
    .size sched__gswitch, .-sched__gswitch

/* _Noreturn void sched__grestart(uintptr_t sp)
 * Starts the calling G afresh on its own stack, as if sched__gogo had
 * resumed a first context laid out at sp - 64: the stack pointer goes back
 * to the top, MXCSR and the x87 control word to their defaults, and
 * control to sched__gostart. Used when a goroutine ends and the next one
 * to run has no stack yet: it takes over the ending one's stack G. */
    .globl sched__grestart
    .hidden sched__grestart
    .type sched__grestart, @function
sched__grestart:
    .cfi_startproc
    movq %rdi, %rsp
    subq $8, %rsp
    movl $0x1F80, (%rsp)
    ldmxcsr (%rsp)
    movw $0x037F, 4(%rsp)
    fldcw 4(%rsp)
    addq $8, %rsp
    jmp sched__gostart
    .cfi_endproc
    .size sched__grestart, .-sched__grestart

/* First code a new goroutine runs: the outermost frame of its stack. */
    .globl sched__gostart
    .hidden sched__gostart
    .type sched__gostart, @function
sched__gostart:
    .cfi_startproc
    .cfi_undefined rip
    xorl %ebp, %ebp
    callq sched__goentry
    ud2
    .cfi_endproc
    .size sched__gostart, .-sched__gostart

/* Asynchronous preemption. The SIGURG handler made the interrupted thread
 * "call" here: it stepped over the 128-byte red zone and pushed the
 * interrupted PC. Save every register the interrupted code may be using,
 * the flags, and the whole extended state (xsave), call the scheduler as
 * an ordinary function, restore everything, and return past the red zone.
 * Everything saved sits on the goroutine's stack, where the GC's
 * conservative stack scan sees it. */
    .globl sched__asyncpreempt
    .hidden sched__asyncpreempt
    .type sched__asyncpreempt, @function
sched__asyncpreempt:
    .cfi_startproc
    pushfq
    pushq %rax
    pushq %rbx
    pushq %rcx
    pushq %rdx
    pushq %rsi
    pushq %rdi
    pushq %rbp
    pushq %r8
    pushq %r9
    pushq %r10
    pushq %r11
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    movq %rsp, %rbx                      /* rbx: callee-saved frame pointer */
    movl sched__xsave_size(%rip), %eax
    subq %rax, %rsp
    andq $-64, %rsp                      /* xsave needs 64-byte alignment */
    xorl %eax, %eax                      /* zero the 64-byte xsave header */
    movq %rax, 512(%rsp)
    movq %rax, 520(%rsp)
    movq %rax, 528(%rsp)
    movq %rax, 536(%rsp)
    movq %rax, 544(%rsp)
    movq %rax, 552(%rsp)
    movq %rax, 560(%rsp)
    movq %rax, 568(%rsp)
    movl $-1, %eax
    movl $-1, %edx
    xsave (%rsp)
    cld
    callq sched__asyncpreempt2
    movl $-1, %eax
    movl $-1, %edx
    xrstor (%rsp)
    movq %rbx, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %r11
    popq %r10
    popq %r9
    popq %r8
    popq %rbp
    popq %rdi
    popq %rsi
    popq %rdx
    popq %rcx
    popq %rbx
    popq %rax
    popfq
    retq $128
    .cfi_endproc
    .size sched__asyncpreempt, .-sched__asyncpreempt

    .section .note.GNU-stack,"",@progbits
