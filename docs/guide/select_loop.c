/* docs/guide/select_loop.c -- the for/select loop of a long-running
 * goroutine: work from one channel, stop when a done channel is closed. */
#include <stdio.h>
#include <gort.h>

typedef struct {
    chan_t *work;        /* ints to add up */
    chan_t *done;        /* closed to ask the loop to stop (element size 0) */
    chan_t *result;      /* the loop's answer */
} loop_t;

static void adder(void *arg)
{
    loop_t *l = arg;
    long sum = 0;
    for (;;) {
        int v;
        select_case_t cases[] = {
            {l->work, SELECT_RECV, &v, false},
            {l->done, SELECT_RECV, NULL, false},
        };
        switch (chan_select(cases, 2, true)) {
        case 0:                          /* case v := <-work: */
            sum += v;
            break;
        case 1:                          /* case <-done: */
            chan_send(l->result, &sum);
            return;
        }
    }
}

static int app_main(int argc, char **argv)
{
    (void)argc; (void)argv;
    loop_t *l = gc_new(loop_t);                 /* shared with a goroutine */
    GC_STORE(l->work, chan_make(sizeof(int), 0));
    GC_STORE(l->done, chan_make(0, 0));
    GC_STORE(l->result, chan_make(sizeof(long), 0));
    go(adder, l);
    for (int i = 1; i <= 100; i++)
        chan_send(l->work, &i);                 /* unbuffered: each one was taken */
    chan_close(l->done);                        /* broadcast: every receiver wakes */
    long sum;
    chan_recv(l->result, &sum);
    printf("sum %ld\n", sum);
    return 0;
}

int main(int argc, char **argv)
{
    return runtime_main(app_main, argc, argv);
}
