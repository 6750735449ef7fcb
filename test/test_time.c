/*
 * test/test_time.c -- the channel-based time API: time_after delivers one
 * time_now() value no earlier than asked; Timer Stop/Reset return values
 * and channel contents as Go's time.Timer; AfterFunc runs its function in
 * a goroutine (and not after Stop); Ticker ticks at its period, drops
 * ticks nobody takes, changes period on Reset and stops; armed timers the
 * program dropped still fire across GCs; 10,000 goroutines sleeping at the
 * same time all wake on time (none early, lateness bounded); select with a
 * timeout; non-positive ticker intervals panic with Go's text.
 */
#include "helpers.h"
#include "chan_helpers.h"

#define MS TIME_MILLISECOND

/* Receives from c without blocking; true if a value was there. */
static bool try_recv(chan_t *c, int64_t *v)
{
    select_case_t sc = {c, SELECT_RECV, v, false};
    return chan_select(&sc, 1, false) == 0;
}

/* Waits (up to 10 s) until c holds a value; the machine may be loaded, so
 * "fired by now" is never assumed from a short sleep. */
static bool wait_len(chan_t *c)
{
    for (int i = 0; i < 10000 && chan_len(c) == 0; i++)
        time_sleep(1 * MS);
    return chan_len(c) > 0;
}

/* ------------------------------------------------------------------ */
/* time_after                                                          */
/* ------------------------------------------------------------------ */

static int main_after(int argc, char **argv)
{
    int64_t t0 = time_now();
    chan_t *c = time_after(20 * MS);
    GT_CHECK(chan_cap(c) == 1);
    int64_t v = 0;
    chan_recv(c, &v);
    int64_t t1 = time_now();
    GT_CHECK(v >= t0 + 20 * MS, "fired %lld ns early", (long long)(t0 + 20 * MS - v));
    GT_CHECK(v <= t1);
    GT_CHECK(t1 - t0 < 2000 * MS, "took %lld ms", (long long)(t1 - t0) / MS);
    /* exactly one value */
    time_sleep(5 * MS);
    GT_CHECK(!try_recv(c, &v), "second value on time_after channel");
    /* zero and negative durations fire at once */
    chan_recv(time_after(0), &v);
    chan_recv(time_after(-5), &v);
    return 0;
}

Test(time, after) { gt_run(main_after); }

/* Select with a timeout, the common Go idiom. */
static int main_select_timeout(int argc, char **argv)
{
    chan_t *never = chan_make(sizeof(int), 0);
    int64_t t0 = time_now(), tv = 0;
    select_case_t cs[2] = {{never, SELECT_RECV, NULL, false},
                           {time_after(10 * MS), SELECT_RECV, &tv, false}};
    GT_CHECK(chan_select(cs, 2, true) == 1);
    GT_CHECK(time_now() - t0 >= 10 * MS);
    /* many short-lived timeouts in a loop, all dropped unfired but one */
    chan_t *ready = chan_make(sizeof(int), 1);
    for (int i = 0; i < 10000; i++) {
        int x = i;
        chan_send(ready, &x);
        select_case_t c2[2] = {{ready, SELECT_RECV, &x, false},
                               {time_after(TIME_SECOND), SELECT_RECV, NULL, false}};
        GT_CHECK(chan_select(c2, 2, true) == 0 && x == i);
    }
    return 0;
}

Test(time, select_timeout) { gt_run(main_select_timeout); }

/* ------------------------------------------------------------------ */
/* Timer                                                               */
/* ------------------------------------------------------------------ */

static int main_timer(int argc, char **argv)
{
    int64_t v;
    /* Stop before it fires: true, and nothing is ever sent */
    time_timer_t *t = time_new_timer(200 * MS);
    GT_CHECK(time_timer_stop(t));
    GT_CHECK(!time_timer_stop(t), "second Stop returned true");
    time_sleep(250 * MS);
    GT_CHECK(!try_recv(time_timer_c(t), &v), "stopped timer fired");

    /* Reset a stopped timer: fires once after the new duration */
    int64_t t0 = time_now();
    GT_CHECK(!time_timer_reset(t, 10 * MS), "Reset of a stopped timer returned true");
    chan_recv(time_timer_c(t), &v);
    GT_CHECK(v - t0 >= 10 * MS);
    /* Stop after it fired: false */
    GT_CHECK(!time_timer_stop(t));

    /* Reset of a pending timer: true, and it fires at the new time only */
    t0 = time_now();
    t = time_new_timer(10 * TIME_SECOND);
    GT_CHECK(time_timer_reset(t, 10 * MS));
    chan_recv(time_timer_c(t), &v);
    GT_CHECK(v - t0 >= 10 * MS && v - t0 < 5 * TIME_SECOND);
    time_sleep(20 * MS);
    GT_CHECK(!try_recv(time_timer_c(t), &v), "timer fired twice");

    /* A fired, undrained timer: the value stays in the channel */
    t = time_new_timer(1 * MS);
    GT_CHECK(wait_len(time_timer_c(t)), "timer never fired");
    GT_CHECK(!time_timer_stop(t));
    GT_CHECK(try_recv(time_timer_c(t), &v));
    return 0;
}

