/*
 * test/go/test_time_sleep.c -- ports of Go 1.19's src/time/sleep_test.go
 * and tick_test.go tests that apply to gort's time API, with their checks:
 * TestAfterFunc, TestAfterStress, TestAfterStop, TestAfterQueuing,
 * TestTimerStopStress, TestSleepZeroDeadlock,
 * TestReset, TestOverflowSleep, TestZeroTimer (100,000 rounds instead of
 * 1,000,000), TestZeroTimerStopPanics/ResetPanics (a NULL timer),
 * TestTimerModifiedEarlier, TestAdjustTimers, TestTeardown,
 * TestNewTickerLtZeroDuration, TestTickerResetLtZeroDuration.
 * Not ported: tests of Time/Duration formatting and wall clocks, the
 * benchmarks, TestTick (no Tick wrapper), and
 * TestTickerStopWithDirectInitialization (a Ticker cannot be built by hand).
 */
#include "helpers.h"
#include "chan_helpers.h"

#define MS TIME_MILLISECOND

static bool try_recv(chan_t *c, void *v)
{
    select_case_t sc = {c, SELECT_RECV, v, false};
    return chan_select(&sc, 1, false) == 0;
}

/* ------------------------------------------------------------------ */
/* TestAfterFunc                                                       */
/* ------------------------------------------------------------------ */

static _Atomic int af_i = 10;
static chan_t *af_c;

static void af_f(void *arg)
{
    if (atomic_fetch_sub(&af_i, 1) - 1 >= 0) {
        time_after_func(0, af_f, NULL);
        time_sleep(1 * TIME_SECOND);
    } else {
        bool t = true;
        chan_send(af_c, &t);
    }
}

static int main_after_func(int argc, char **argv)
{
    GC_STORE(af_c, chan_make(sizeof(bool), 0));
    time_after_func(0, af_f, NULL);
    chan_recv(af_c, NULL);
    return 0;
}

Test(go_time, TestAfterFunc, .timeout = 30) { gt_run(main_after_func); }

/* ------------------------------------------------------------------ */
/* TestAfterStress                                                     */
/* ------------------------------------------------------------------ */

static _Atomic uint32_t as_stop;

static void as_gc(void *arg)
{
    while (atomic_load(&as_stop) == 0) {
        runtime_gc();
        time_sleep(1);
    }
}

static int main_after_stress(int argc, char **argv)
{
    go(as_gc, NULL);
    time_ticker_t *ticker = time_new_ticker(1);
    for (int i = 0; i < 100; i++)
        chan_recv(time_ticker_c(ticker), NULL);
    time_ticker_stop(ticker);
    atomic_store(&as_stop, 1);
    return 0;
}

Test(go_time, TestAfterStress, .timeout = 30) { gt_run(main_after_stress); }

/* ------------------------------------------------------------------ */
/* TestAfterStop                                                       */
/* ------------------------------------------------------------------ */

static void nothing(void *arg) { (void)arg; }
static void send_true(void *arg) { bool t = true; chan_send(arg, &t); }

static int main_after_stop(int argc, char **argv)
{
    int errs = 0;
    for (int i = 0; i < 5; i++) {
        time_after_func(100 * MS, nothing, NULL);
        time_timer_t *t0 = time_new_timer(50 * MS);
        chan_t *c1 = chan_make(sizeof(bool), 1);
        time_timer_t *t1 = time_after_func(150 * MS, send_true, c1);
        chan_t *c2 = time_after(200 * MS);
        if (!time_timer_stop(t0)) { errs++; fprintf(stderr, "failed to stop event 0\n"); continue; }
        if (!time_timer_stop(t1)) { errs++; fprintf(stderr, "failed to stop event 1\n"); continue; }
        chan_recv(c2, NULL);
        int64_t v;
        if (try_recv(time_timer_c(t0), &v)) { errs++; fprintf(stderr, "event 0 was not stopped\n"); continue; }
        if (try_recv(c1, NULL)) { errs++; fprintf(stderr, "event 1 was not stopped\n"); continue; }
        if (time_timer_stop(t1)) { errs++; fprintf(stderr, "Stop returned true twice\n"); continue; }
        return 0;                       /* passed */
    }
    GT_CHECK(0, "saw %d errors", errs);
    return 0;
}

