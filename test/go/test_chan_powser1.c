/*
 * test/go/test_chan_powser1.c -- port of Go 1.19's test/chan/powser1.go
 * (McIlroy's power series with channels): every series is a goroutine
 * serving a request channel and a data channel; split, getn and the
 * series operators use selects over partly nil channels. Checks the same
 * coefficients as the Go program (Ones, Add, Diff, Integ, Cmul, Sub, Mul,
 * Exp, ATan). Functions the Go test never calls (Recip, Subst, Binom,
 * Mon, Monmul, the printers) are left out. The program itself is in
 * powser_common.h, shared with powser2; here a rational is a value.
 */
#include "helpers.h"
#include "chan_helpers.h"

typedef int64_t gint;
typedef struct { int64_t num, den; } rat;

#define RAT_NUM(u) ((u).num)
#define RAT_DEN(u) ((u).den)
#define RAT_SET(dst, v) (*(dst) = (v))

static rat rat_make(int64_t num, int64_t den) { return (rat){num, den}; }

#include "powser_common.h"

static int main_powser1(int argc, char **argv)
{
    powser_init();
    rat a[N];
    powser_checks(a);
    return 0;
}

Test(go_chan, powser1, .timeout = 30) { gt_run(main_powser1); }

static int main_powser1_p2(int argc, char **argv)
{
    runtime_gomaxprocs(2);
    return main_powser1(argc, argv);
}

Test(go_chan, powser1_gomaxprocs2, .timeout = 30) { gt_run(main_powser1_p2); }
