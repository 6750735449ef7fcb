/*
 * test/go/test_chan_select3.c -- port of Go 1.19's test/chan/select3.go:
 * which channel operations and selects block, never block, or panic
 * (nil channels, closed channels, empty selects, default cases, a select
 * that sees itself). testPanic uses go_call/go_defer/go_recover as the Go
 * program uses defer/recover.
 */
#include "helpers.h"
#include "chan_helpers.h"

static const char *const always = "function did not";
static const char *const never = "function did";

static chan_t *nilch;       /* stays NULL */
static chan_t *closedch;

/* ------------------------------------------------------------------ */
/* testPanic                                                           */
/* ------------------------------------------------------------------ */

typedef struct { const char *signal; bool recovered; } tp_t;

static void tp_deferred(void *arg)
{
    tp_t *t = arg;
    t->recovered = go_recover() != NULL;
}

typedef struct { void (*f)(void); tp_t *t; } tp_frame_t;

static void tp_body(void *arg)
{
    tp_frame_t *fr = arg;
    go_defer(tp_deferred, fr->t);
    fr->f();
}

static void test_panic(const char *signal, void (*f)(void))
{
    tp_t t = {signal, false};
    tp_frame_t fr = {f, &t};
    go_call(tp_body, &fr);
    const char *s = t.recovered ? always : never;
    GT_CHECK(s == signal, "%s panic", signal);
}

/* ------------------------------------------------------------------ */
/* testBlock                                                           */
/* ------------------------------------------------------------------ */

typedef struct { void (*f)(void); chan_t *c; const char *signal; } tb_t;

static void tb_run(void *arg)
{
    tb_t *t = arg;
    t->f();
    const char *s = never;
    chan_send(t->c, &s);
}

static void tb_timer(void *arg)
{
    tb_t *t = arg;
    time_sleep(t->signal == never ? 10 * TIME_SECOND : 10 * TIME_MILLISECOND);
    const char *s = always;
    chan_send(t->c, &s);
}

static void test_block(const char *signal, void (*f)(void))
{
    tb_t *t = GT_NEW(tb_t, f, chan_make(sizeof(char *), 0), signal);
    go(tb_run, t);
    go(tb_timer, t);
    const char *got = NULL;
    chan_recv(t->c, &got);
    GT_CHECK(got == signal, "%s block", signal);
}

/* ------------------------------------------------------------------ */
/* the functions under test                                            */
/* ------------------------------------------------------------------ */

static int unreached;
static void unreachable(void) { unreached++; }

static void nil_send(void) { int x = 7; chan_send(nilch, &x); }
static void nil_recv(void) { chan_recv(nilch, NULL); }
static void sel_nil_send_default(void)
{
    int x = 7;
    select_case_t c = {nilch, SELECT_SEND, &x, false};
    if (chan_select(&c, 1, false) == 0) unreachable();
}
static void sel_nil_recv_default(void)
{
    select_case_t c = {nilch, SELECT_RECV, NULL, false};
    if (chan_select(&c, 1, false) == 0) unreachable();
}
static void async_send(void) { chan_t *ch = chan_make(sizeof(int), 1); int x = 7; chan_send(ch, &x); }
static void closed_recv(void)
{
    for (int i = 0; i < 10; i++) {
        int x = 5;
        chan_recv(closedch, &x);
        GT_CHECK(x == 0, "expected zero value when reading from closed channel");
        x = 5;
        bool ok = chan_recv2(closedch, &x);
        GT_CHECK(x == 0 && !ok, "expected 0, false from closed channel");
    }
}
static void closed_send(void) { int x = 7; chan_send(closedch, &x); }
static void unready_recv(void) { chan_t *ch = chan_make(sizeof(int), 0); chan_recv(ch, NULL); }
static void empty_select(void) { chan_select(NULL, 0, true); }
static void sel_nil_recv(void)
{
    select_case_t c = {nilch, SELECT_RECV, NULL, false};
    chan_select(&c, 1, true);
    unreachable();
}
static void sel_nil_send(void)
{
    int x = 7;
    select_case_t c = {nilch, SELECT_SEND, &x, false};
    chan_select(&c, 1, true);
    unreachable();
}
static void sel_nil_both(void)
{
    int x = 7;
    select_case_t c[2] = {{nilch, SELECT_RECV, NULL, false}, {nilch, SELECT_SEND, &x, false}};
    chan_select(c, 2, true);
    unreachable();
}
static void sel_unready(void)
{
    chan_t *ch = chan_make(sizeof(int), 0);
    select_case_t c = {ch, SELECT_RECV, NULL, false};
    chan_select(&c, 1, true);
    unreachable();
}
static void sel_default_only(void) { chan_select(NULL, 0, false); }
static void sel_ready_send(void)
{
    chan_t *ch = chan_make(sizeof(int), 1);
    int x = 7;
    select_case_t c = {ch, SELECT_SEND, &x, false};
    if (chan_select(&c, 1, false) != 0) unreachable();
}
static void sel_ready_recv(void)
{
    chan_t *ch = chan_make(sizeof(int), 1);
    int x = 7;
    chan_send(ch, &x);
    select_case_t c = {ch, SELECT_RECV, NULL, false};
    if (chan_select(&c, 1, false) != 0) unreachable();
}
static void sel_closed_recv(void)
{
    int x = 3;
    select_case_t c = {closedch, SELECT_RECV, &x, true};
    chan_select(&c, 1, true);
    GT_CHECK(x == 0 && !c.ok);
}
static void sel_closed_send(void)
{
    int x = 7;
    select_case_t c = {closedch, SELECT_SEND, &x, false};
    chan_select(&c, 1, true);
}
static void sel_self(void)
{
    chan_t *c = chan_make(sizeof(int), 0);
    int x = 1, y = 0;
    select_case_t cs[2] = {{c, SELECT_SEND, &x, false}, {c, SELECT_RECV, &y, false}};
    chan_select(cs, 2, true);
}

static int main_select3(int argc, char **argv)
{
    GC_STORE(closedch, chan_make(sizeof(int), 0));
    chan_close(closedch);

    test_block(always, nil_send);
    test_block(always, nil_recv);
    test_panic(never, sel_nil_send_default);
    test_panic(never, sel_nil_recv_default);
    test_block(never, async_send);
    test_block(never, closed_recv);
    test_panic(always, closed_send);
    test_block(always, unready_recv);
    test_block(always, empty_select);
    test_block(always, sel_nil_recv);
    test_block(always, sel_nil_send);
    test_block(always, sel_nil_both);
    test_block(always, sel_unready);
    test_block(never, sel_default_only);
    test_block(never, sel_nil_recv_default);
    test_block(never, sel_nil_send_default);
    test_block(never, sel_ready_send);
    test_block(never, sel_ready_recv);
    test_block(never, sel_closed_recv);
    test_panic(always, sel_closed_send);
    test_block(always, sel_self);
    GT_CHECK(unreached == 0, "control flow shouldn't reach here");
    return 0;
}

Test(go_chan, select3, .timeout = 30) { gt_run(main_select3); }
