/*
 * test/test_gc_concurrent.c -- the mark runs beside the program: several
 * goroutines mutate graphs of GC objects through gc_store while cycles
 * run back to back (GOGC=5), at GOMAXPROCS 1, 2 and 4, and every node
 * reached is checked: each parent records the id of the child it points
 * at, so a node freed while reachable, and its slot reused, shows as a
 * wrong id (or a crash). Each worker owns its graph (no data race
 * between workers); the graphs share nodes inside themselves, drop whole
 * subtrees and move pointers around, which is what the barrier must
 * follow. Hundreds of cycles run in each test, with the marker yielding
 * every 16 objects (GORT_GC_MARK_BUDGET) so that it interleaves with the
 * mutators.
 */
#include "helpers.h"
#include "sched_helpers.h"

#define NWORKERS  4
#define NROOTS    8      /* per worker */
#define NKIDS     4
#define OPS       600000 /* per worker */
#define MAX_DEPTH 6

typedef struct node {
    uint64_t magic;
    uint64_t id;
    struct node *kids[NKIDS];
    uint64_t kid_id[NKIDS];
    char payload[32];
} node_t;

#define MAGIC 0x6e6f64656e6f6465ull

static node_t *roots[NWORKERS][NROOTS];
static _Atomic uint64_t next_id = 1;
static _Atomic int bad;
static gt_count_t done;

/* A fresh node with a payload derived from its id. */
static node_t *node_new(void)
{
    node_t *n = gc_new(node_t);
    n->magic = MAGIC;
    n->id = atomic_fetch_add_explicit(&next_id, 1, memory_order_relaxed);
    for (int i = 0; i < (int)sizeof n->payload; i++)
        n->payload[i] = (char)(n->id * 31 + (uint64_t)i);
    return n;
}

/* Whether n is the node its parent recorded (id) and whole. */
static bool node_ok(const node_t *n, uint64_t id)
{
    if (n->magic != MAGIC || n->id != id)
        return false;
    for (int i = 0; i < (int)sizeof n->payload; i++)
        if (n->payload[i] != (char)(n->id * 31 + (uint64_t)i))
            return false;
    return true;
}

/* Points parent's slot k at c (or NULL), recording c's id. */
static void set_kid(node_t *parent, int k, node_t *c)
{
    gc_store(&parent->kids[k], c);
    parent->kid_id[k] = c ? c->id : 0;
}

static uint32_t rnd(uint32_t *s)
{
    *s = *s * 1664525u + 1013904223u;
    return *s >> 8;
}

/* Walks down from root r of worker w up to depth steps, checking every
 * node; returns the last node reached. */
static node_t *walk(int w, int r, int depth, uint32_t *s)
{
    node_t *n = roots[w][r];
    if (n == NULL)
        return NULL;
    if (n->magic != MAGIC)
        atomic_fetch_add(&bad, 1);
    for (int d = 0; d < depth; d++) {
        int k = (int)(rnd(s) % NKIDS);
        node_t *c = n->kids[k];
        if (c == NULL)
            break;
        if (!node_ok(c, n->kid_id[k])) {
            atomic_fetch_add(&bad, 1);
            return NULL;
        }
        n = c;
    }
    return n;
}

/* One worker: random mutations of its own graph. */
static void worker(void *arg)
{
    int w = (int)(intptr_t)arg;
    uint32_t s = (uint32_t)w * 2654435761u + 7;
    for (int r = 0; r < NROOTS; r++)
        GC_STORE(roots[w][r], node_new());
    for (int op = 0; op < OPS && !atomic_load(&bad); op++) {
        int r = (int)(rnd(&s) % NROOTS);
        node_t *n = walk(w, r, (int)(rnd(&s) % MAX_DEPTH), &s);
        if (n == NULL)
            continue;
        int k = (int)(rnd(&s) % NKIDS);
        switch (rnd(&s) % 8) {
        case 0: case 1: case 2:                    /* grow */
            set_kid(n, k, node_new());
            break;
        case 3: {                                  /* share another node */
            node_t *o = walk(w, (int)(rnd(&s) % NROOTS), (int)(rnd(&s) % MAX_DEPTH), &s);
            if (o)
                set_kid(n, k, o);
            break;
        }
        case 4:                                    /* drop a subtree */
            set_kid(n, k, NULL);
            break;
        case 5: {                                  /* move a child up to a root */
            node_t *c = n->kids[k];
            if (c && node_ok(c, n->kid_id[k])) {
                int r2 = (int)(rnd(&s) % NROOTS);
                GC_STORE(roots[w][r2], c);
                set_kid(n, k, NULL);
            }
            break;
        }
        case 6:                                    /* a fresh root */
            GC_STORE(roots[w][r], node_new());
            break;
        default:                                   /* garbage */
            (void)gc_alloc(64 + rnd(&s) % 512);
            break;
        }
    }
    gt_count_done(&done);
}

static int run_mutators(int procs)
{
    runtime_gomaxprocs(procs);
    runtime_set_gc_percent(5);
    gt_count_init(&done, NWORKERS);
    for (intptr_t w = 0; w < NWORKERS; w++)
        go(worker, (void *)w);
    gt_count_wait(&done);
    runtime_mem_stats_t ms;
    runtime_read_mem_stats(&ms);
    printf("GOMAXPROCS=%d: %u cycles, %d bad nodes\n", procs, ms.num_gc, atomic_load(&bad));
    GT_CHECK(atomic_load(&bad) == 0, "%d nodes freed while reachable", atomic_load(&bad));
    GT_CHECK(ms.num_gc >= 20, "only %u cycles ran", ms.num_gc);
    return atomic_load(&gt_failures) ? 1 : 0;
}

static int main_p1(int c, char **v) { return run_mutators(1); }
static int main_p2(int c, char **v) { return run_mutators(2); }
static int main_p4(int c, char **v) { return run_mutators(4); }

/* The marker yields every 16 objects, so mutators run between its steps
 * even with small graphs (with the barrier off this finds lost nodes). */
static void small_budget(void) { setenv("GORT_GC_MARK_BUDGET", "16", 1); }

Test(gc_concurrent, mutators_gomaxprocs1, .timeout = 120, .init = small_budget) { gt_run(main_p1); }
Test(gc_concurrent, mutators_gomaxprocs2, .timeout = 120, .init = small_budget) { gt_run(main_p2); }
Test(gc_concurrent, mutators_gomaxprocs4, .timeout = 120, .init = small_budget) { gt_run(main_p4); }
