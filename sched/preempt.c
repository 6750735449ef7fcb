/*
 * sched/preempt.c -- asynchronous preemption with SIGURG.
 *
 * sysmon marks a G that ran too long (g->preempt) and sends SIGURG to its
 * thread. The handler never switches goroutines itself. If the interrupted
 * PC is plain user code, on the G's stack, and the M holds no runtime
 * lock, it rewrites the signal context so that on return the thread
 * "calls" sched__asyncpreempt (runtime/arch/amd64.S): red zone skipped,
 * old PC pushed. The trampoline saves all registers and the extended
 * state on the G's stack and calls the scheduler like any function.
 * Anywhere else, the handler does nothing: the flag stays set and the G
 * yields at its next runtime call (cooperative preemption), or sysmon
 * tries again next tick.
 *
 * "Plain user code" is the executable segments of the main program,
 * minus libgort's own text (section gort_text when linked statically) and
 * minus the PLT stubs through which runtime code calls libc. A fully
 * static program gets no async preemption (libc lives in its text).
 * Shared libraries (libc, jemalloc, libunwind, libgort.so, the vDSO) are
 * never interrupted this way.
 *
 * Context: the handler runs on the M's signal stack, async-signal-safe.
 */
#include <cpuid.h>
#include <elf.h>
#include <fcntl.h>
#include <unistd.h>
#include <link.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>

#include "internal.h"

#define PREEMPT_MAX_RANGES 32
#define PREEMPT_MIN_ROOM   (8 * 1024)   /* stack the trampoline may need */
#define SIGSTACK_SIZE      (64 * 1024)

uint32_t sched__xsave_size;

static struct { uintptr_t lo, hi; } user_text[PREEMPT_MAX_RANGES];
static int nuser_text;
static bool async_enabled;
static const char *async_off_why;   /* why async_enabled is false */
static _Atomic bool stuck_reported;

extern char __start_gort_text[] __attribute__((weak));
extern char __stop_gort_text[] __attribute__((weak));

/* Adds [lo, hi) to the preemptible ranges. */
static void add_range(uintptr_t lo, uintptr_t hi)
{
    if (nuser_text < PREEMPT_MAX_RANGES && hi > lo) {
        user_text[nuser_text].lo = lo;
        user_text[nuser_text].hi = hi;
        nuser_text++;
    }
}

/* Removes [lo, hi) from the preemptible ranges, splitting where needed. */
static void remove_range(uintptr_t lo, uintptr_t hi)
{
    int n = nuser_text;
    for (int i = 0; i < n; i++) {
        uintptr_t rlo = user_text[i].lo, rhi = user_text[i].hi;
        if (hi <= rlo || lo >= rhi)
            continue;
        user_text[i].hi = user_text[i].lo;   /* emptied; re-add the rest */
        if (rlo < lo)
            add_range(rlo, lo);
        if (hi < rhi)
            add_range(hi, rhi);
    }
}

/* Removes the main program's PLT and init/fini stubs: a runtime function
 * calling libc goes through them, and must not be stopped there. Section
 * headers are read from /proc/self/exe once at boot. */
static void remove_stub_sections(uintptr_t bias)
{
    int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    ElfW(Ehdr) eh;
    ElfW(Shdr) *sh = NULL;
    char *names = NULL;
    size_t shsize = 0, namesize = 0;
    if (pread(fd, &eh, sizeof eh, 0) != (ssize_t)sizeof eh || eh.e_shnum == 0 ||
        eh.e_shstrndx >= eh.e_shnum || eh.e_shentsize != sizeof(ElfW(Shdr)))
        goto out;
    shsize = (size_t)eh.e_shnum * sizeof(ElfW(Shdr));
    sh = runtime__malloc(shsize);
    if (pread(fd, sh, shsize, (off_t)eh.e_shoff) != (ssize_t)shsize)
        goto out;
    namesize = sh[eh.e_shstrndx].sh_size;
    names = runtime__malloc(namesize + 1);
    if (pread(fd, names, namesize, (off_t)sh[eh.e_shstrndx].sh_offset) != (ssize_t)namesize)
        goto out;
    for (int i = 0; i < eh.e_shnum; i++) {
        if (sh[i].sh_name >= namesize || !(sh[i].sh_flags & SHF_EXECINSTR))
            continue;
        const char *nm = names + sh[i].sh_name;
        if (strncmp(nm, ".plt", 4) == 0 || strcmp(nm, ".iplt") == 0 ||
            strcmp(nm, ".init") == 0 || strcmp(nm, ".fini") == 0)
            remove_range(bias + sh[i].sh_addr, bias + sh[i].sh_addr + sh[i].sh_size);
    }
out:
    runtime__free(names, namesize + 1);
    runtime__free(sh, shsize);
    close(fd);
}

/* dl_iterate_phdr callback: the main program comes first, named "". Its
 * executable segments, minus libgort's own text (when linked statically)
 * and the PLT, are the code that may be interrupted. A fully static
 * program has libc and jemalloc in that text too, where a goroutine must
 * never be stopped: async preemption stays off there. */
static int phdr_cb(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    int *first = data;
    if (!*first)
        return 1;
    *first = 0;
    bool dynamic = false;
    for (int i = 0; i < info->dlpi_phnum; i++)
        if (info->dlpi_phdr[i].p_type == PT_DYNAMIC)
            dynamic = true;
    if (!dynamic)
        return 1;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X))
            add_range(info->dlpi_addr + ph->p_vaddr,
                      info->dlpi_addr + ph->p_vaddr + ph->p_memsz);
    }
    uintptr_t glo = (uintptr_t)__start_gort_text, ghi = (uintptr_t)__stop_gort_text;
    if (glo && ghi > glo)
        remove_range(glo, ghi);
    remove_stub_sections(info->dlpi_addr);
    return 1;
}