Test(time, timer_stop_reset) { gt_run(main_timer); }

/* Many timers with different durations fire in order of their times
 * (retried with a wider spacing on a loaded machine, as Go's
 * TestAfterQueuing). */
static bool timers_in_order(int64_t spacing)
{
    enum { N = 50 };
    time_timer_t *ts[N];
    for (int i = 0; i < N; i++)
        ts[i] = time_new_timer((int64_t)((i * 7) % N + 1) * spacing);
    int64_t when[N];
    for (int i = 0; i < N; i++)
        chan_recv(time_timer_c(ts[i]), &when[i]);
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++)
            if ((i * 7) % N < (j * 7) % N && when[i] > when[j]) {
                fprintf(stderr, "spacing %lld us: timer %d after timer %d\n",
                        (long long)spacing / 1000, i, j);
                return false;
            }
    return true;
}

static int main_timer_order(int argc, char **argv)
{
    bool ok = false;
    for (int64_t sp = 1 * MS; sp <= 20 * MS && !ok; sp *= 4)
        ok = timers_in_order(sp);
    GT_CHECK(ok, "timers fired out of order at every spacing");
    return 0;
}

Test(time, timers_fire_in_order) { gt_run(main_timer_order); }

/* ------------------------------------------------------------------ */
/* AfterFunc                                                           */
/* ------------------------------------------------------------------ */

static chan_t *af_done;
static _Atomic int af_ran;

static void af_fn(void *arg)
{
    atomic_fetch_add(&af_ran, 1);
    int64_t id = runtime_goid();
    chan_send(af_done, &id);   /* may block: it runs in its own goroutine */
}

static int main_after_func(int argc, char **argv)
{
    GC_STORE(af_done, chan_make(sizeof(int64_t), 0));
    int64_t t0 = time_now();
    time_timer_t *t = time_after_func(10 * MS, af_fn, NULL);
    GT_CHECK(time_timer_c(t) == NULL);
    int64_t id = 0;
    chan_recv(af_done, &id);
    GT_CHECK(time_now() - t0 >= 10 * MS);
    GT_CHECK(id != runtime_goid() && id > 0);
    GT_CHECK(!time_timer_stop(t));
    /* stopped before firing: never runs */
    t = time_after_func(200 * MS, af_fn, NULL);
    GT_CHECK(time_timer_stop(t));
    time_sleep(250 * MS);
    GT_CHECK(atomic_load(&af_ran) == 1);
    /* Reset re-arms it */
    GT_CHECK(!time_timer_reset(t, 5 * MS));
    chan_recv(af_done, &id);
    GT_CHECK(atomic_load(&af_ran) == 2);
    return 0;
}

Test(time, after_func) { gt_run(main_after_func); }

/* ------------------------------------------------------------------ */
/* Ticker                                                              */
/* ------------------------------------------------------------------ */

static int main_ticker(int argc, char **argv)
{
    int64_t t0 = time_now(), v = 0;
    time_ticker_t *tk = time_new_ticker(10 * MS);
    for (int i = 0; i < 5; i++) {
        chan_recv(time_ticker_c(tk), &v);
        /* tick i is never earlier than its slot on the period grid */
        GT_CHECK(v >= t0 + (i + 1) * 10 * MS, "tick %d at %lld us", i,
                 (long long)(v - t0) / 1000);
    }
    int64_t el = time_now() - t0;
    GT_CHECK(el >= 50 * MS && el < 5000 * MS, "5 ticks of 10 ms took %lld ms", (long long)el / MS);

    /* a slow reader: ticks are dropped, never queued beyond one */
    time_sleep(60 * MS);
    GT_CHECK(chan_len(time_ticker_c(tk)) <= 1);

    /* Reset to a longer period: over 400 ms at most ~10 ticks arrive
     * (about 40 at the old period; lateness only lowers the count) */
    time_ticker_reset(tk, 40 * MS);
    int64_t t1 = time_now();
    int ticks = 0;
    chan_t *deadline = time_after(400 * MS);
    for (;;) {
        select_case_t cs[2] = {{time_ticker_c(tk), SELECT_RECV, &v, false},
                               {deadline, SELECT_RECV, NULL, false}};
        if (chan_select(cs, 2, true) == 1)
            break;
        ticks++;
    }
    GT_CHECK(ticks >= 1 && ticks <= 13, "%d ticks in %lld ms after Reset(40 ms)", ticks,
             (long long)(time_now() - t1) / MS);

    /* Stop: no more ticks (a tick in flight at Stop may still land) */
    time_ticker_stop(tk);
    time_sleep(20 * MS);
    try_recv(time_ticker_c(tk), &v);
    time_sleep(100 * MS);
    GT_CHECK(!try_recv(time_ticker_c(tk), &v), "stopped ticker ticked");
    return 0;
}