Test(go_time, TestAfterStop, .timeout = 30) { gt_run(main_after_stop); }

/* ------------------------------------------------------------------ */
/* TestAfterQueuing                                                    */
/* ------------------------------------------------------------------ */

static const int slots[] = {5, 3, 6, 6, 6, 1, 1, 2, 7, 9, 4, 8, 0};
#define NSLOTS ((int)(sizeof slots / sizeof slots[0]))
typedef struct { int64_t slot, t; } after_result_t;
typedef struct { int64_t slot; chan_t *result, *ac; } await_t;

static void await_fn(void *arg)
{
    await_t *a = arg;
    after_result_t r = {a->slot, 0};
    chan_recv(a->ac, &r.t);
    chan_send(a->result, &r);
}

static bool test_after_queuing(int64_t delta)
{
    chan_t *result = chan_make(sizeof(after_result_t), NSLOTS);
    int64_t t0 = time_now();
    for (int i = 0; i < NSLOTS; i++)
        go(await_fn, GT_NEW(await_t, slots[i], result, time_after(slots[i] * delta)));
    after_result_t rs[NSLOTS];
    for (int i = 0; i < NSLOTS; i++)
        chan_recv(result, &rs[i]);
    for (int i = 1; i < NSLOTS; i++)
        if (rs[i].slot < rs[i - 1].slot) {
            fprintf(stderr, "After calls returned out of order\n");
            return false;
        }
    for (int i = 0; i < NSLOTS; i++) {
        int64_t dt = rs[i].t - t0, target = rs[i].slot * delta;
        if (dt < target - delta / 2 || dt > target + delta * 10) {
            fprintf(stderr, "After(%lld ms) arrived at %lld ms\n", (long long)target / MS,
                    (long long)dt / MS);
            return false;
        }
    }
    return true;
}

static int main_after_queuing(int argc, char **argv)
{
    bool ok = false;
    for (int i = 0; i < 5 && !ok; i++)
        ok = test_after_queuing((20 + i * 50) * MS);
    GT_CHECK(ok, "After queuing failed 5 attempts");
    return 0;
}

Test(go_time, TestAfterQueuing, .timeout = 60) { gt_run(main_after_queuing); }

/* ------------------------------------------------------------------ */
/* TestTimerStopStress (durations / 10)                                */
/* ------------------------------------------------------------------ */

static _Atomic int tss_fired;
static void tss_fail(void *arg) { (void)arg; atomic_fetch_add(&tss_fired, 1); }

static void tss_fn(void *arg)
{
    time_timer_t *t = time_after_func(2 * TIME_SECOND, tss_fail, arg);
    time_sleep(1 * TIME_SECOND);
    time_timer_stop(t);
}

static int main_timer_stop_stress(int argc, char **argv)
{
    for (int i = 0; i < 100; i++)
        go(tss_fn, (void *)(intptr_t)i);
    time_sleep(3 * TIME_SECOND);
    GT_CHECK(atomic_load(&tss_fired) == 0, "%d timers were not stopped", atomic_load(&tss_fired));
    return 0;
}

Test(go_time, TestTimerStopStress, .timeout = 30) { gt_run(main_timer_stop_stress); }

/* ------------------------------------------------------------------ */
/* TestSleepZeroDeadlock                                               */
/* ------------------------------------------------------------------ */

static void szd_gc(void *c)
{
    for (int i = 0; i < 100; i++)
        runtime_gc();
    bool t = true;
    chan_send(c, &t);
}

static int main_sleep_zero_deadlock(int argc, char **argv)
{
    runtime_gomaxprocs(4);
    chan_t *c = chan_make(sizeof(bool), 0);
    go(szd_gc, c);
    for (int i = 0; i < 100; i++) {
        time_sleep(0);
        chan_t *tmp = chan_make(sizeof(bool), 1);
        bool t = true;
        chan_send(tmp, &t);
        chan_recv(tmp, NULL);
    }
    chan_recv(c, NULL);
    return 0;
}

Test(go_time, TestSleepZeroDeadlock, .timeout = 30) { gt_run(main_sleep_zero_deadlock); }

/* ------------------------------------------------------------------ */
/* TestReset                                                           */
/* ------------------------------------------------------------------ */

