/*
 * safe_map.c -- a map shared by 8 goroutines, two ways: a plain table
 * guarded by a sync.Mutex (Go's `struct { sync.Mutex; m map[string]int }`)
 * and a sync.Map. Each goroutine counts words into both; the totals agree.
 */
#include <stdio.h>
#include <string.h>
#include <gort.h>

#define WORKERS 8
#define ROUNDS  1000

static const char *words[] = {"go", "chan", "select", "mutex", "context"};
#define NWORDS (sizeof words / sizeof words[0])

/* 1. A mutex around an ordinary table. */
static struct {
    sync_mutex_t mu;
    long count[NWORDS];
} locked;

static void locked_inc(size_t w)
{
    sync_mutex_lock(&locked.mu);
    locked.count[w]++;
    sync_mutex_unlock(&locked.mu);
}

/* 2. A sync.Map from word to a counter object (a GC object per word). */
static sync_map_t smap;

static void smap_inc(const char *word)
{
    long *fresh = gc_alloc(sizeof(long)), *counter;
    sync_map_load_or_store(&smap, word, strlen(word), fresh, (void **)&counter);
    __atomic_add_fetch(counter, 1, __ATOMIC_SEQ_CST);
}

static sync_waitgroup_t wg;

static void worker(void *arg)
{
    long id = (long)arg;
    for (long i = 0; i < ROUNDS; i++) {
        size_t w = (size_t)(i + id) % NWORDS;
        locked_inc(w);
        smap_inc(words[w]);
    }
    sync_waitgroup_done(&wg);
}

/* Range callback: adds one word's count to *arg. */
static bool add_count(const void *key, size_t len, void *value, void *arg)
{
    (void)key; (void)len;
    *(long *)arg += *(long *)value;
    return true;
}

static int app_main(int argc, char **argv)
{
    (void)argc; (void)argv;
    sync_waitgroup_add(&wg, WORKERS);
    for (long i = 0; i < WORKERS; i++)
        go(worker, (void *)i);
    sync_waitgroup_wait(&wg);
    int bad = 0;
    for (size_t w = 0; w < NWORDS; w++) {
        void *v = NULL;
        sync_map_load(&smap, words[w], strlen(words[w]), &v);
        long n = v ? *(long *)v : 0;
        printf("%-8s mutex %5ld  sync.Map %5ld\n", words[w], locked.count[w], n);
        bad += n != locked.count[w];
    }
    long sum = 0;
    sync_map_range(&smap, add_count, &sum);
    printf("total %ld (%d workers x %d); %s\n", sum, WORKERS, ROUNDS,
           bad || sum != WORKERS * ROUNDS ? "MISMATCH" : "both maps agree");
    return bad;
}

int main(int argc, char **argv) { return runtime_main(app_main, argc, argv); }
