/* docs/guide/timers.c -- time.Timer (stop, drain, reset as Go documents
 * them), time.AfterFunc and time.Ticker. */
#include <stdio.h>
#include <gort.h>

static void ring(void *arg)          /* runs as a new goroutine, as in Go */
{
    chan_t *rung = arg;
    chan_send(rung, NULL);
}

static int app_main(int argc, char **argv)
{
    (void)argc; (void)argv;
    int64_t when;

    /* A timer fires once: its channel (capacity 1) receives time_now(). */
    time_timer_t *t = time_new_timer(10 * TIME_MILLISECOND);
    chan_recv(time_timer_c(t), &when);
    printf("fired\n");
    /* The value was received: the channel is drained, Reset directly. */
    time_timer_reset(t, 10 * TIME_MILLISECOND);
    chan_recv(time_timer_c(t), &when);
    printf("fired again after a reset\n");

    /* Stop before it fires: true, and nothing will ever be sent. */
    t = time_new_timer(TIME_SECOND * 3600);
    printf("stop a pending timer: %s\n", time_timer_stop(t) ? "true" : "false");

    /* Stop after it fired, value not received: false, and the stale value
     * is still in the channel. Go's idiom: if !t.Stop() { <-t.C } and only
     * then t.Reset(d) -- else the next receive gets the old value at once. */
    t = time_new_timer(TIME_MILLISECOND);
    time_sleep(20 * TIME_MILLISECOND);
    if (!time_timer_stop(t))
        chan_recv(time_timer_c(t), NULL);        /* drain */
    int64_t reset_at = time_now();
    time_timer_reset(t, 10 * TIME_MILLISECOND);
    chan_recv(time_timer_c(t), &when);
    printf("after stop, drain and reset: %s\n", when >= reset_at ? "a fresh value" : "the stale one");

    /* When another goroutine may have received the value already, drain
     * without blocking: select { case <-t.C: default: }. */
    t = time_new_timer(TIME_MILLISECOND);
    time_sleep(20 * TIME_MILLISECOND);
    if (!time_timer_stop(t)) {
        select_case_t drain[] = {{time_timer_c(t), SELECT_RECV, NULL, false}};
        chan_select(drain, 1, false);
    }
    printf("drained without blocking\n");

    /* time.AfterFunc: fn(arg) runs in its own goroutine; the timer has no channel. */
    chan_t *rung = chan_make(0, 0);
    time_timer_t *af = time_after_func(5 * TIME_MILLISECOND, ring, rung);
    chan_recv(rung, NULL);
    printf("AfterFunc ran; its C is %s\n", time_timer_c(af) == NULL ? "NULL" : "set");

    /* A ticker sends every period (a tick nobody takes is dropped); stop it
     * when done, or it ticks on for ever. */
    time_ticker_t *tk = time_new_ticker(2 * TIME_MILLISECOND);
    for (int i = 0; i < 3; i++)
        chan_recv(time_ticker_c(tk), &when);
    time_ticker_reset(tk, 4 * TIME_MILLISECOND);   /* a new period */
    chan_recv(time_ticker_c(tk), &when);
    time_ticker_stop(tk);
    printf("4 ticks, then stopped\n");
    return 0;
}

int main(int argc, char **argv)
{
    return runtime_main(app_main, argc, argv);
}
