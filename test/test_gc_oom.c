/*
 * test/test_gc_oom.c -- huge allocations: Go's out-of-memory and makechan
 * behaviour, and huge spans found by interior pointers.
 *
 * Each failing case runs in a child (gt_child) that must end at once with
 * Go 1.19's message and exit status 2, without touching the memory it
 * asked for; the time bound only guards against a hang.
 */
#include <stdint.h>
#include <sys/sysinfo.h>

#include "helpers.h"

#ifndef OOM_TIMEOUT_MS
#define OOM_TIMEOUT_MS 20000   /* child kill: a hang guard */
#endif
#define OOM_BOUND_NS   (5LL * 1000 * 1000 * 1000)

/* Nanoseconds on the monotonic clock. */
static long long now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

/* Runs fn in a child; asserts exit status 2, want on stderr, no "unwant"
 * text, and an end well within the bound. */
static void expect_death(int (*fn)(int, char **), const char *want, const char *unwant)
{
    static gt_result_t r;
    long long t0 = now_ns();
    gt_child(&r, fn, NULL, OOM_TIMEOUT_MS);
    long long el = now_ns() - t0;
    cr_assert_eq(r.status, 2, "status %d after %lld ms: %s", r.status, el / 1000000, r.out);
    cr_assert(strstr(r.out, want), "want \"%s\":\n%s", want, r.out);
    if (unwant)
        cr_assert(!strstr(r.out, unwant), "unwanted \"%s\":\n%s", unwant, r.out);
    cr_assert(el < OOM_BOUND_NS, "took %lld ms", el / 1000000);
}

/* The kernel refuses a commit larger than RAM + swap unless it is set to
 * overcommit always (vm.overcommit_memory=1), where Go's allocation
 * succeeds as well. */
static bool kernel_refuses_huge(void)
{
    FILE *f = fopen("/proc/sys/vm/overcommit_memory", "r");
    int mode = 0;
    if (f) {
        if (fscanf(f, "%d", &mode) != 1)
            mode = 0;
        fclose(f);
    }
    return mode != 1;
}

/* More than this machine's RAM + swap can back, and at least 64 GiB. */
static size_t beyond_ram(void)
{
    struct sysinfo si;
    size_t n = (size_t)64 << 30;
    if (sysinfo(&si) == 0) {
        size_t have = ((size_t)si.totalram + si.totalswap) * si.mem_unit;
        if (2 * have > n)
            n = 2 * have;
    }
    return n;
}

static int t_chan_1e40(int argc, char **argv)
{
    chan_make(8, (size_t)1 << 40);
    return 0;
}
Test(gc_oom, huge_chan_is_fatal)
{
    GT_SKIP_UNDER("thread", "TSan's fixed memory layout has no 8 TiB of address space "
                  "to reserve: the allocation fails one step earlier, with another text");
    if (!kernel_refuses_huge())
        cr_skip_test("vm.overcommit_memory=1: the kernel backs any size");
    expect_death(t_chan_1e40, "fatal error: runtime: out of memory", NULL);
}

static int t_noscan_8t(int argc, char **argv)
{
    gc_alloc_noscan((size_t)1 << 43);
    return 0;
}
Test(gc_oom, huge_noscan_is_fatal)
{
    GT_SKIP_UNDER("thread", "TSan's fixed memory layout has no 8 TiB of address space "
                  "to reserve: the allocation fails one step earlier, with another text");
    if (!kernel_refuses_huge())
        cr_skip_test("vm.overcommit_memory=1: the kernel backs any size");
    expect_death(t_noscan_8t, "fatal error: runtime: out of memory", NULL);
}

static int t_scan_beyond_ram(int argc, char **argv)
{
    char *p = gc_alloc(beyond_ram());
    runtime_gc();   /* reached only if the allocation succeeded */
    runtime_keep_alive(p);
    return 0;
}
Test(gc_oom, scan_object_beyond_ram_is_fatal)
{
    if (!kernel_refuses_huge())
        cr_skip_test("vm.overcommit_memory=1: the kernel backs any size");
    expect_death(t_scan_beyond_ram, "fatal error: runtime: out of memory", NULL);
}

static int t_size_max(int argc, char **argv)
{
    gc_alloc(SIZE_MAX);
    return 0;
}
Test(gc_oom, size_max_is_fatal)
{
    /* Go's allocLarge: the size does not fit in whole pages. */
    expect_death(t_size_max, "fatal error: out of memory", "cannot allocate");
}

