/*
 * sched/symbolize.c -- what tracebacks print with: the output sink (fd 2
 * or a caller's buffer, formatted by hand) and symbols -- a PC's function
 * (libbacktrace's symbol table), its file:line with the inlined calls
 * (DWARF line tables), the extent of its function (the unwind tables),
 * its module.
 *
 * May call: libbacktrace, libunwind (procedure info), dladdr,
 * dl_iterate_phdr, write(2).
 *
 * Context: any, including the fatal report of a signal handler: nothing
 * here allocates with malloc or takes a lock (libbacktrace allocates with
 * mmap), and the sink writes with write(2).
 */
#include <backtrace.h>
#include <errno.h>
#include <dlfcn.h>
#define UNW_LOCAL_ONLY
#include <libunwind.h>
#include <link.h>
#include <string.h>
#include <unistd.h>

#include "traceback.h"

/* Linker-made bounds of libgort's code (see the Makefile's RENAME). */
extern char __start_gort_text[] __attribute__((weak, visibility("hidden")));
extern char __stop_gort_text[] __attribute__((weak, visibility("hidden")));

/* ------------------------------------------------------------------ */
/* sink                                                                */
/* ------------------------------------------------------------------ */

/* Starts a sink: buf == NULL writes to fd 2. */
void sched__sink_init(tb_sink_t *s, char *buf, size_t cap)
{
    s->buf = buf;
    s->cap = cap;
    s->len = 0;
    s->total = 0;
    s->fd = 2;
    s->err = 0;
    s->ntmp = 0;
}

void sched__sink_init_fd(tb_sink_t *s, int fd)
{
    sched__sink_init(s, NULL, 0);
    s->fd = fd;
}

/* Writes the pending bytes of an fd sink. */
void sched__sink_flush(tb_sink_t *s)
{
    size_t off = 0;
    while (off < s->ntmp) {
        ssize_t w = write(s->fd, s->tmp + off, s->ntmp - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            s->err = w < 0 ? errno : EIO;
            break;
        }
        off += (size_t)w;
    }
    s->ntmp = 0;
}

/* Appends n bytes. A buffer sink drops what does not fit. */
static void sink_bytes(tb_sink_t *s, const char *p, size_t n)
{
    s->total += n;
    if (s->buf) {
        size_t room = s->cap - s->len;
        if (n > room)
            n = room;
        memcpy(s->buf + s->len, p, n);
        s->len += n;
        return;
    }
    while (n > 0) {
        if (s->ntmp == sizeof s->tmp)
            sched__sink_flush(s);
        size_t k = sizeof s->tmp - s->ntmp;
        if (k > n)
            k = n;
        memcpy(s->tmp + s->ntmp, p, k);
        s->ntmp += k;
        p += k;
        n -= k;
    }
}

/* Appends a C string. */
void sched__sink_str(tb_sink_t *s, const char *str)
{
    sink_bytes(s, str, strlen(str));
}

/* Appends v as Go's hex(): "0x" and lower-case digits. */
void sched__sink_hex(tb_sink_t *s, uint64_t v)
{
    char b[20];
    int i = sizeof b;
    do {
        b[--i] = "0123456789abcdef"[v & 15];
        v >>= 4;
    } while (v);
    b[--i] = 'x';
    b[--i] = '0';
    sink_bytes(s, b + i, sizeof b - (size_t)i);
}

