/*
 * sched/profile.c -- the goroutine profile: Go's pprof "goroutine"
 * profile at debug=1 (runtime_goroutine_profile, _write).
 *
 *     goroutine profile: total 1003
 *     1000 @ 0x4a1f2c 0x4a2b31 0x401d26 0x4a0b4c
 *     #	0x401d25	worker+0x45	/src/app.c:31
 *
 * With the world stopped, every user goroutine's stack is walked
 * (sched__stack_frames) and identical stacks are counted once; the
 * records print most frequent first (ties in the order of their "@"
 * lines, as Go sorts its keys), each PC of the "@" line a return address,
 * each "#" line the frame at PC - 1 with its function, offset and
 * file:line, inlined calls included. As in tracebacks, libgort's own
 * frames (the park, the channel operation, the goroutine's entry) are
 * not shown, unless that would leave nothing (Go hides the runtime's
 * frames at the top of a stack and runtime.goexit); the stack ends with
 * the function the goroutine was started with, even when that function's
 * last call was compiled as a tail call into gort.
 *
 * May call: traceback.c (walks), symbolize.c (names, lines), the G list,
 * stop-the-world, runtime__malloc. Context: a goroutine (it stops the
 * world).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "traceback.h"

#define PROF_MAX_FRAMES 64          /* frames kept per stack, as pprof's */
#define PROF_KEY_MAX    (PROF_MAX_FRAMES * 19 + 1)

typedef struct {
    uint32_t n, count;
    uint64_t hash;
    uintptr_t pc[PROF_MAX_FRAMES];
    char *key;                      /* the "@" line's PCs, for sorting */
} prof_stack_t;

typedef struct {
    prof_stack_t *recs;             /* distinct stacks */
    size_t nrecs, cap;
    size_t *slots;                  /* open addressing: index + 1, or 0 */
    size_t nslots;
    int64_t total;                  /* goroutines profiled */
    prof_stack_t cur;               /* the stack being collected */
    uintptr_t entry;                /* its goroutine's start function */
    bool has_entry;                 /* a frame of it was seen */
    bool past_entry;                /* the walk reached the runtime's entry */
} prof_t;

/* ------------------------------------------------------------------ */
/* collecting                                                          */
/* ------------------------------------------------------------------ */

/* sched__stack_frames callback: keeps the frames inside the goroutine,
 * stopping at its outermost runtime frame (the goroutine's entry). */
static void add_frame(void *arg, uintptr_t pc, uintptr_t start)
{
    prof_t *p = arg;
    prof_stack_t *c = &p->cur;
    if (start == (uintptr_t)sched__call_entry || start == (uintptr_t)sched__goentry ||
        start == (uintptr_t)sched__gostart)
        p->past_entry = true;
    if (p->past_entry || c->n >= PROF_MAX_FRAMES)
        return;
    if (start == p->entry)
        p->has_entry = true;
    /* A parked G's innermost frame is sched__park at one of its two
     * switches (straight to the next G, or through g0): one PC for both,
     * as Go's gopark has one call, so that identical stacks group. */
    if (c->n == 0 && start == (uintptr_t)sched__park)
        pc = start + 1;
    c->pc[c->n++] = pc;
}

static uint64_t hash_stack(const prof_stack_t *c)
{
    uint64_t h = 1469598103934665603ull ^ c->n;
    for (uint32_t i = 0; i < c->n; i++)
        h = (h ^ c->pc[i]) * 1099511628211ull;
    return h;
}

/* Doubles the hash index (load at most one half). */
static void grow_slots(prof_t *p)
{
    size_t n = p->nslots ? p->nslots * 2 : 256;
    size_t *slots = runtime__malloc(n * sizeof *slots);
    for (size_t i = 0; i < p->nrecs; i++) {
        size_t j = p->recs[i].hash & (n - 1);
        while (slots[j])
            j = (j + 1) & (n - 1);
        slots[j] = i + 1;
    }
    runtime__free(p->slots, p->nslots * sizeof *p->slots);
    p->slots = slots;
    p->nslots = n;
}

