/*
 * test/go/powser_common.h -- the part of Go's test/chan/powser1.go and
 * powser2.go that the two programs share word for word: the request and
 * data channels of a power series, split, getn and friends, the rational
 * arithmetic, the series operators and the checks of main().
 *
 * Included by test_chan_powser1.c and test_chan_powser2.c after each has
 * defined how a rational is held (a value in powser1, a pointer to a
 * GC-allocated value in powser2):
 *
 *   rat                  the type moved through the channels (by sizeof)
 *   RAT_NUM(u), RAT_DEN(u)   its numerator and denominator
 *   RAT_SET(dst, v)      stores rat v at rat *dst (a plain store for a
 *                        value, gc_store for a GC pointer)
 *   rat_make(num, den)   a new rat, as given (not reduced)
 */
#ifndef GORT_TEST_POWSER_COMMON_H
#define GORT_TEST_POWSER_COMMON_H

typedef struct { chan_t *req, *dat; int nam; } dch;   /* req: gint, dat: rat */
typedef dch *PS;
typedef struct { dch *d[2]; } dch2;                   /* a GC object */

static _Atomic gint seqno;
static int chnameserial;
static rat zero, one, finis;   /* globals: stored with GC_STORE */
static PS Ones, Twos;

/* ------------------------------------------------------------------ */
/* channels of requests and data                                       */
/* ------------------------------------------------------------------ */

static dch *mkdch(void)
{
    return GT_NEW(dch, chan_make(sizeof(gint), 0), chan_make(sizeof(rat), 0),
                  chnameserial++ % 52);
}

static dch2 *mkdch2(void)
{
    dch2 *d2 = gc_alloc(sizeof *d2);
    gc_store(&d2->d[0], mkdch());
    gc_store(&d2->d[1], mkdch());
    return d2;
}

static gint next_seq(void) { return atomic_fetch_add(&seqno, 1) + 1; }

typedef struct { dch *in; dch2 *out; chan_t *wait; } split_t;

static void dosplit(void *arg)
{
    split_t *s = arg;
    dch *in = s->in;
    dch2 *out = s->out;
    bool both = false;
    select_case_t c1[2] = {{out->d[0]->req, SELECT_RECV, NULL, false},
                           {s->wait, SELECT_RECV, NULL, false}};
    if (chan_select(c1, 2, true) == 1) {
        both = true;
        select_case_t c2[2] = {{out->d[0]->req, SELECT_RECV, NULL, false},
                               {out->d[1]->req, SELECT_RECV, NULL, false}};
        if (chan_select(c2, 2, true) == 1) {
            dch *t = out->d[0];
            gc_store(&out->d[0], out->d[1]);
            gc_store(&out->d[1], t);
        }
    }
    gint sq = next_seq();
    chan_send(in->req, &sq);
    split_t *ns = GT_NEW(split_t, in, out, chan_make(sizeof(gint), 0));
    go(dosplit, ns);
    rat dat;
    chan_recv(in->dat, &dat);
    chan_send(out->d[0]->dat, &dat);
    if (!both)
        chan_recv(s->wait, NULL);
    chan_recv(out->d[1]->req, NULL);
    chan_send(out->d[1]->dat, &dat);
    gint z = 0;
    chan_send(ns->wait, &z);
}

static void split(dch *in, dch2 *out)
{
    split_t *s = GT_NEW(split_t, in, out, chan_make(sizeof(gint), 0));
    go(dosplit, s);
    gint z = 0;
    chan_send(s->wait, &z);
}

static void put(rat dat, dch *out)
{
    chan_recv(out->req, NULL);
    chan_send(out->dat, &dat);
}

static rat get(dch *in)
{
    gint sq = next_seq();
    chan_send(in->req, &sq);
    rat r;
    chan_recv(in->dat, &r);
    return r;
}

/* getn for n == 2: request both and collect both, in any order. */
static void get2(dch *in0, dch *in1, rat out[2])
{
    chan_t *req[2] = {in0->req, in1->req}, *dat[2] = {NULL, NULL};
    dch *in[2] = {in0, in1};
    for (int n = 4; n > 0; n--) {
        gint sq = next_seq();
        rat it;
        select_case_t cs[4] = {{req[0], SELECT_SEND, &sq, false},
                               {req[1], SELECT_SEND, &sq, false},
                               {dat[0], SELECT_RECV, &it, false},
                               {dat[1], SELECT_RECV, &it, false}};
        switch (chan_select(cs, 4, true)) {
        case 0: dat[0] = in[0]->dat; req[0] = NULL; break;
        case 1: dat[1] = in[1]->dat; req[1] = NULL; break;
        case 2: out[0] = it; dat[0] = NULL; break;
        case 3: out[1] = it; dat[1] = NULL; break;
        default: GT_CHECK(0, "bad select");
        }
    }
}

static void copy_ps(dch *in, dch *out)
{
    for (;;) {
        chan_recv(out->req, NULL);
        rat r = get(in);
        chan_send(out->dat, &r);
    }
}

typedef struct { rat c; dch *Z; } repeat_t;

static void repeat_fn(void *arg)
{
    repeat_t *r = arg;
    for (;;)
        put(r->c, r->Z);
}

/* ------------------------------------------------------------------ */
/* rational arithmetic                                                 */
/* ------------------------------------------------------------------ */

static int64_t gcd(int64_t u, int64_t v)
{
    if (u < 0)
        return gcd(-u, v);
    if (u == 0)
        return v;
    return gcd(v % u, u);
}