static int t_beyond_address_space(int argc, char **argv)
{
    gc_alloc_noscan((size_t)1 << 47);
    return 0;
}
Test(gc_oom, beyond_address_space_is_fatal)
{
    /* Go's mheap.grow: no address space that large. */
    expect_death(t_beyond_address_space,
                 "runtime: out of memory: cannot allocate 140737488355328-byte block (", NULL);
    expect_death(t_beyond_address_space, "\nfatal error: out of memory\n", NULL);
}

static int t_chan_max_alloc(int argc, char **argv)
{
    chan_make(1, ((size_t)1 << 48) - 4096);   /* within maxAlloc: the heap fails */
    return 0;
}
Test(gc_oom, chan_within_max_alloc_is_fatal)
{
    expect_death(t_chan_max_alloc, "fatal error: out of memory", "panic:");
}

static int t_chan_over_max_alloc(int argc, char **argv)
{
    chan_make(1, ((size_t)1 << 48) + 1);
    return 0;
}
Test(gc_oom, chan_over_max_alloc_panics)
{
    expect_death(t_chan_over_max_alloc, "panic: makechan: size out of range", "fatal error");
}

static const char *recovered;
static void makechan_recover(void *arg) { recovered = go_recover(); }
static void makechan_overflow(void *arg)
{
    go_defer(makechan_recover, NULL);
    chan_make(8, (size_t)1 << 62);   /* 8 << 62 overflows */
}
static int t_chan_overflow_recover(int argc, char **argv)
{
    go_call(makechan_overflow, NULL);
    GT_CHECK(recovered && strcmp(recovered, "makechan: size out of range") == 0, "%s",
             recovered ? recovered : "(nothing recovered)");
    return 0;
}
Test(gc_oom, chan_overflow_panic_recovers) { gt_run(t_chan_overflow_recover); }

/* ------------------------------------------------------------------ */
/* huge spans: interior pointers and their contents                    */
/* ------------------------------------------------------------------ */

#define BIG ((size_t)200 << 20)   /* covers at least two arenas whole */

static void *volatile interior;   /* a global: a root */
static _Atomic int big_freed, small_freed;
static void fin_big(void *o) { atomic_store(&big_freed, 1); }
static void fin_small(void *o) { atomic_store(&small_freed, 1); }

/* A huge scanned object, known only by a pointer into its middle arena,
 * holding the only pointer to a small object near its end. */
static __attribute__((noinline)) void big_setup(void)
{
    char *big = gc_alloc(BIG);
    runtime_set_finalizer(big, fin_big);
    void **slot = (void **)(big + BIG - 4096);
    void *small = gc_alloc(64);
    runtime_set_finalizer(small, fin_small);
    GC_STORE(*slot, small);
    GC_STORE(interior, big + BIG / 2 + 12345);
}

static __attribute__((noinline)) void clobber(void)
{
    volatile char buf[16384];
    memset((char *)buf, 0, sizeof buf);
    __asm__ volatile("" : : "r"(buf) : "memory");   /* the stores are kept, the call too */
}

static int t_big_interior(int argc, char **argv)
{
    big_setup();
    clobber();
    for (int i = 0; i < 3; i++) {
        runtime_gc();
        gt_usleep_full(2000);
    }
    GT_CHECK(!atomic_load(&big_freed), "huge object freed while an interior pointer holds it");
    GT_CHECK(!atomic_load(&small_freed), "object referenced from a huge object freed");
    char *p = (char *)interior;
    GT_CHECK(p[0] == 0 && p[-12345] == 0, "huge object not zeroed");
    return 0;
}
Test(gc_oom, huge_span_found_by_interior_pointer) { gt_run(t_big_interior); }

static int t_big_churn(int argc, char **argv)
{
    /* Huge spans freed and reused, with small objects in between. */
    runtime_mem_stats_t ms;
    for (int i = 0; i < 6; i++) {
        char *p = gc_alloc_noscan(BIG + (size_t)i * 8192);
        p[0] = p[BIG - 1] = 1;
        for (int j = 0; j < 1000; j++)
            gc_alloc(48);
        p = NULL;
        clobber();
        runtime_gc();
    }
    runtime_read_mem_stats(&ms);
    GT_CHECK(ms.heap_sys < (uint64_t)5 * BIG, "huge spans not reused: sys %lu",
             (unsigned long)ms.heap_sys);
    return 0;
}
Test(gc_oom, huge_spans_reused) { gt_run(t_big_churn); }
