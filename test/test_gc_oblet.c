/*
 * test/test_gc_oblet.c -- large objects are marked in 128 KiB pieces
 * (oblets):
 *  - a 64 MiB array of pointers, its slots moved about with gc_store by
 *    one goroutine while another runs cycles back to back, keeps every
 *    object its slots point to (at GOMAXPROCS 1 and 2; make check runs
 *    this suite again with GODEBUG=gccheckmark=1, which checks each mark);
 *  - a cycle over such an array queues its pieces as work of their own.
 */
#include "helpers.h"
#include "sched_helpers.h"

#define ARRAY_BYTES ((size_t)64 << 20)
#define NSLOTS      (ARRAY_BYTES / sizeof(void *))
#define EVERY       8                    /* one slot in 8 holds an object */
#define MOVES       400000
#define PIECE       ((size_t)128 << 10)

typedef struct { uint64_t id, check; } item_t;

static item_t **arr;
static uint32_t *shadow;                /* malloc'd: the id each slot should hold */
static _Atomic bool cycling;
static gt_count_t cycler_done;
static _Atomic int cycles_run;

static item_t *item_new(uint64_t id)
{
    item_t *it = gc_alloc(sizeof *it);
    it->id = id;
    it->check = ~id * 0x9e3779b97f4a7c15ull;
    return it;
}

/* Runs cycles until told to stop. */
static void cycler(void *arg)
{
    (void)arg;
    while (atomic_load(&cycling)) {
        runtime_gc();
        atomic_fetch_add(&cycles_run, 1);
    }
    gt_count_done(&cycler_done);
}

/* Moves a pointer from a slot high in the array to one low in it (from a
 * piece not yet scanned to one already scanned), or replaces it. */
static void mutate(uint64_t *rng, uint64_t *next_id)
{
    *rng = *rng * 6364136223846793005ull + 1442695040888963407ull;
    size_t src = (size_t)(*rng >> 20) % NSLOTS;
    size_t dst = (size_t)(*rng >> 8) % (NSLOTS / 4);
    if (src < dst) {
        size_t t = src;
        src = dst;
        dst = t;
    }
    if (arr[src] == NULL || src == dst) {
        gc_store(&arr[src], item_new(*next_id));
        shadow[src] = (uint32_t)(*next_id)++;
        return;
    }
    gc_store(&arr[dst], arr[src]);
    shadow[dst] = shadow[src];
    gc_store(&arr[src], NULL);
    shadow[src] = 0;
}

/* Counts the slots whose object is not the one they should hold. */
static size_t verify(void)
{
    size_t bad = 0;
    for (size_t i = 0; i < NSLOTS; i++) {
        item_t *it = arr[i];
        if (shadow[i] == 0 ? it != NULL
                           : it == NULL || it->id != shadow[i] ||
                                 it->check != ~it->id * 0x9e3779b97f4a7c15ull)
            bad++;
    }
    return bad;
}

static int reachable_main(int procs)
{
    runtime_gomaxprocs(procs);
    shadow = calloc(NSLOTS, sizeof *shadow);
    GC_STORE(arr, gc_alloc(ARRAY_BYTES));
    uint64_t next_id = 1, rng = 42;
    for (size_t i = 0; i < NSLOTS; i += EVERY) {
        gc_store(&arr[i], item_new(next_id));
        shadow[i] = (uint32_t)next_id++;
    }
    atomic_store(&cycling, true);
    atomic_store(&cycles_run, 0);
    gt_count_init(&cycler_done, 1);
    go(cycler, NULL);
    for (int i = 0; i < MOVES || atomic_load(&cycles_run) < 4; i++) {
        mutate(&rng, &next_id);
        if (i % 1024 == 0)
            runtime_gosched();
    }
    atomic_store(&cycling, false);
    gt_count_wait(&cycler_done);
    runtime_gc();
    size_t bad = verify();
    GT_CHECK(bad == 0, "%zu of %zu slots lost or changed their object", bad, NSLOTS);
    gc_store(&arr, NULL);
    free(shadow);
    return 0;
}

static int reachable_p1(int argc, char **argv) { (void)argc; (void)argv; return reachable_main(1); }
static int reachable_p2(int argc, char **argv) { (void)argc; (void)argv; return reachable_main(2); }

Test(gc_oblet, large_array_keeps_its_objects_gomaxprocs1, .timeout = 120) { gt_run(reachable_p1); }
Test(gc_oblet, large_array_keeps_its_objects_gomaxprocs2, .timeout = 120) { gt_run(reachable_p2); }

/* ---- pieces as work of their own -------------------------------------- */

extern _Atomic uint64_t gc__oblets;

static int pieces_main(int argc, char **argv)
{
    (void)argc; (void)argv;
    GC_STORE(arr, gc_alloc(ARRAY_BYTES));
    runtime_gc();
    uint64_t n0 = atomic_load(&gc__oblets);
    runtime_gc();
    uint64_t n = atomic_load(&gc__oblets) - n0;
    GT_CHECK(n >= ARRAY_BYTES / PIECE - 1, "a cycle queued %llu pieces of the array, want %zu",
             (unsigned long long)n, ARRAY_BYTES / PIECE - 1);
    gc_store(&arr, NULL);
    return 0;
}

Test(gc_oblet, large_object_is_queued_in_pieces) { gt_run(pieces_main); }