bool sched__pc_is_user(uintptr_t pc)
{
    for (int i = 0; i < nuser_text; i++)
        if (pc >= user_text[i].lo && pc < user_text[i].hi)
            return true;
    return false;
}

/* Is it safe to stop gp, interrupted at pc with stack pointer sp? */
static bool async_safe(m_t *m, g_t *gp, uintptr_t pc, uintptr_t sp)
{
    return gp != NULL && atomic_load_explicit(&gp->preempt, memory_order_relaxed) &&
           m->locks == 0 && m->p != NULL && !m->dying &&
           atomic_load(&gp->status) == G_RUNNING &&
           sp >= gp->stack_lo + PREEMPT_MIN_ROOM + sched__xsave_size && sp < gp->stack_hi &&
           sched__pc_is_user(pc);
}

/* SIGURG handler: redirect the thread into the trampoline if safe. */
static void sigurg_handler(int sig, siginfo_t *info, void *ctx)
{
    (void)sig;
    (void)info;
    m_t *m = runtime__tls_m;
    if (m == NULL)
        return;
    atomic_store(&m->signalpending, false);
    ucontext_t *uc = ctx;
    uintptr_t pc = (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
    uintptr_t sp = (uintptr_t)uc->uc_mcontext.gregs[REG_RSP];
    if (!async_safe(m, m->curg, pc, sp))
        return;
    sp -= 128;                      /* the interrupted frame's red zone */
    sp -= sizeof(uintptr_t);
    *(uintptr_t *)sp = pc;          /* "call" from pc */
    uc->uc_mcontext.gregs[REG_RSP] = (greg_t)sp;
    uc->uc_mcontext.gregs[REG_RIP] = (greg_t)(uintptr_t)sched__asyncpreempt;
}

/* Requests that the G running on p stop soon. */
void sched__preemptone(p_t *p)
{
    m_t *m = p->m;
    if (m == NULL || m == sched__getm())
        return;
    g_t *gp = m->curg;
    if (gp == NULL)
        return;
    atomic_store(&gp->preempt, true);
    if (!async_enabled)
        return;
    bool z = false;
    if (atomic_compare_exchange_strong(&m->signalpending, &z, true))
        pthread_kill(m->thread, SIGURG);
}

/* sysmon: gp has run on its P for ran_ns without a new time slice. With
 * asynchronous preemption off, nothing can stop it before its next gort
 * call, and every G queued on its P waits: say so once per process. Not
 * under TSan: the build, not the program, turned preemption off, and
 * TSan's slowdown makes every loop look stuck. */
void sched__report_unpreemptible(g_t *gp, int64_t ran_ns)
{
    if (GORT_TSAN || async_enabled || atomic_exchange(&stuck_reported, true))
        return;
    runtime__printf("gort: goroutine %lld has run for %lld ms without a gort call and "
                    "cannot be preempted: %s; goroutines queued on its P wait until it "
                    "makes one (call runtime_gosched() in long loops; see \"Preemption\" "
                    "in docs/scheduler.md)\n",
                    (long long)gp->goid, (long long)(ran_ns / 1000000), async_off_why);
}

/* Sizes the xsave area from CPUID leaf 0xD; false if xsave is missing. */
static bool xsave_init(void)
{
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_OSXSAVE))
        return false;
    __cpuid_count(0xD, 0, a, b, c, d);
    if (b < 576)
        return false;
    sched__xsave_size = b + 64;     /* room for 64-byte alignment */
    return true;
}

void sched__preempt_init(void)
{
    int first = 1;
    dl_iterate_phdr(phdr_cb, &first);
#if GORT_TSAN
    /* TSan defers an asynchronous signal's handler to a safe point and
     * hands it a copy of the interrupted context: the injected call would
     * land on a stack that has moved on since. */
    async_off_why = "asynchronous preemption is off under ThreadSanitizer";
    return;
#endif
    async_off_why = "asynchronous preemption is off (GODEBUG=asyncpreemptoff=1)";
    if (runtime__debug.asyncpreemptoff)
        return;
    async_off_why = "this is a fully static program, which runs without asynchronous "
                    "preemption (libc shares its text)";
    if (nuser_text == 0)
        return;
    async_off_why = "asynchronous preemption is off (the CPU has no XSAVE)";
    if (!xsave_init())
        return;
    async_off_why = "asynchronous preemption is off (SIGURG could not be installed)";
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = sigurg_handler;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART;
    sigfillset(&sa.sa_mask);
    if (sigaction(SIGURG, &sa, NULL) != 0)
        return;
    async_enabled = true;
}

/* Gives the M an alternate signal stack, so that handlers (preemption,
 * faults, stack overflow) never run on a goroutine stack. */
void sched__signal_init_m(m_t *m)
{
    void *p = mmap(NULL, SIGSTACK_SIZE, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        runtime__throw("cannot allocate signal stack");
    stack_t ss = {.ss_sp = p, .ss_size = SIGSTACK_SIZE, .ss_flags = 0};
    if (sigaltstack(&ss, NULL) != 0)
        runtime__throw("sigaltstack failed");
    (void)m;
}
