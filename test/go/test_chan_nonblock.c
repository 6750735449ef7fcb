/*
 * test/go/test_chan_nonblock.c -- port of Go 1.19's test/chan/nonblock.go:
 * non-blocking sends and receives (select with default) on unbuffered and
 * one-slot channels of int32, int64, bool and string, retried with a 10 us
 * ticker between tries until the peer goroutine is there.
 */
#include "helpers.h"
#include "chan_helpers.h"

#define MAX_TRIES 10000     /* up to 100 ms per test */

/* One element type of the Go program: what the receiver expects and what
 * the sender sends (Go's i32receiver/i32sender and friends). */
typedef struct {
    const char *name;
    size_t size;
    const void *to_receiver;    /* main sends this; receiver checks it */
    const void *from_sender;    /* sender sends this; main checks it */
} kind_t;

static const int32_t i32_a = 123, i32_b = 234;
static const int64_t i64_a = 123456, i64_b = 234567;
static const bool b_a = true, b_b = true;
static const char *const s_a = "hello", *const s_b = "hello again";

typedef struct { const kind_t *k; chan_t *c, *strobe; } peer_t;

static void receiver(void *arg)
{
    peer_t *p = arg;
    uint8_t buf[16] = {0};
    chan_recv(p->c, buf);
    /* strings compare by pointer: both sides use the same literal */
    GT_CHECK(memcmp(buf, p->k->to_receiver, p->k->size) == 0, "%s value", p->k->name);
    bool t = true;
    chan_send(p->strobe, &t);
}

static void sender(void *arg)
{
    peer_t *p = arg;
    chan_send(p->c, p->k->from_sender);
    bool t = true;
    chan_send(p->strobe, &t);
}

static chan_t *ticker;

static void nb_sleep(void)
{
    chan_recv(ticker, NULL);
    chan_recv(ticker, NULL);
    runtime_gosched();
    runtime_gosched();
    runtime_gosched();
}

static void run_kind(const kind_t *k, size_t buffer, chan_t *sync)
{
    chan_t *c = chan_make(k->size, buffer);
    uint8_t buf[16] = {0};

    /* nothing to receive yet */
    select_case_t rc = {c, SELECT_RECV, buf, false};
    GT_CHECK(chan_select(&rc, 1, false) == -1, "blocked %ssender", k->name);

    peer_t *p = GT_NEW(peer_t, k, c, sync);
    go(receiver, p);
    int try = 0;
    select_case_t sc = {c, SELECT_SEND, (void *)k->to_receiver, false};
    while (chan_select(&sc, 1, false) != 0) {
        if (++try > MAX_TRIES) {
            GT_CHECK(0, "%sreceiver buffer=%zu: fail", k->name, buffer);
            return;
        }
        nb_sleep();
    }
    chan_recv(sync, NULL);

    go(sender, p);
    if (buffer > 0)
        chan_recv(sync, NULL);
    try = 0;
    while (chan_select(&rc, 1, false) != 0) {
        if (++try > MAX_TRIES) {
            GT_CHECK(0, "%ssender buffer=%zu: fail", k->name, buffer);
            return;
        }
        nb_sleep();
    }
    GT_CHECK(memcmp(buf, k->from_sender, k->size) == 0, "%ssender value", k->name);
    if (buffer == 0)
        chan_recv(sync, NULL);
}

static int main_nonblock(int argc, char **argv)
{
    static const kind_t kinds[] = {
        {"i32", sizeof(int32_t), &i32_a, &i32_b},
        {"i64", sizeof(int64_t), &i64_a, &i64_b},
        {"b", sizeof(bool), &b_a, &b_b},
        {"s", sizeof(char *), &s_a, &s_b},
    };
    GC_STORE(ticker, time_ticker_c(time_new_ticker(10 * TIME_MICROSECOND)));
    chan_t *sync = chan_make(sizeof(bool), 0);
    for (size_t buffer = 0; buffer < 2; buffer++)
        for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
            run_kind(&kinds[i], buffer, sync);
    return 0;
}

Test(go_chan, nonblock, .timeout = 30) { gt_run(main_nonblock); }
