/*
 * test/go/test_chan_powser2.c -- port of Go 1.19's test/chan/powser2.go:
 * powser1 with the coefficients passed as pointers to GC-allocated
 * rationals (Go: *rat in interface values), so every element moving
 * through the channels is a GC pointer; a goroutine forces collections
 * while the series run. Same checks as powser1 (the program itself is in
 * powser_common.h).
 */
#include "helpers.h"
#include "chan_helpers.h"

typedef int64_t gint;
typedef struct { int64_t num, den; } ratv;
typedef ratv *rat;             /* Go: *rat inside an interface */

#define RAT_NUM(u) ((u)->num)
#define RAT_DEN(u) ((u)->den)
#define RAT_SET(dst, v) gc_store((dst), (v))

static rat rat_make(int64_t num, int64_t den)
{
    rat r = gc_alloc(sizeof *r);
    r->num = num;
    r->den = den;
    return r;
}

#include "powser_common.h"

/* Forces collections while the series run, until main returns. */
static void collector(void *arg)
{
    for (;;) {
        runtime_gc();
        time_sleep(2 * TIME_MILLISECOND);
    }
}

static int main_powser2(int argc, char **argv)
{
    powser_init();
    go(collector, NULL);
    rat *a = gc_alloc(N * sizeof *a);   /* holds GC pointers */
    powser_checks(a);
    return 0;
}

Test(go_chan, powser2, .timeout = 30) { gt_run(main_powser2); }

static int main_powser2_p2(int argc, char **argv)
{
    runtime_gomaxprocs(2);
    return main_powser2(argc, argv);
}

Test(go_chan, powser2_gomaxprocs2, .timeout = 30) { gt_run(main_powser2_p2); }
