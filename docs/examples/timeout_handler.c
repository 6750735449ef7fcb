/*
 * timeout_handler.c -- a request handler that gives up when its context
 * times out, without leaking the goroutine doing the work.
 *
 * The classic leak: the worker sends its result on an unbuffered channel;
 * when the handler has already returned on the timeout, nobody receives,
 * and the worker blocks forever. With a buffer of one the send always
 * completes, the worker ends, and the channel becomes garbage. The worker
 * also watches ctx so it can stop early.
 */
#include <stdio.h>
#include <gort.h>

typedef struct {
    context_t *ctx;
    chan_t *result;                  /* capacity 1: the send never blocks */
    int64_t work_ns;
} request_t;

static void work(void *arg)
{
    request_t *r = arg;
    select_case_t cs[2] = {{context_done(r->ctx), SELECT_RECV, NULL, false},
                           {time_after(r->work_ns), SELECT_RECV, NULL, false}};
    int answer = chan_select(cs, 2, true) == 1 ? 42 : -1;   /* -1: cancelled */
    chan_send(r->result, &answer);   /* completes even if nobody listens */
}

/* Handles one request taking work_ns, with a deadline of timeout_ns. */
static void handle(int64_t work_ns, int64_t timeout_ns)
{
    context_t *ctx = context_with_timeout(context_background(), timeout_ns);
    request_t *r = gc_new(request_t);
    GC_STORE(r->ctx, ctx);
    GC_STORE(r->result, chan_make(sizeof(int), 1));
    r->work_ns = work_ns;
    go(work, r);

    int answer = 0;
    select_case_t cs[2] = {{r->result, SELECT_RECV, &answer, false},
                           {context_done(ctx), SELECT_RECV, NULL, false}};
    if (chan_select(cs, 2, true) == 0)
        printf("work %3lld ms, timeout %3lld ms: answer %d\n", (long long)(work_ns / TIME_MILLISECOND),
               (long long)(timeout_ns / TIME_MILLISECOND), answer);
    else
        printf("work %3lld ms, timeout %3lld ms: gave up (%s)\n", (long long)(work_ns / TIME_MILLISECOND),
               (long long)(timeout_ns / TIME_MILLISECOND), context_err(ctx));
    context_cancel(ctx);             /* always release the context's timer */
}

static int app_main(int argc, char **argv)
{
    (void)argc; (void)argv;
    int before = runtime_num_goroutine();
    handle(10 * TIME_MILLISECOND, 200 * TIME_MILLISECOND);
    handle(500 * TIME_MILLISECOND, 20 * TIME_MILLISECOND);
    for (int i = 0; i < 100 && runtime_num_goroutine() > before; i++)
        time_sleep(TIME_MILLISECOND);
    printf("goroutines left behind: %d\n", runtime_num_goroutine() - before);
    return runtime_num_goroutine() == before ? 0 : 1;
}

int main(int argc, char **argv) { return runtime_main(app_main, argc, argv); }
