/* docs/guide/sync.c -- Mutex, RWMutex, Once, Cond and WaitGroup; every one
 * is ready when zeroed (a static, a {0} local or a field of a gc_alloc
 * object), as in Go. */
#include <stdio.h>
#include <gort.h>

static sync_mutex_t mu;              /* static: zero, ready */
static long counter;

static sync_rwmutex_t table_mu;
static int table[8];

static sync_once_t once;
static int inits;

/* A bounded queue: one mutex, one Cond (its locker set before first use,
 * as sync.NewCond(&qmu)). */
static sync_mutex_t qmu;
static sync_cond_t qcond = {.l = &qmu};
static int queue[4], qlen;

static void init_table(void *arg)
{
    (void)arg;
    inits++;
    for (int i = 0; i < 8; i++)
        table[i] = i * i;
}

static void work(void *arg)
{
    sync_waitgroup_t *wg = arg;
    sync_once_do(&once, init_table, NULL);   /* once.Do(init): the first caller runs it,
                                                the others wait for it to finish */
    for (int i = 0; i < 1000; i++) {
        sync_mutex_lock(&mu);
        counter++;
        sync_mutex_unlock(&mu);
    }
    sync_rwmutex_rlock(&table_mu);           /* many readers at once */
    int v = table[7];
    sync_rwmutex_runlock(&table_mu);
    (void)v;
    sync_waitgroup_done(wg);
}

static void consumer(void *arg)
{
    sync_waitgroup_t *wg = arg;
    int got = 0;
    while (got < 10) {
        sync_mutex_lock(&qmu);
        while (qlen == 0)                    /* wait in a loop, as in Go */
            sync_cond_wait(&qcond);          /* unlocks qmu while it waits */
        qlen--;
        got++;
        sync_cond_broadcast(&qcond);         /* room for the producer */
        sync_mutex_unlock(&qmu);
    }
    sync_waitgroup_done(wg);
}

static int app_main(int argc, char **argv)
{
    (void)argc; (void)argv;
    sync_waitgroup_t wg = {0};
    sync_waitgroup_add(&wg, 8);
    for (int i = 0; i < 8; i++)
        go(work, &wg);
    sync_waitgroup_wait(&wg);
    printf("counter %ld, init ran %d time(s)\n", counter, inits);

    sync_rwmutex_lock(&table_mu);            /* one writer, no readers */
    table[0] = -1;
    sync_rwmutex_unlock(&table_mu);

    if (sync_mutex_trylock(&mu)) {           /* TryLock: never waits */
        printf("trylock: got it\n");
        sync_mutex_unlock(&mu);
    }

    sync_waitgroup_add(&wg, 1);
    go(consumer, &wg);
    for (int i = 0; i < 10; i++) {
        sync_mutex_lock(&qmu);
        while (qlen == 4)
            sync_cond_wait(&qcond);
        queue[qlen++] = i;
        sync_cond_signal(&qcond);            /* wake one waiter */
        sync_mutex_unlock(&qmu);
    }
    sync_waitgroup_wait(&wg);
    printf("queue drained: %d left\n", qlen);
    return 0;
}

int main(int argc, char **argv)
{
    return runtime_main(app_main, argc, argv);
}