static rat i2tor(int64_t u, int64_t v)
{
    int64_t g = gcd(u, v);
    if (v > 0)
        return rat_make(u / g, v / g);
    return rat_make(-u / g, -v / g);
}

static rat itor(int64_t u) { return i2tor(u, 1); }
static int64_t end(rat u) { return RAT_DEN(u) == 0; }
static bool eq(rat u, rat c)
{
    return RAT_NUM(u) == RAT_NUM(c) && RAT_DEN(u) == RAT_DEN(c);
}

static rat add(rat u, rat v)
{
    int64_t g = gcd(RAT_DEN(u), RAT_DEN(v));
    return i2tor(RAT_NUM(u) * (RAT_DEN(v) / g) + RAT_NUM(v) * (RAT_DEN(u) / g),
                 RAT_DEN(u) * (RAT_DEN(v) / g));
}

static rat mul(rat u, rat v)
{
    int64_t g1 = gcd(RAT_NUM(u), RAT_DEN(v)), g2 = gcd(RAT_DEN(u), RAT_NUM(v));
    return rat_make((RAT_NUM(u) / g1) * (RAT_NUM(v) / g2),
                    (RAT_DEN(u) / g2) * (RAT_DEN(v) / g1));
}

static rat neg(rat u) { return i2tor(-RAT_NUM(u), RAT_DEN(u)); }

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

/* Starts the goroutine fn serving a new series Z made from U and V, with
 * the constant *c (if c is not NULL) and the count n it may use. */
static PS serve(void (*fn)(void *), PS U, PS V, const rat *c, int n)
{
    PS Z = mkdch();
    op_t *o = op(U, V, Z);
    if (c)
        RAT_SET(&o->c, *c);
    o->n = n;
    go(fn, o);
    return Z;
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

static PS Add(PS U, PS V) { return serve(add_fn, U, V, NULL, 0); }

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

static PS Cmul(rat c, PS U) { return serve(cmul_fn, U, NULL, &c, 0); }

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

static PS Mul(PS U, PS V) { return serve(mul_fn, U, V, NULL, 0); }

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

static PS Diff(PS U) { return serve(diff_fn, U, NULL, NULL, 0); }

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

static PS Integ(rat c, PS U) { return serve(integ_fn, U, NULL, &c, 0); }

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

static PS MonSubst(PS U, rat c0, int n) { return serve(monsubst_fn, U, NULL, &c0, n); }

/* ------------------------------------------------------------------ */
/* the checks of main()                                                */
/* ------------------------------------------------------------------ */

#define N 10

static void check(PS U, rat c, int count, const char *str)
{
    for (int i = 0; i < count; i++) {
        rat r = get(U);
        GT_CHECK(eq(r, c), "%s: got %ld/%ld should get %ld/%ld", str, (long)RAT_NUM(r),
                 (long)RAT_DEN(r), (long)RAT_NUM(c), (long)RAT_DEN(c));
    }
}

static void checka(PS U, const rat *a, const char *str)
{
    for (int i = 0; i < N; i++)
        check(U, a[i], 1, str);
}

/* The globals main() sets before its checks. */
static void powser_init(void)
{
    chnameserial = -1;
    RAT_SET(&zero, itor(0));
    RAT_SET(&one, itor(1));
    RAT_SET(&finis, i2tor(1, 0));
    GC_STORE(Ones, Rep(one));
    GC_STORE(Twos, Rep(itor(2)));
}

/* The checks of main(); a is scratch room for N expected coefficients. */
static void powser_checks(rat *a)
{
    check(Ones, one, 5, "Ones");
    check(Add(Ones, Ones), itor(2), 0, "Add Ones Ones");
    check(Add(Ones, Twos), itor(3), 0, "Add Ones Twos");
    PS d = Diff(Ones);
    for (int i = 0; i < N; i++)
        RAT_SET(&a[i], itor(i + 1));
    checka(d, a, "Diff");
    PS in = Integ(zero, Ones);
    RAT_SET(&a[0], zero);
    for (int i = 1; i < N; i++)
        RAT_SET(&a[i], i2tor(1, i));
    checka(in, a, "Integ");
    check(Cmul(neg(one), Twos), itor(-2), 10, "CMul");
    check(Sub(Ones, Twos), itor(-1), 0, "Sub Ones Twos");
    PS m = Mul(Ones, Ones);
    for (int i = 0; i < N; i++)
        RAT_SET(&a[i], itor(i + 1));
    checka(m, a, "Mul");
    PS e = Exp(Ones);
    RAT_SET(&a[0], itor(1));
    RAT_SET(&a[1], itor(1));
    RAT_SET(&a[2], i2tor(3, 2));
    RAT_SET(&a[3], i2tor(13, 6));
    RAT_SET(&a[4], i2tor(73, 24));
    RAT_SET(&a[5], i2tor(167, 40));
    RAT_SET(&a[6], i2tor(4051, 720));
    RAT_SET(&a[7], i2tor(37633, 5040));
    RAT_SET(&a[8], i2tor(43817, 4480));
    RAT_SET(&a[9], i2tor(4596553, 362880));
    checka(e, a, "Exp");
    PS at = Integ(zero, MonSubst(Ones, neg(one), 2));
    for (int c = 1, i = 0; i < N; i++) {
        if (i % 2 == 0) {
            RAT_SET(&a[i], zero);
        } else {
            RAT_SET(&a[i], i2tor(c, i));
            c *= -1;
        }
    }
    checka(at, a, "ATan");
}

#endif /* GORT_TEST_POWSER_COMMON_H */
