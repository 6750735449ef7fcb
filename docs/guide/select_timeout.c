/* docs/guide/select_timeout.c -- timeouts: a select with a timer's channel
 * (time.After), and one deadline for a whole loop. */
#include <stdio.h>
#include <gort.h>

static void slow_reply(void *arg)
{
    chan_t *reply = arg;
    time_sleep(200 * TIME_MILLISECOND);
    int v = 1;
    chan_send(reply, &v);          /* buffered: never blocks, even if nobody waits */
}

static void fast_reply(void *arg)
{
    chan_t *reply = arg;
    int v = 2;
    chan_send(reply, &v);
}

/* select { case v := <-reply: ...; case <-time.After(d): ... } */
static void wait_for(chan_t *reply, int64_t d)
{
    int v = 0;
    select_case_t cases[] = {
        {reply, SELECT_RECV, &v, false},
        {time_after(d), SELECT_RECV, NULL, false},   /* NULL: discard the time */
    };
    if (chan_select(cases, 2, true) == 0)
        printf("reply %d\n", v);
    else
        printf("timed out\n");
}

static int app_main(int argc, char **argv)
{
    (void)argc; (void)argv;
    chan_t *slow = chan_make(sizeof(int), 1), *fast = chan_make(sizeof(int), 1);
    go(slow_reply, slow);
    go(fast_reply, fast);
    wait_for(slow, 20 * TIME_MILLISECOND);
    wait_for(fast, 5 * TIME_SECOND);

    /* One deadline for the whole loop: create the timer once, outside it
     * (a time_after inside the loop would restart the clock each round). */
    time_ticker_t *ticker = time_new_ticker(5 * TIME_MILLISECOND);
    chan_t *ticks = time_ticker_c(ticker);
    chan_t *deadline = time_after(100 * TIME_MILLISECOND);
    int n = 0;
    for (bool done = false; !done;) {
        select_case_t cases[] = {
            {ticks, SELECT_RECV, NULL, false},
            {deadline, SELECT_RECV, NULL, false},
        };
        if (chan_select(cases, 2, true) == 0)
            n++;
        else
            done = true;
    }
    time_ticker_stop(ticker);                        /* defer ticker.Stop() */
    printf("deadline passed after %s ticks\n", n > 0 ? "some" : "no");
    return 0;
}

int main(int argc, char **argv)
{
    return runtime_main(app_main, argc, argv);
}
