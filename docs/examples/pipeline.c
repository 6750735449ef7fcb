/*
 * pipeline.c -- a three-stage pipeline (generate, square, print) that the
 * consumer stops through a context: after the first 5 results it cancels,
 * and every stage, blocked on a send or a receive, sees ctx's Done in its
 * select and returns, closing its output channel on the way out.
 */
#include <stdio.h>
#include <gort.h>

typedef struct {
    context_t *ctx;
    chan_t *in, *out;
    sync_waitgroup_t *wg;
} stage_t;

/* Sends *v on out unless ctx is done first; false if it is. */
static bool send_or_done(context_t *ctx, chan_t *out, long *v)
{
    select_case_t cs[2] = {{out, SELECT_SEND, v, false},
                           {context_done(ctx), SELECT_RECV, NULL, false}};
    return chan_select(cs, 2, true) == 0;
}

static void generate(void *arg)
{
    stage_t *s = arg;
    for (long i = 1;; i++)
        if (!send_or_done(s->ctx, s->out, &i))
            break;
    chan_close(s->out);
    sync_waitgroup_done(s->wg);
}

static void square(void *arg)
{
    stage_t *s = arg;
    long v;
    for (;;) {
        select_case_t cs[2] = {{s->in, SELECT_RECV, &v, false},
                               {context_done(s->ctx), SELECT_RECV, NULL, false}};
        if (chan_select(cs, 2, true) != 0 || !cs[0].ok)
            break;
        v *= v;
        if (!send_or_done(s->ctx, s->out, &v))
            break;
    }
    chan_close(s->out);
    sync_waitgroup_done(s->wg);
}

static stage_t *stage(context_t *ctx, chan_t *in, sync_waitgroup_t *wg)
{
    stage_t *s = gc_new(stage_t);
    GC_STORE(s->ctx, ctx);
    GC_STORE(s->in, in);
    GC_STORE(s->out, chan_make(sizeof(long), 0));
    s->wg = wg;
    return s;
}

static int app_main(int argc, char **argv)
{
    (void)argc; (void)argv;
    static sync_waitgroup_t wg;
    context_t *ctx = context_with_cancel(context_background());
    stage_t *gen = stage(ctx, NULL, &wg), *sq = stage(ctx, gen->out, &wg);
    sync_waitgroup_add(&wg, 2);
    go(generate, gen);
    go(square, sq);

    long v;
    for (int i = 0; i < 5 && chan_recv2(sq->out, &v); i++)
        printf("%ld\n", v);
    context_cancel(ctx);             /* stop the stages upstream */
    sync_waitgroup_wait(&wg);
    printf("pipeline stopped: %s\n", context_err(ctx));
    return 0;
}

int main(int argc, char **argv) { return runtime_main(app_main, argc, argv); }