/* Counts p->cur: one more of a known stack, or a new record. */
static void count_stack(prof_t *p)
{
    prof_stack_t *c = &p->cur;
    c->hash = hash_stack(c);
    if (2 * (p->nrecs + 1) > p->nslots)
        grow_slots(p);
    size_t j = c->hash & (p->nslots - 1);
    for (; p->slots[j]; j = (j + 1) & (p->nslots - 1)) {
        prof_stack_t *r = &p->recs[p->slots[j] - 1];
        if (r->hash == c->hash && r->n == c->n &&
            memcmp(r->pc, c->pc, c->n * sizeof c->pc[0]) == 0) {
            r->count++;
            return;
        }
    }
    if (p->nrecs == p->cap) {
        size_t ncap = p->cap ? p->cap * 2 : 64;
        prof_stack_t *nr = runtime__malloc(ncap * sizeof *nr);
        memcpy(nr, p->recs, p->nrecs * sizeof *nr);
        runtime__free(p->recs, p->cap * sizeof *p->recs);
        p->recs = nr;
        p->cap = ncap;
    }
    p->recs[p->nrecs] = *c;
    p->recs[p->nrecs].count = 1;
    p->slots[j] = ++p->nrecs;
}

/* Puts the start function into a stack that lost its frame (its last
 * call was a tail call): below the runtime frame that called it (the
 * outermost kept frame, when it is libgort's), as a "return address"
 * just inside the function. */
static void add_entry(prof_stack_t *c, uintptr_t entry)
{
    uint32_t at = c->n;
    if (at > 0 && sched__pc_in_gort(c->pc[at - 1] - 1)) {
        c->pc[at] = c->pc[at - 1];
        at--;
    }
    c->pc[at] = entry + 1;
    c->n++;
}

/* Collects gp's stack, ending with its start function, and counts it. */
static void profile_g(g_t *gp, void *arg)
{
    prof_t *p = arg;
    if (!gp || gp->system)
        return;
    uint32_t st = atomic_load(&gp->status);
    if (st == G_DEAD || st == G_IDLE)
        return;
    p->cur.n = 0;
    p->entry = (uintptr_t)gp->fn;
    p->has_entry = false;
    p->past_entry = false;
    if (!gp->unstarted)
        (void)sched__stack_frames(gp, add_frame, p);
    if (!p->has_entry && p->entry && p->cur.n < PROF_MAX_FRAMES)
        add_entry(&p->cur, p->entry);
    p->total++;
    count_stack(p);
}

/* Walks every user goroutine (the world is stopped, but for the caller). */
static void collect_all(prof_t *p, g_t *me)
{
    profile_g(me, p);
    size_t n = atomic_load(&sched__allglen);
    g_t **all = sched__allgs;
    for (size_t i = 0; all && i < n; i++)
        if (all[i] != me)
            profile_g(all[i], p);
    sched__for_each_unstarted(profile_g, p);
}

/* ------------------------------------------------------------------ */
/* printing                                                            */
/* ------------------------------------------------------------------ */

/* Go's order: more goroutines first, then by the "@" line. */
static int cmp_stacks(const void *a, const void *b)
{
    const prof_stack_t *x = a, *y = b;
    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    return strcmp(x->key, y->key);
}

/* Formats " 0x..." for every PC of r into r->key. */
static void make_key(prof_stack_t *r)
{
    r->key = runtime__malloc(PROF_KEY_MAX);
    tb_sink_t s;
    sched__sink_init(&s, r->key, PROF_KEY_MAX - 1);
    for (uint32_t i = 0; i < r->n; i++) {
        sched__sink_str(&s, " ");
        sched__sink_hex(&s, r->pc[i]);
    }
    r->key[s.len] = 0;
}

/* Whether the frame at pc (inlined function fn there) is libgort's. */
static bool runtime_frame(uintptr_t pc, const char *fn)
{
    return sched__pc_in_gort(pc) || (fn && strstr(fn, "__"));
}