Test(time, ticker) { gt_run(main_ticker); }

static int main_ticker_zero(int argc, char **argv)
{
    time_new_ticker(0);
    return 0;
}

Test(time, ticker_nonpositive_panics)
{
    GT_EXPECT_EXIT(main_ticker_zero, NULL, 10000, 2,
                   "panic: non-positive interval for NewTicker");
}

/* ------------------------------------------------------------------ */
/* dropped timers survive GC                                           */
/* ------------------------------------------------------------------ */

static chan_t *gc_done;
static void gc_af(void *arg) { chan_send(gc_done, &arg); }

static int main_timer_gc(int argc, char **argv)
{
    enum { N = 200 };
    GC_STORE(gc_done, chan_make(sizeof(void *), N));
    /* keep only the channels of some, nothing of the AfterFuncs */
    static chan_t *cs[N];
    for (int i = 0; i < N; i++) {
        GC_STORE(cs[i], time_timer_c(time_new_timer(30 * MS + i * 100 * TIME_MICROSECOND)));
        time_after_func(30 * MS, gc_af, (void *)(intptr_t)(i + 1));
    }
    for (int k = 0; k < 3; k++) {
        runtime_gc();
        for (int j = 0; j < 20000; j++)
            gc_alloc((size_t)(j % 16 + 1) * 16);   /* reuse anything freed by mistake */
    }
    for (int i = 0; i < N; i++) {
        int64_t v = 0;
        chan_recv(cs[i], &v);
        GT_CHECK(v > 0);
    }
    long sum = 0;
    for (int i = 0; i < N; i++) {
        void *p = NULL;
        chan_recv(gc_done, &p);
        sum += (long)(intptr_t)p;
    }
    GT_CHECK(sum == (long)N * (N + 1) / 2);
    return 0;
}

Test(time, dropped_timers_fire_across_gc, .timeout = 30) { gt_run(main_timer_gc); }

/* ------------------------------------------------------------------ */
/* 10,000 sleepers                                                     */
/* ------------------------------------------------------------------ */

#define SLEEPERS 10000
static _Atomic int early;
static _Atomic int64_t max_late;

static void sleeper(void *arg)
{
    chan_t *done = arg;
    int64_t d = (int64_t)(runtime_goid() % 5 + 1) * MS;
    for (int i = 0; i < 3; i++) {
        int64_t t0 = time_now();
        time_sleep(d);
        int64_t late = time_now() - t0 - d;
        if (late < 0)
            atomic_fetch_add(&early, 1);
        int64_t m = atomic_load(&max_late);
        while (late > m && !atomic_compare_exchange_weak(&max_late, &m, late)) {}
    }
    chan_send(done, NULL);
}

static int run_sleepers(void)
{
    chan_t *done = chan_make(0, SLEEPERS);
    int64_t t0 = time_now();
    for (int i = 0; i < SLEEPERS; i++)
        go(sleeper, done);
    for (int i = 0; i < SLEEPERS; i++)
        chan_recv(done, NULL);
    int64_t wall = time_now() - t0;
    GT_CHECK(atomic_load(&early) == 0, "%d sleeps returned early", atomic_load(&early));
    /* generous bounds: a shared 2-core machine */
    GT_CHECK(atomic_load(&max_late) < 1000 * MS, "a sleep was %lld ms late",
             (long long)atomic_load(&max_late) / MS);
    GT_CHECK(wall < 5000 * MS, "10,000 sleepers took %lld ms", (long long)wall / MS);
    return 0;
}

static int main_sleepers(int argc, char **argv) { return run_sleepers(); }
static int main_sleepers_p1(int argc, char **argv) { runtime_gomaxprocs(1); return run_sleepers(); }

Test(time, ten_thousand_sleepers, .timeout = 30)
{
    GT_SKIP_UNDER("thread", "its 10,000 goroutines each make a TSan fiber, and under that "
                  "cost a sleep ends seconds late, past the bound the test asserts");
    gt_run(main_sleepers);
}
Test(time, ten_thousand_sleepers_gomaxprocs1, .timeout = 30)
{
    GT_SKIP_UNDER("thread", "its 10,000 goroutines each make a TSan fiber, and under that "
                  "cost a sleep ends seconds late, past the bound the test asserts");
    gt_run(main_sleepers_p1);
}
