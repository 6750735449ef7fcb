/*
 * test/go/powser_common.h -- the part of Go's test/chan/powser1.go and
 * powser2.go that the two programs share word for word: the request and
 * data channels of a power series, split, getn and friends, and gcd.
 * Included by test_chan_powser1.c and test_chan_powser2.c after each has
 * defined `rat` (a value in powser1, a pointer to a GC-allocated value in
 * powser2); everything here moves rats through channels by sizeof(rat).
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

#endif /* GORT_TEST_POWSER_COMMON_H */