/* Appends v in decimal. */
void sched__sink_dec(tb_sink_t *s, int64_t v)
{
    char b[24];
    int i = sizeof b;
    uint64_t u = v < 0 ? -(uint64_t)v : (uint64_t)v;
    do {
        b[--i] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        b[--i] = '-';
    sink_bytes(s, b + i, sizeof b - (size_t)i);
}

/* ------------------------------------------------------------------ */
/* symbols                                                             */
/* ------------------------------------------------------------------ */

static struct backtrace_state *_Atomic bt_state;
static _Atomic int bt_state_failed;

/* libbacktrace errors mean "no information": fall back silently. */
static void bt_error(void *data, const char *msg, int errnum)
{
    (void)data; (void)msg; (void)errnum;
}

/* The process-wide libbacktrace state, created on first use. */
static struct backtrace_state *bt_get(void)
{
    struct backtrace_state *st = atomic_load(&bt_state);
    if (st || atomic_load(&bt_state_failed))
        return st;
    st = backtrace_create_state(NULL, 1, bt_error, NULL);
    if (!st) {
        atomic_store(&bt_state_failed, 1);
        return NULL;
    }
    struct backtrace_state *old = NULL;
    if (!atomic_compare_exchange_strong(&bt_state, &old, st))
        st = old;  /* another thread won; the loser's state is leaked */
    return st;
}


static void bt_syminfo_cb(void *data, uintptr_t pc, const char *symname,
                          uintptr_t symval, uintptr_t symsize)
{
    (void)pc;
    syminfo_t *si = data;
    si->name = symname;
    si->start = symval;
    si->size = symsize;
}

/* Name and entry of the function containing pc; false if unknown. */
bool sched__symbolize(uintptr_t pc, syminfo_t *out)
{
    out->name = NULL;
    out->start = 0;
    out->size = 0;
    struct backtrace_state *st = bt_get();
    if (st)
        backtrace_syminfo(st, pc, bt_syminfo_cb, bt_error, out);
    return out->name != NULL;
}

/* pc -> [start, start + size) of its function, from the unwind tables
 * (libunwind: no debug information to load), cached because recover asks
 * on every call. A direct-mapped table; an entry is published by its pc
 * (release) after its other fields, and a reader re-checks the pc. */
#define FUNC_CACHE_SIZE 256
static struct {
    _Atomic uintptr_t pc;
    _Atomic uintptr_t start, size;
} func_cache[FUNC_CACHE_SIZE];

bool sched__func_extent(uintptr_t pc, uintptr_t *start, uintptr_t *size)
{
    size_t h = (pc ^ (pc >> 9)) & (FUNC_CACHE_SIZE - 1);
    if (atomic_load_explicit(&func_cache[h].pc, memory_order_acquire) == pc) {
        *start = atomic_load_explicit(&func_cache[h].start, memory_order_relaxed);
        *size = atomic_load_explicit(&func_cache[h].size, memory_order_relaxed);
        atomic_thread_fence(memory_order_acquire);
        if (atomic_load_explicit(&func_cache[h].pc, memory_order_relaxed) == pc)
            return true;
    }
    unw_proc_info_t pi;
    if (unw_get_proc_info_by_ip(unw_local_addr_space, pc, &pi, NULL) != 0 ||
        pi.start_ip == 0 || pi.end_ip <= pi.start_ip)
        return false;
    atomic_store_explicit(&func_cache[h].pc, 0, memory_order_relaxed);
    atomic_thread_fence(memory_order_release);
    atomic_store_explicit(&func_cache[h].start, pi.start_ip, memory_order_relaxed);
    atomic_store_explicit(&func_cache[h].size, pi.end_ip - pi.start_ip, memory_order_relaxed);
    atomic_store_explicit(&func_cache[h].pc, pc, memory_order_release);
    *start = pi.start_ip;
    *size = pi.end_ip - pi.start_ip;
    return true;
}

/* The symbol name of the function containing pc, or NULL. The first call
 * loads the program's symbols and debug information (libbacktrace). */
const char *sched__func_name(uintptr_t pc)
{
    syminfo_t si;
    return sched__symbolize(pc, &si) ? si.name : NULL;
}


static int bt_pcinfo_cb(void *data, uintptr_t pc, const char *file, int line,
                        const char *fn)
{
    (void)pc;
    lineinfo_t *li = data;
    if (li->n == TB_MAX_INLINE)
        return 1;
    li->f[li->n].file = file;
    li->f[li->n].fn = fn;
    li->f[li->n].line = line;
    li->n++;
    return 0;
}

/* file:line of pc, innermost inlined function first. */
void sched__lineinfo(uintptr_t pc, lineinfo_t *li)
{
    li->n = 0;
    struct backtrace_state *st = bt_get();
    if (st)
        backtrace_pcinfo(st, pc, bt_pcinfo_cb, bt_error, li);
    if (li->n > 0 && !li->f[li->n - 1].file)
        li->n = 0;
}

typedef struct {
    uintptr_t pc;
    const char *name;
} modinfo_t;

static int find_module_cb(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    modinfo_t *mi = data;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD)
            continue;
        uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
        if (mi->pc >= lo && mi->pc < lo + ph->p_memsz) {
            mi->name = info->dlpi_name;
            return 1;
        }
    }
    return 0;
}

/* Prints the path of the object (program or shared library) holding pc. */
void sched__sink_module(tb_sink_t *s, uintptr_t pc)
{
    modinfo_t mi = {pc, NULL};
    dl_iterate_phdr(find_module_cb, &mi);
    if (mi.name && mi.name[0]) {
        sched__sink_str(s, mi.name);
        return;
    }
    char exe[512];
    ssize_t n = mi.name ? readlink("/proc/self/exe", exe, sizeof exe - 1) : -1;
    if (n > 0) {
        exe[n] = 0;
        sched__sink_str(s, exe);
    } else {
        sched__sink_str(s, "?");
    }
}

/* "file:line" of the outermost function in li (the real frame, after its
 * inlined callees), or the module of pc when there is no line table. */
void sched__sink_where(tb_sink_t *s, const lineinfo_t *li, uintptr_t pc)
{
    if (li->n > 0) {
        sched__sink_str(s, li->f[li->n - 1].file);
        sched__sink_str(s, ":");
        sched__sink_dec(s, li->f[li->n - 1].line);
    } else {
        sched__sink_module(s, pc);
    }
}

/* Prints a function name without the suffixes gcc gives clones and
 * split parts ("f.isra.0", "f.cold"): a C identifier has no dot. */
void sched__sink_funcname(tb_sink_t *s, const char *name)
{
    const char *dot = strchr(name, '.');
    sink_bytes(s, name, dot && dot != name ? (size_t)(dot - name) : strlen(name));
}

/* True if pc is in libgort's own code. */
bool sched__pc_in_gort(uintptr_t pc)
{
    if (!__start_gort_text)
        return false;
    return pc >= (uintptr_t)__start_gort_text && pc < (uintptr_t)__stop_gort_text;
}
