/* docs/guide/fanin.c -- fan-in: several producers send into one channel; a
 * WaitGroup tells a closer goroutine when to close it, so the consumer can
 * range over it. */
#include <stdio.h>
#include <gort.h>

typedef struct {
    chan_t *out;
    sync_waitgroup_t wg;     /* embedded: a zero WaitGroup is ready */
} merge_t;

typedef struct {
    merge_t *m;
    int id;
} producer_t;

static void producer(void *arg)
{
    producer_t *p = arg;
    for (int i = 0; i < 10; i++) {
        int v = p->id * 100 + i;
        chan_send(p->m->out, &v);
    }
    sync_waitgroup_done(&p->m->wg);
}

static void closer(void *arg)
{
    merge_t *m = arg;
    sync_waitgroup_wait(&m->wg);
    chan_close(m->out);
}

static int app_main(int argc, char **argv)
{
    (void)argc; (void)argv;
    merge_t *m = gc_new(merge_t);
    GC_STORE(m->out, chan_make(sizeof(int), 4));
    for (int id = 1; id <= 3; id++) {
        producer_t *p = gc_new(producer_t);
        GC_STORE(p->m, m);                 /* p is new and unpublished: still gc_store */
        p->id = id;
        sync_waitgroup_add(&m->wg, 1);
        go(producer, p);
    }
    go(closer, m);
    int n = 0, per[4] = {0}, v;
    while (chan_recv2(m->out, &v)) {       /* in any interleaving, until closed */
        n++;
        per[v / 100]++;
    }
    printf("%d values: %d from 1, %d from 2, %d from 3\n", n, per[1], per[2], per[3]);
    return 0;
}

int main(int argc, char **argv)
{
    return runtime_main(app_main, argc, argv);
}