static const char *test_reset(int64_t d)
{
    time_timer_t *t0 = time_new_timer(2 * d);
    time_sleep(d);
    if (!time_timer_reset(t0, 3 * d))
        return "resetting unfired timer returned false";
    time_sleep(2 * d);
    int64_t v;
    if (try_recv(time_timer_c(t0), &v))
        return "timer fired early";
    time_sleep(2 * d);
    if (!try_recv(time_timer_c(t0), &v))
        return "reset timer did not fire";
    if (time_timer_reset(t0, 50 * MS))
        return "resetting expired timer returned true";
    return NULL;
}

static int main_reset(int argc, char **argv)
{
    const int64_t unit = 25 * MS, tries[] = {1 * unit, 3 * unit, 7 * unit, 15 * unit};
    const char *err = NULL;
    for (int i = 0; i < 4; i++)
        if ((err = test_reset(tries[i])) == NULL)
            return 0;
    GT_CHECK(0, "%s", err);
    return 0;
}

Test(go_time, TestReset, .timeout = 30) { gt_run(main_reset); }

/* ------------------------------------------------------------------ */
/* TestOverflowSleep                                                   */
/* ------------------------------------------------------------------ */

static _Atomic int big_returned;
static void big_sleep(void *arg) { time_sleep(INT64_MAX); atomic_store(&big_returned, 1); }

static int main_overflow_sleep(int argc, char **argv)
{
    go(big_sleep, NULL);
    select_case_t cs[2] = {{time_after(INT64_MAX), SELECT_RECV, NULL, false},
                           {time_after(25 * MS), SELECT_RECV, NULL, false}};
    GT_CHECK(chan_select(cs, 2, true) == 1, "big timeout fired");
    time_sleep(INT64_MIN);             /* returns immediately */
    select_case_t cn[2] = {{time_after(INT64_MIN), SELECT_RECV, NULL, false},
                           {time_after(1 * TIME_SECOND), SELECT_RECV, NULL, false}};
    GT_CHECK(chan_select(cn, 2, true) == 0, "negative timeout didn't fire");
    GT_CHECK(!atomic_load(&big_returned), "big sleep returned");
    return 0;
}

Test(go_time, TestOverflowSleep, .timeout = 30) { gt_run(main_overflow_sleep); }

/* ------------------------------------------------------------------ */
/* TestZeroTimer                                                       */
/* ------------------------------------------------------------------ */

static int main_zero_timer(int argc, char **argv)
{
    int slow = 0;
    for (int i = 0; i < 100000; i++) {
        int64_t s = time_now();
        time_timer_t *ti = time_new_timer(0);
        chan_recv(time_timer_c(ti), NULL);
        if (time_now() - s > 2 * TIME_SECOND)
            slow++;
    }
    GT_CHECK(slow == 0, "%d zero timers took more than 2 s", slow);
    return 0;
}

Test(go_time, TestZeroTimer, .timeout = 60) { gt_run(main_zero_timer); }

/* ------------------------------------------------------------------ */
/* TestZeroTimerStopPanics / ResetPanics, Ticker panics                */
/* ------------------------------------------------------------------ */

static int main_nil_stop(int argc, char **argv) { time_timer_stop(NULL); return 0; }
static int main_nil_reset(int argc, char **argv) { time_timer_reset(NULL, 1); return 0; }
static int main_ticker_neg(int argc, char **argv) { time_new_ticker(-1); return 0; }
static int main_ticker_reset0(int argc, char **argv)
{
    time_ticker_reset(time_new_ticker(TIME_SECOND), 0);
    return 0;
}

static void expect_panic(int (*fn)(int, char **), const char *text)
{
    GT_EXPECT_EXIT(fn, NULL, 10000, 2, text);
}

Test(go_time, TestZeroTimerStopPanics)
{
    expect_panic(main_nil_stop, "panic: time: Stop called on uninitialized Timer");
}
Test(go_time, TestZeroTimerResetPanics)
{
    expect_panic(main_nil_reset, "panic: time: Reset called on uninitialized Timer");
}
Test(go_time, TestNewTickerLtZeroDuration)
{
    expect_panic(main_ticker_neg, "panic: non-positive interval for NewTicker");
}
Test(go_time, TestTickerResetLtZeroDuration)
{
    expect_panic(main_ticker_reset0, "panic: non-positive interval for Ticker.Reset");
}

