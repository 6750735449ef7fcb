/*
 * test/go/test_chan_powser2.c -- port of Go 1.19's test/chan/powser2.go:
 * powser1 with the coefficients passed as pointers to GC-allocated
 * rationals (Go: *rat in interface values), so every element moving
 * through the channels is a GC pointer; a goroutine forces collections
 * while the series run. Same checks as powser1.
 */
#include "helpers.h"
#include "chan_helpers.h"

typedef int64_t gint;
typedef struct { int64_t num, den; } ratv;
typedef ratv *rat;             /* Go: *rat inside an interface */

#include "powser_common.h"

static rat i2tor(int64_t u, int64_t v)
{
    int64_t g = gcd(u, v);
    rat r = gc_alloc(sizeof *r);
    if (v > 0) { r->num = u / g; r->den = v / g; }
    else { r->num = -u / g; r->den = -v / g; }
    return r;
}

static rat itor(int64_t u) { return i2tor(u, 1); }
static int64_t end(rat u) { return u->den == 0; }
static bool eq(rat u, rat c) { return u->num == c->num && u->den == c->den; }

static rat add(rat u, rat v)
{
    int64_t g = gcd(u->den, v->den);
    return i2tor(u->num * (v->den / g) + v->num * (u->den / g), u->den * (v->den / g));
}

static rat mul(rat u, rat v)
{
    int64_t g1 = gcd(u->num, v->den), g2 = gcd(u->den, v->num);
    rat r = gc_alloc(sizeof *r);
    r->num = (u->num / g1) * (v->num / g2);
    r->den = (u->den / g2) * (v->den / g1);
    return r;
}

static rat neg(rat u) { return i2tor(-u->num, u->den); }

/* ------------------------------------------------------------------ */
/* power series operators                                              */
/* ------------------------------------------------------------------ */

static dch2 *Split(PS U);
static PS Mul(PS U, PS V);

typedef struct { PS U, V, Z; rat c; int n; } op_t;

static op_t *op(PS U, PS V, PS Z)
{
    return GT_NEW(op_t, .U = U, .V = V, .Z = Z);
}

static void split_fn(void *arg)
{
    op_t *o = arg;
    split(o->U, (dch2 *)o->V);
}

static dch2 *Split(PS U)
{
    dch2 *UU = mkdch2();
    go(split_fn, op(U, (PS)UU, NULL));
    return UU;
}

static void add_fn(void *arg)
{
    op_t *o = arg;
    for (;;) {
        chan_recv(o->Z->req, NULL);
        rat uv[2];
        get2(o->U, o->V, uv);
        switch (end(uv[0]) + 2 * end(uv[1])) {
        case 0: { rat s = add(uv[0], uv[1]); chan_send(o->Z->dat, &s); break; }
        case 1: chan_send(o->Z->dat, &uv[1]); copy_ps(o->V, o->Z); break;
        case 2: chan_send(o->Z->dat, &uv[0]); copy_ps(o->U, o->Z); break;
        case 3: chan_send(o->Z->dat, &finis); break;
        }
    }
}

static PS Add(PS U, PS V)
{
    PS Z = mkdch();
    go(add_fn, op(U, V, Z));
    return Z;
}

static void cmul_fn(void *arg)
{
    op_t *o = arg;
    bool done = false;
    while (!done) {
        chan_recv(o->Z->req, NULL);
        rat u = get(o->U);
        if (end(u)) {
            done = true;
        } else {
            rat m = mul(o->c, u);
            chan_send(o->Z->dat, &m);
        }
    }
    chan_send(o->Z->dat, &finis);
}

static PS Cmul(rat c, PS U)
{
    PS Z = mkdch();
    op_t *o = op(U, NULL, Z);
    gc_store(&o->c, c);
    go(cmul_fn, o);
    return Z;
}

static PS Sub(PS U, PS V) { return Add(U, Cmul(neg(one), V)); }

static PS Rep(rat c)
{
    PS Z = mkdch();
    go(repeat_fn, GT_NEW(repeat_t, c, Z));
    return Z;
}

static void mul_fn(void *arg)
{
    op_t *o = arg;
    chan_recv(o->Z->req, NULL);
    rat uv[2];
    get2(o->U, o->V, uv);
    if (end(uv[0]) || end(uv[1])) {
        chan_send(o->Z->dat, &finis);
    } else {
        rat m = mul(uv[0], uv[1]);
        chan_send(o->Z->dat, &m);
        dch2 *UU = Split(o->U), *VV = Split(o->V);
        PS W = Add(Cmul(uv[0], VV->d[0]), Cmul(uv[1], UU->d[0]));
        chan_recv(o->Z->req, NULL);
        rat w = get(W);
        chan_send(o->Z->dat, &w);
        copy_ps(Add(W, Mul(UU->d[1], VV->d[1])), o->Z);
    }
}

static PS Mul(PS U, PS V)
{
    PS Z = mkdch();
    go(mul_fn, op(U, V, Z));
    return Z;
}

static void diff_fn(void *arg)
{
    op_t *o = arg;
    chan_recv(o->Z->req, NULL);
    rat u = get(o->U);
    if (!end(u)) {
        bool done = false;
        for (int i = 1; !done; i++) {
            u = get(o->U);
            if (end(u)) {
                done = true;
            } else {
                rat m = mul(itor(i), u);
                chan_send(o->Z->dat, &m);
                chan_recv(o->Z->req, NULL);
            }
        }
    }
    chan_send(o->Z->dat, &finis);
}