/* One "#\tPC\tFUNCTION+0xOFF\tFILE:LINE" line. */
static void print_hash_line(tb_sink_t *s, uintptr_t pc, const char *fn, uintptr_t start,
                            const char *file, int line)
{
    sched__sink_str(s, "#\t");
    sched__sink_hex(s, pc);
    sched__sink_str(s, "\t");
    sched__sink_funcname(s, fn ? fn : "?");
    sched__sink_str(s, "+");
    sched__sink_hex(s, start && pc >= start ? pc - start : 0);
    sched__sink_str(s, "\t");
    sched__sink_str(s, file ? file : "?");
    sched__sink_str(s, ":");
    sched__sink_dec(s, line);
    sched__sink_str(s, "\n");
}

/* The "#" lines of one PC (its inlined calls first): libgort's frames
 * only with all; *show records that a line was printed. */
static void print_pc(tb_sink_t *s, uintptr_t retpc, bool all, bool *show)
{
    uintptr_t pc = retpc - 1;
    syminfo_t si;
    if (!sched__symbolize(pc, &si))
        si = (syminfo_t){NULL, 0, 0};
    lineinfo_t li;
    sched__lineinfo(pc, &li);
    if (li.n == 0) {
        li.n = 1;
        li.f[0].fn = si.name;
        li.f[0].file = NULL;
        li.f[0].line = 0;
    }
    for (int i = 0; i < li.n; i++) {
        const char *fn = i + 1 == li.n && si.name ? si.name : li.f[i].fn;
        if (!all && runtime_frame(pc, li.f[i].fn))
            continue;
        *show = true;
        print_hash_line(s, pc, fn, si.start, li.f[i].file, li.f[i].line);
    }
}

/* One record: "COUNT @ PCs", its frames, a blank line. */
static void print_record(tb_sink_t *s, const prof_stack_t *r)
{
    sched__sink_dec(s, r->count);
    sched__sink_str(s, " @");
    sched__sink_str(s, r->key);
    sched__sink_str(s, "\n");
    bool show = false;
    for (uint32_t i = 0; i < r->n; i++)
        print_pc(s, r->pc[i], false, &show);
    if (!show)     /* nothing but runtime frames: show them all */
        for (uint32_t i = 0; i < r->n; i++)
            print_pc(s, r->pc[i], true, &show);
    sched__sink_str(s, "\n");
}

/* Collects, sorts and prints the whole profile into s. */
static void profile(tb_sink_t *s)
{
    g_t *me = sched__needg("runtime_goroutine_profile");
    prof_t p;
    memset(&p, 0, sizeof p);
    sched__stop_the_world("goroutine profile");
    collect_all(&p, me);
    sched__start_the_world();
    for (size_t i = 0; i < p.nrecs; i++)
        make_key(&p.recs[i]);
    qsort(p.recs, p.nrecs, sizeof *p.recs, cmp_stacks);
    sched__sink_str(s, "goroutine profile: total ");
    sched__sink_dec(s, p.total);
    sched__sink_str(s, "\n");
    for (size_t i = 0; i < p.nrecs; i++) {
        print_record(s, &p.recs[i]);
        runtime__free(p.recs[i].key, PROF_KEY_MAX);
    }
    runtime__free(p.recs, p.cap * sizeof *p.recs);
    runtime__free(p.slots, p.nslots * sizeof *p.slots);
}

size_t runtime_goroutine_profile(char *buf, size_t len)
{
    char none;
    bool room = buf != NULL && len > 0;
    tb_sink_t s;
    sched__sink_init(&s, room ? buf : &none, room ? len - 1 : 0);
    profile(&s);
    if (room)
        buf[s.len] = 0;
    return s.total;
}

int runtime_goroutine_profile_write(int fd)
{
    tb_sink_t s;
    sched__sink_init_fd(&s, fd);
    profile(&s);
    sched__sink_flush(&s);
    if (s.err) {
        errno = s.err;
        return -1;
    }
    return 0;
}
