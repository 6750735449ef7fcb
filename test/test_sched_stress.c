/*
 * test/test_sched_stress.c -- park/ready, stealing, yields, syscalls,
 * spawns and P-set resizes all at once, checked for lost and doubled
 * goroutines.
 *
 * A ring of NRING goroutines passes NTOK tokens around NROUND times. Each
 * hop is a one-shot gate (sched_helpers.h): goroutine i waits on
 * gate[r][t][i] and opens gate[r][t][i+1] (the last one opens the next
 * round's gate of goroutine 0), so every gate is waited on and opened
 * exactly once. The tokens travel as a pipeline, so at GOMAXPROCS >= 2
 * goroutines are readied from one M and stolen by another all the time.
 * Between hops a goroutine randomly yields, makes a blocking call, spawns
 * a short child or spins; a resizer goroutine changes GOMAXPROCS
 * meanwhile; in some runs every 10th member is locked to its thread. A lost wake-up hangs (the Criterion timeout fails it), a
 * goroutine run twice or in two places shows in the hop counts.
 */
#include "helpers.h"
#include "sched_helpers.h"

#define NRING  200
#define NTOK   4
#define NROUND 200

static gt_gate_t gates[NROUND + 1][NTOK][NRING];
static _Atomic int64_t hops;
static _Atomic int running_in[NRING];   /* > 1: one goroutine on two Ms */
static _Atomic int doubled;
static int64_t seen[NRING];             /* only goroutine i writes seen[i] */
static gt_count_t ring_left, children_left;
static _Atomic int resizer_stop;
static bool lock_some;                  /* every 10th member locks its thread */
static _Atomic int moved_while_locked;

static uint32_t xorshift(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

static void child(void *arg) { gt_count_done(&children_left); }

/* Something random between two hops. */
static void chaos(uint32_t *rng)
{
    switch (xorshift(rng) % 8) {
    case 0:
        runtime_gosched();
        break;
    case 1:
        runtime_entersyscall();
        usleep(20);
        runtime_exitsyscall();
        break;
    case 2:
        atomic_fetch_add(&children_left.n, 1);
        go(child, NULL);
        break;
    case 3: {
        volatile int x = 0;
        for (int i = 0; i < 2000; i++)
            x++;
        break;
    }
    default:
        break;
    }
}

static void member(void *arg)
{
    int i = (int)(intptr_t)arg;
    uint32_t rng = 0x9e3779b9u * (uint32_t)(i + 1);
    bool locked = lock_some && i % 10 == 0;
    int tid = 0;
    if (locked) {
        runtime_lock_os_thread();
        tid = gt_tid();
    }
    for (int r = 0; r < NROUND; r++)
        for (int t = 0; t < NTOK; t++) {
            gt_gate_wait(&gates[r][t][i]);
            if (locked && gt_tid() != tid)
                atomic_store(&moved_while_locked, 1);
            if (atomic_fetch_add(&running_in[i], 1) != 0)
                atomic_store(&doubled, 1);
            seen[i]++;
            atomic_fetch_add(&hops, 1);
            atomic_fetch_sub(&running_in[i], 1);
            chaos(&rng);
            if (i + 1 < NRING)
                gt_gate_open(&gates[r][t][i + 1]);
            else
                gt_gate_open(&gates[r + 1][t][0]);
        }
    if (locked)
        runtime_unlock_os_thread();
    gt_count_done(&ring_left);
}

static void resizer(void *arg)
{
    int k = 0;
    while (!atomic_load(&resizer_stop)) {
        runtime_gomaxprocs(1 + (k++ % 4));
        runtime_entersyscall();
        usleep(2000);
        runtime_exitsyscall();
    }
}

static int run_ring(int procs, bool resize, bool lock)
{
    lock_some = lock;
    runtime_gomaxprocs(procs);
    gt_count_init(&ring_left, NRING);
    gt_count_init(&children_left, 1); /* +1 released below */
    if (resize)
        go(resizer, NULL);
    for (int i = 0; i < NRING; i++)
        go(member, (void *)(intptr_t)i);
    for (int t = 0; t < NTOK; t++)
        gt_gate_open(&gates[0][t][0]);
    gt_count_wait(&ring_left);
    atomic_store(&resizer_stop, 1);
    gt_count_done(&children_left);
    gt_count_wait(&children_left);
    GT_CHECK(!atomic_load(&doubled), "a goroutine ran on two Ms at once");
    GT_CHECK(!atomic_load(&moved_while_locked), "a locked goroutine changed thread");
    GT_CHECK(atomic_load(&hops) == (int64_t)NROUND * NTOK * NRING, "%lld hops",
             (long long)atomic_load(&hops));
    for (int i = 0; i < NRING; i++)
        if (seen[i] != NROUND * NTOK) {
            GT_CHECK(seen[i] == NROUND * NTOK, "member %d saw %lld tokens", i,
                     (long long)seen[i]);
            break;
        }
    /* The last round's gates to member 0 were opened and never waited on;
     * every other gate was consumed. */
    for (int t = 0; t < NTOK; t++)
        GT_CHECK(atomic_load(&gates[NROUND][t][0].g) == GT_GATE_OPENED);
    return 0;
}

static int main_p1(int argc, char **argv) { return run_ring(1, false, false); }
static int main_p2(int argc, char **argv) { return run_ring(2, false, false); }
static int main_p4(int argc, char **argv) { return run_ring(4, false, false); }
static int main_resize(int argc, char **argv) { return run_ring(2, true, false); }
static int main_locked(int argc, char **argv) { return run_ring(2, false, true); }
static int main_locked1(int argc, char **argv) { return run_ring(1, true, true); }

Test(sched_stress, ring_gomaxprocs1, .timeout = 60) { gt_run(main_p1); }
Test(sched_stress, ring_gomaxprocs2, .timeout = 60) { gt_run(main_p2); }
Test(sched_stress, ring_gomaxprocs4, .timeout = 60) { gt_run(main_p4); }
Test(sched_stress, ring_while_resizing, .timeout = 60) { gt_run(main_resize); }
Test(sched_stress, ring_with_locked_members, .timeout = 60) { gt_run(main_locked); }
Test(sched_stress, ring_with_locked_members_resizing, .timeout = 60) { gt_run(main_locked1); }