static PS Diff(PS U)
{
    PS Z = mkdch();
    go(diff_fn, op(U, NULL, Z));
    return Z;
}

static void integ_fn(void *arg)
{
    op_t *o = arg;
    put(o->c, o->Z);
    bool done = false;
    for (int i = 1; !done; i++) {
        chan_recv(o->Z->req, NULL);
        rat u = get(o->U);
        if (end(u))
            done = true;
        rat m = mul(i2tor(1, i), u);
        chan_send(o->Z->dat, &m);
    }
    chan_send(o->Z->dat, &finis);
}

static PS Integ(rat c, PS U)
{
    PS Z = mkdch();
    op_t *o = op(U, NULL, Z);
    gc_store(&o->c, c);
    go(integ_fn, o);
    return Z;
}

static PS Exp(PS U)
{
    dch2 *ZZ = mkdch2();
    split(Integ(one, Mul(ZZ->d[0], Diff(U))), ZZ);
    return ZZ->d[1];
}

static void monsubst_fn(void *arg)
{
    op_t *o = arg;
    rat c = one;
    for (;;) {
        chan_recv(o->Z->req, NULL);
        rat u = get(o->U);
        rat m = mul(u, c);
        chan_send(o->Z->dat, &m);
        c = mul(c, o->c);
        if (end(u)) {
            chan_send(o->Z->dat, &finis);
            break;
        }
        for (int i = 1; i < o->n; i++) {
            chan_recv(o->Z->req, NULL);
            chan_send(o->Z->dat, &zero);
        }
    }
}

static PS MonSubst(PS U, rat c0, int n)
{
    PS Z = mkdch();
    op_t *o = op(U, NULL, Z);
    gc_store(&o->c, c0);
    o->n = n;
    go(monsubst_fn, o);
    return Z;
}

/* Forces collections while the series run, until main returns. */
static void collector(void *arg)
{
    for (;;) {
        runtime_gc();
        time_sleep(2 * TIME_MILLISECOND);
    }
}

/* ------------------------------------------------------------------ */
/* the checks of main()                                                */
/* ------------------------------------------------------------------ */

#define N 10

static void check(PS U, rat c, int count, const char *str)
{
    for (int i = 0; i < count; i++) {
        rat r = get(U);
        GT_CHECK(eq(r, c), "%s: got %ld/%ld should get %ld/%ld", str, (long)r->num,
                 (long)r->den, (long)c->num, (long)c->den);
    }
}

static void checka(PS U, const rat *a, const char *str)
{
    for (int i = 0; i < N; i++)
        check(U, a[i], 1, str);
}

static int main_powser2(int argc, char **argv)
{
    chnameserial = -1;
    GC_STORE(zero, itor(0));
    GC_STORE(one, itor(1));
    GC_STORE(finis, i2tor(1, 0));
    GC_STORE(Ones, Rep(one));
    GC_STORE(Twos, Rep(itor(2)));
    go(collector, NULL);

    check(Ones, one, 5, "Ones");
    check(Add(Ones, Ones), itor(2), 0, "Add Ones Ones");
    check(Add(Ones, Twos), itor(3), 0, "Add Ones Twos");
    rat *a = gc_alloc(N * sizeof *a);   /* holds GC pointers */
    PS d = Diff(Ones);
    for (int i = 0; i < N; i++)
        gc_store(&a[i], itor(i + 1));
    checka(d, a, "Diff");
    PS in = Integ(zero, Ones);
    gc_store(&a[0], zero);
    for (int i = 1; i < N; i++)
        gc_store(&a[i], i2tor(1, i));
    checka(in, a, "Integ");
    check(Cmul(neg(one), Twos), itor(-2), 10, "CMul");
    check(Sub(Ones, Twos), itor(-1), 0, "Sub Ones Twos");
    PS m = Mul(Ones, Ones);
    for (int i = 0; i < N; i++)
        gc_store(&a[i], itor(i + 1));
    checka(m, a, "Mul");
    PS e = Exp(Ones);
    gc_store(&a[0], itor(1));
    gc_store(&a[1], itor(1));
    gc_store(&a[2], i2tor(3, 2));
    gc_store(&a[3], i2tor(13, 6));
    gc_store(&a[4], i2tor(73, 24));
    gc_store(&a[5], i2tor(167, 40));
    gc_store(&a[6], i2tor(4051, 720));
    gc_store(&a[7], i2tor(37633, 5040));
    gc_store(&a[8], i2tor(43817, 4480));
    gc_store(&a[9], i2tor(4596553, 362880));
    checka(e, a, "Exp");
    PS at = Integ(zero, MonSubst(Ones, neg(one), 2));
    for (int c = 1, i = 0; i < N; i++) {
        if (i % 2 == 0) {
            gc_store(&a[i], zero);
        } else {
            gc_store(&a[i], i2tor(c, i));
            c *= -1;
        }
    }
    checka(at, a, "ATan");
    return 0;
}

Test(go_chan, powser2, .timeout = 30) { gt_run(main_powser2); }

static int main_powser2_p2(int argc, char **argv)
{
    runtime_gomaxprocs(2);
    return main_powser2(argc, argv);
}

Test(go_chan, powser2_gomaxprocs2, .timeout = 30) { gt_run(main_powser2_p2); }
