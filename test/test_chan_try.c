/*
 * test/test_chan_try.c -- chan_try_send and chan_try_recv, the one-case
 * select with a default: would-block answers on full, empty and nil
 * channels, transfers with a parked partner, a closed channel's receive
 * (ok false, element zeroed, ok may be NULL), the panic of a send on a
 * closed channel, and use from several Ps at once.
 */
#include "helpers.h"

/* Full, empty and nil channels would block; values go through in order. */
static int main_try_basic(int argc, char **argv)
{
    chan_t *c = chan_make(sizeof(int), 2);
    int v = 7;
    bool ok = true;
    GT_CHECK(!chan_try_recv(c, &v, &ok));
    GT_CHECK(v == 7, "element untouched when it would block");
    int a = 1, b = 2;
    GT_CHECK(chan_try_send(c, &a));
    GT_CHECK(chan_try_send(c, &b));
    GT_CHECK(!chan_try_send(c, &a), "full buffer would block");
    GT_CHECK(chan_len(c) == 2);
    GT_CHECK(chan_try_recv(c, &v, &ok) && ok && v == 1);
    GT_CHECK(chan_try_recv(c, &v, NULL) && v == 2);
    GT_CHECK(!chan_try_recv(c, &v, NULL));

    chan_t *u = chan_make(sizeof(int), 0);
    GT_CHECK(!chan_try_send(u, &a), "unbuffered, no receiver");
    GT_CHECK(!chan_try_recv(u, &v, &ok), "unbuffered, no sender");
    GT_CHECK(!chan_try_send(NULL, &a), "nil channel send");
    GT_CHECK(!chan_try_recv(NULL, &v, &ok), "nil channel receive");
    GT_CHECK(!chan_try_recv(NULL, NULL, NULL));
    return 0;
}
Test(chan_try, full_empty_nil) { gt_run(main_try_basic); }

static chan_t *parked;
static sync_waitgroup_t parked_wg;

static void parked_receiver(void *arg)
{
    int v = 0;
    GT_CHECK(chan_recv2(parked, &v) && v == 42);
    sync_waitgroup_done(&parked_wg);
}

static void parked_sender(void *arg)
{
    int v = 43;
    chan_send(parked, &v);
    sync_waitgroup_done(&parked_wg);
}

/* An unbuffered channel with a parked partner proceeds. */
static int main_try_partner(int argc, char **argv)
{
    GC_STORE(parked, chan_make(sizeof(int), 0));
    sync_waitgroup_add(&parked_wg, 1);
    go(parked_receiver, NULL);
    int v = 42;
    while (!chan_try_send(parked, &v))
        runtime_gosched();
    sync_waitgroup_wait(&parked_wg);

    sync_waitgroup_add(&parked_wg, 1);
    go(parked_sender, NULL);
    bool ok = false;
    v = 0;
    while (!chan_try_recv(parked, &v, &ok))
        runtime_gosched();
    GT_CHECK(ok && v == 43);
    sync_waitgroup_wait(&parked_wg);
    return 0;
}
Test(chan_try, parked_partner) { gt_run(main_try_partner); }

/* A closed channel drains its buffer, then gives ok false and a zero. */
static int main_try_closed(int argc, char **argv)
{
    chan_t *c = chan_make(sizeof(long), 1);
    long x = 5, v = -1;
    GT_CHECK(chan_try_send(c, &x));
    chan_close(c);
    bool ok = false;
    GT_CHECK(chan_try_recv(c, &v, &ok) && ok && v == 5);
    v = -1;
    GT_CHECK(chan_try_recv(c, &v, &ok) && !ok && v == 0, "ok %d v %ld", ok, v);
    v = -1;
    GT_CHECK(chan_try_recv(c, &v, NULL) && v == 0);
    GT_CHECK(chan_try_recv(c, NULL, NULL));
    chan_t *u = chan_make(sizeof(long), 0);
    chan_close(u);
    v = -1;
    ok = true;
    GT_CHECK(chan_try_recv(u, &v, &ok) && !ok && v == 0);
    return 0;
}
Test(chan_try, closed_receive) { gt_run(main_try_closed); }

static int main_try_send_closed(int argc, char **argv)
{
    chan_t *c = chan_make(sizeof(int), 1);
    chan_close(c);
    int x = 1;
    chan_try_send(c, &x);
    return 0;
}

Test(chan_try, send_on_closed_panics)
{
    static gt_result_t r;
    gt_child(&r, main_try_send_closed, NULL, 10000);
    cr_assert(strstr(r.out, "panic: send on closed channel") != NULL, "%s", r.out);
    cr_assert_eq(r.status, 2, "exit status %d:\n%s", r.status, r.out);
}

#define TRY_N 20000
static chan_t *shared;
static sync_waitgroup_t try_wg;
static _Atomic long try_sum;

static void try_producer(void *arg)
{
    for (long i = 1; i <= TRY_N; i++)
        while (!chan_try_send(shared, &i))
            runtime_gosched();
    sync_waitgroup_done(&try_wg);
}

static void try_consumer(void *arg)
{
    long got = 0, v;
    while (got < TRY_N) {
        if (chan_try_recv(shared, &v, NULL)) {
            atomic_fetch_add(&try_sum, v);
            got++;
        } else {
            runtime_gosched();
        }
    }
    sync_waitgroup_done(&try_wg);
}

/* Two producers and two consumers polling from two Ps lose nothing. */
static int main_try_concurrent(int argc, char **argv)
{
    runtime_gomaxprocs(2);
    GC_STORE(shared, chan_make(sizeof(long), 4));
    sync_waitgroup_add(&try_wg, 4);
    go(try_producer, NULL);
    go(try_producer, NULL);
    go(try_consumer, NULL);
    go(try_consumer, NULL);
    sync_waitgroup_wait(&try_wg);
    long want = 2L * TRY_N * (TRY_N + 1) / 2;
    GT_CHECK(atomic_load(&try_sum) == want, "sum %ld want %ld", atomic_load(&try_sum), want);
    return 0;
}
Test(chan_try, concurrent_polling, .timeout = 60) { gt_run(main_try_concurrent); }
