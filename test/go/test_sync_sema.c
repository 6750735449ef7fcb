/*
 * test/go/test_sync_sema.c -- port of Go 1.19 src/runtime/sema_test.go:
 * TestSemaHandoff1 and TestSemaHandoff2 (GOMAXPROCS 1 and 2). A release
 * with hand-off must let the waiter run before the releaser goes on, in
 * at least two thirds of the tries (as Go's threshold). Plus the
 * collision case of BenchmarkSemTable as a test: many waiters on two
 * addresses that share a bucket, and on many addresses sharing a bucket.
 */
#include "helpers.h"

void sync__semacquire(uint32_t *addr, bool lifo, const char *reason);
void sync__semrelease(uint32_t *addr, bool handoff);
int sync__semwaiters(const void *addr);
int sync__semtreapcheck(const void *addr);

typedef struct {
    uint32_t sema;
    _Atomic uint32_t res;
    _Atomic bool done;
    sync_waitgroup_t wg;
} handoff_t;

/* Keeps the Ps slightly busy so the releaser cannot win on another CPU. */
static void busy(void *arg)
{
    handoff_t *h = arg;
    while (!atomic_load(&h->done))
        runtime_gosched();
    sync_waitgroup_done(&h->wg);
}

static void waiter(void *arg)
{
    handoff_t *h = arg;
    sync__semacquire(&h->sema, false, "semacquire");
    uint32_t zero = 0;
    atomic_compare_exchange_strong(&h->res, &zero, 1);
    sync__semrelease(&h->sema, true);
    atomic_store(&h->done, true);
    sync_waitgroup_done(&h->wg);
}

/* One try: true if the waiter ran first. */
static bool test_sema_handoff1(void)
{
    handoff_t *h = gc_new(handoff_t);
    int procs = runtime_gomaxprocs(-1);
    for (int i = 0; i < procs; i++) {
        sync_waitgroup_add(&h->wg, 1);
        go(busy, h);
    }
    sync_waitgroup_add(&h->wg, 1);
    go(waiter, h);
    while (sync__semwaiters(&h->sema) == 0)
        runtime_gosched();       /* until it blocks in semacquire */
    /* The crux: release with hand-off, then race the waiter's CAS. */
    sync__semrelease(&h->sema, true);
    uint32_t zero = 0;
    atomic_compare_exchange_strong(&h->res, &zero, 2);
    sync_waitgroup_wait(&h->wg);
    return atomic_load(&h->res) == 1;
}

static void test_sema_handoff(void)
{
    enum { ITER = 10000 };
    int ok = 0;
    for (int i = 0; i < ITER; i++)
        if (test_sema_handoff1())
            ok++;
    GT_CHECK(ok >= ITER * 2 / 3, "direct handoff < 2/3: %d %d", ok, ITER);
}

static int handoff_procs(int procs)
{
    int old = runtime_gomaxprocs(procs);
    test_sema_handoff();
    runtime_gomaxprocs(old);
    return 0;
}

static int handoff1(int argc, char **argv) { return handoff_procs(1); }
static int handoff2(int argc, char **argv) { return handoff_procs(2); }

Test(go_sync_sema, TestSemaHandoff1, .timeout = 60) { gt_run(handoff1); }
Test(go_sync_sema, TestSemaHandoff2, .timeout = 60) { gt_run(handoff2); }

/* ---- collisions in one bucket ---- */

#define SEMTAB 251
static uint32_t *coll_words;
static sync_waitgroup_t coll_wg;

typedef struct { uint32_t *addr; bool lifo; } collarg_t;

static void coll_waiter(void *arg)
{
    collarg_t *c = arg;
    sync__semacquire(c->addr, c->lifo, "semacquire");
    sync_waitgroup_done(&coll_wg);
}

/* n goroutines wait on addrs[i % naddr] (every third LIFO); releases in a
 * scrambled address order each wake exactly one waiter of that address,
 * and the bucket's treap stays well-formed throughout. */
static void collide(uint32_t **addrs, int naddr, int n)
{
    collarg_t *args = gc_alloc(sizeof(collarg_t) * (size_t)n);
    int *left = gc_alloc_noscan(sizeof(int) * (size_t)naddr);
    sync_waitgroup_add(&coll_wg, n);
    for (int i = 0; i < n; i++) {
        args[i].addr = addrs[i % naddr];
        args[i].lifo = i % 3 == 0;
        left[i % naddr]++;
        go(coll_waiter, &args[i]);
    }
    int total = 0;
    for (int k = 0; k < 100000 && total != n; k++) {
        total = 0;
        for (int a = 0; a < naddr; a++)
            total += sync__semwaiters(addrs[a]);
        if (total != n)
            runtime_gosched();
    }
    GT_CHECK(total == n, "%d of %d goroutines queued", total, n);
    GT_CHECK(sync__semtreapcheck(addrs[0]) == naddr, "treap: %d heads, want %d",
             sync__semtreapcheck(addrs[0]), naddr);
    uint32_t x = 12345;
    for (int released = 0; released < n;) {
        x = x * 1103515245u + 12345u;
        int a = (int)((x >> 8) % (uint32_t)naddr);
        if (left[a] == 0)
            continue;
        int before = sync__semwaiters(addrs[a]);
        sync__semrelease(addrs[a], false);
        GT_CHECK(sync__semwaiters(addrs[a]) == before - 1, "release woke %d",
                 before - sync__semwaiters(addrs[a]));
        left[a]--;
        released++;
        if (released % 64 == 0)
            GT_CHECK(sync__semtreapcheck(addrs[0]) >= 0, "treap broken");
    }
    sync_waitgroup_wait(&coll_wg);
    GT_CHECK(sync__semtreapcheck(addrs[0]) == 0, "treap not empty");
    for (int a = 0; a < naddr; a++)
        GT_CHECK(*addrs[a] == 0 && sync__semwaiters(addrs[a]) == 0,
                 "addr %d: count %u waiters %d", a, *addrs[a], sync__semwaiters(addrs[a]));
}

static int test_collisions(int argc, char **argv)
{
    enum { NADDR = 500 };
    /* words SEMTAB * 8 bytes apart hash to the same bucket */
    coll_words = gc_alloc_noscan(sizeof(uint64_t) * SEMTAB * NADDR);
    static uint32_t *addrs[NADDR];
    for (int a = 0; a < NADDR; a++)
        addrs[a] = (uint32_t *)((uint64_t *)coll_words + (size_t)a * SEMTAB);
    collide(addrs, 2, 2000);             /* OneAddrCollision */
    collide(addrs, NADDR, 4000);         /* ManyAddrCollision */
    return 0;
}

Test(go_sync_sema, SemTableCollisions, .timeout = 60) { gt_run(test_collisions); }
