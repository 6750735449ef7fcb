/* docs/guide/select_default.c -- non-blocking send and receive: a select
 * with a default case is chan_select(..., false), which returns -1 when no
 * case can proceed. */
#include <stdio.h>
#include <gort.h>

/* select { case c <- *v: return true; default: return false } */
static bool try_send(chan_t *c, const int *v)
{
    select_case_t cases[] = {{c, SELECT_SEND, (void *)v, false}};
    return chan_select(cases, 1, false) == 0;
}

/* select { case *v, *ok = <-c: return true; default: return false } */
static bool try_recv(chan_t *c, int *v, bool *ok)
{
    select_case_t cases[] = {{c, SELECT_RECV, v, false}};
    if (chan_select(cases, 1, false) < 0)
        return false;
    *ok = cases[0].ok;
    return true;
}

static int app_main(int argc, char **argv)
{
    (void)argc; (void)argv;
    chan_t *c = chan_make(sizeof(int), 1);
    int v = 1;
    bool ok = false;
    printf("send 1: %s\n", try_send(c, &v) ? "sent" : "full");
    v = 2;
    printf("send 2: %s\n", try_send(c, &v) ? "sent" : "full");
    v = 0;
    if (try_recv(c, &v, &ok))
        printf("recv: %d ok=%d\n", v, ok);
    printf("recv again: %s\n", try_recv(c, &v, &ok) ? "got one" : "empty");
    chan_close(c);
    if (try_recv(c, &v, &ok))      /* a closed channel is always ready */
        printf("recv after close: %d ok=%d\n", v, ok);

    /* Two cases and a default: whichever is ready, else -1. */
    chan_t *a = chan_make(sizeof(int), 1), *b = chan_make(sizeof(int), 1);
    v = 7;
    chan_send(b, &v);
    int got = 0;
    select_case_t cases[] = {
        {a, SELECT_RECV, &got, false},
        {b, SELECT_RECV, &got, false},
    };
    switch (chan_select(cases, 2, false)) {
    case 0:  printf("from a: %d\n", got); break;
    case 1:  printf("from b: %d\n", got); break;
    default: printf("nothing ready\n"); break;
    }
    return 0;
}

int main(int argc, char **argv)
{
    return runtime_main(app_main, argc, argv);
}
