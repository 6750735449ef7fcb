/* docs/guide/channels.c -- make, send, receive, len/cap, close, v, ok := <-c
 * and `for v := range c`. */
#include <stdio.h>
#include <gort.h>

static void produce(void *arg)
{
    chan_t *c = arg;
    for (int i = 1; i <= 5; i++)
        chan_send(c, &i);          /* c <- i: the value is copied */
    chan_close(c);                 /* close(c): receivers drain, then see !ok */
}

static int app_main(int argc, char **argv)
{
    (void)argc; (void)argv;

    chan_t *buf = chan_make(sizeof(int), 3);      /* make(chan int, 3) */
    int v = 42;
    chan_send(buf, &v);                           /* room: does not block */
    printf("len %zu cap %zu\n", chan_len(buf), chan_cap(buf));
    chan_recv(buf, &v);                           /* v = <-buf */
    printf("received %d\n", v);

    chan_t *c = chan_make(sizeof(int), 0);        /* make(chan int): unbuffered */
    go(produce, c);
    int sum = 0;
    while (chan_recv2(c, &v))                     /* for v := range c */
        sum += v;
    printf("range sum %d\n", sum);

    bool ok = chan_recv2(c, &v);                  /* v, ok := <-c on a closed channel */
    printf("after close: v=%d ok=%s\n", v, ok ? "true" : "false");
    return 0;
}

int main(int argc, char **argv)
{
    return runtime_main(app_main, argc, argv);
}
