/* docs/guide/select_nil.c -- a nil channel's case is never ready: set a
 * channel to NULL to turn its case off, here once it is closed, to merge two
 * channels until both are done. */
#include <stdio.h>
#include <gort.h>

typedef struct { chan_t *c; int from, to; } range_t;

static void count(void *arg)
{
    range_t *r = arg;
    for (int i = r->from; i <= r->to; i++)
        chan_send(r->c, &i);
    chan_close(r->c);
}

static range_t *new_range(int from, int to)
{
    range_t *r = gc_new(range_t);
    GC_STORE(r->c, chan_make(sizeof(int), 0));
    r->from = from;
    r->to = to;
    return r;
}

static int app_main(int argc, char **argv)
{
    (void)argc; (void)argv;
    range_t *ra = new_range(1, 10), *rb = new_range(100, 103);
    go(count, ra);
    go(count, rb);
    chan_t *a = ra->c, *b = rb->c;                   /* locals: plain stores */
    int sum_a = 0, sum_b = 0, v;
    while (a != NULL || b != NULL) {
        select_case_t cases[] = {
            {a, SELECT_RECV, &v, false},             /* NULL: never chosen */
            {b, SELECT_RECV, &v, false},
        };
        int k = chan_select(cases, 2, true);
        if (!cases[k].ok) {                          /* closed: turn the case off */
            if (k == 0) a = NULL; else b = NULL;
            continue;
        }
        if (k == 0) sum_a += v; else sum_b += v;
    }
    printf("a: %d b: %d\n", sum_a, sum_b);
    return 0;
}

int main(int argc, char **argv)
{
    return runtime_main(app_main, argc, argv);
}