/* ------------------------------------------------------------------ */
/* TestTimerModifiedEarlier                                            */
/* ------------------------------------------------------------------ */

static int main_timer_modified_earlier(int argc, char **argv)
{
    int64_t past = -time_now();        /* Until(Unix(0, 0)): far in the past */
    int fail = 0;
    for (int i = 0; i < 1000; i++) {
        time_timer_t *timer = time_new_timer(3600 * TIME_SECOND);
        for (int j = 0; j < 10; j++) {
            if (!time_timer_stop(timer))
                chan_recv(time_timer_c(timer), NULL);
            time_timer_reset(timer, past);
        }
        time_timer_t *deadline = time_new_timer(10 * TIME_SECOND);
        int64_t now = time_now();
        select_case_t cs[2] = {{time_timer_c(timer), SELECT_RECV, NULL, false},
                               {time_timer_c(deadline), SELECT_RECV, NULL, false}};
        if (chan_select(cs, 2, true) == 0) {
            if (time_now() - now > 8 * TIME_SECOND) {
                fprintf(stderr, "timer took too long\n");
                fail++;
            }
        } else {
            fprintf(stderr, "deadline expired\n");
            fail++;
        }
        time_timer_stop(deadline);
    }
    GT_CHECK(fail == 0, "%d failures", fail);
    return 0;
}

Test(go_time, TestTimerModifiedEarlier, .timeout = 60) { gt_run(main_timer_modified_earlier); }

/* ------------------------------------------------------------------ */
/* TestAdjustTimers                                                    */
/* ------------------------------------------------------------------ */

static int main_adjust_timers(int argc, char **argv)
{
    enum { N = 100 };
    static time_timer_t *timers[N];
    int states[N] = {0}, indices[N], nidx = N;
    uint32_t s = (uint32_t)time_now() | 1;
#define RND() (s ^= s << 13, s ^= s >> 17, s ^= s << 5, s)
    for (int i = 0; i < N; i++)
        indices[i] = i;
    for (int i = N - 1; i > 0; i--) {
        int j = (int)(RND() % (uint32_t)(i + 1)), t = indices[i];
        indices[i] = indices[j];
        indices[j] = t;
    }
    while (nidx != 0) {
        int ii = (int)(RND() % (uint32_t)nidx);
        int i = indices[ii];
        time_timer_t *timer = timers[i];
        int state = states[i]++;
        switch (state) {
        case 0:
            GC_STORE(timers[i], time_new_timer(0));
            break;
        case 1:
            chan_recv(time_timer_c(timer), NULL);
            break;
        case 2:
            GT_CHECK(!time_timer_reset(timer, 60 * TIME_SECOND), "shouldn't be active (1)");
            break;
        case 4:
            GT_CHECK(!time_timer_reset(timer, 180 * TIME_SECOND), "shouldn't be active (3)");
            break;
        case 6:
            GT_CHECK(!time_timer_reset(timer, 120 * TIME_SECOND), "shouldn't be active (2)");
            break;
        case 3: case 5: case 7:
            if (!time_timer_stop(timer))
                chan_recv(time_timer_c(timer), NULL);
            break;
        case 8:
            GT_CHECK(!time_timer_reset(timer, 0), "timer.Reset returned true");
            break;
        case 9: {
            int64_t now = time_now();
            chan_recv(time_timer_c(timer), NULL);
            int64_t dur = time_now() - now;
            GT_CHECK(dur <= 750 * MS, "timer %d took %lld ms to complete", i, (long long)dur / MS);
            break;
        }
        case 10:
            indices[ii] = indices[nidx - 1];
            nidx--;
            break;
        }
    }
#undef RND
    return 0;
}

Test(go_time, TestAdjustTimers, .timeout = 30) { gt_run(main_adjust_timers); }

/* ------------------------------------------------------------------ */
/* TestTeardown                                                        */
/* ------------------------------------------------------------------ */

static int main_teardown(int argc, char **argv)
{
    for (int i = 0; i < 3; i++) {
        time_ticker_t *ticker = time_new_ticker(20 * MS);
        chan_recv(time_ticker_c(ticker), NULL);
        time_ticker_stop(ticker);
    }
    return 0;
}

Test(go_time, TestTeardown) { gt_run(main_teardown); }
