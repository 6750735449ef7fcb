/*
 * test/test_net_timeout.c -- ports of Go's net/timeout_test.go to gort's
 * deadlines (absolute time_now() nanoseconds, 0 for none, ETIMEDOUT for
 * os.ErrDeadlineExceeded): past deadlines fail even with data or buffer
 * space ready, an operation with no deadline does not return until a
 * close wakes it, timeouts land after their deadline (within generous
 * bounds), a deadline extended while blocked holds, deadlines from 1 ns
 * to 5 ms all end an endless read, and deadlines changed concurrently
 * with reads and writes. Listener deadlines and UDP are not in the API.
 */
#include "net_helpers.h"

static const char greeting[] = "READ TIMEOUT TEST";

/* Reads until a read fails; returns its errno (0: EOF), *n bytes read. */
static int read_until_error(net_conn_t *c, int64_t *n, int64_t pause)
{
    char b[256];
    for (*n = 0;;) {
        ssize_t k = net_conn_read(c, b, sizeof b);
        if (k <= 0)
            return k == 0 ? 0 : errno;
        *n += k;
        if (pause)
            time_sleep(pause);
    }
}

/* TestReadTimeout: a past deadline fails every read at once even with
 * data waiting; a 50 ms deadline lets the data through, then times out. */
static int main_read_timeout(int argc, char **argv)
{
    net_listener_t *l;
    net_conn_t *s, *c = nt_pair(&l, &s);
    GT_CHECK(net_conn_write(s, greeting, sizeof greeting) == (ssize_t)sizeof greeting);
    time_sleep(5 * NT_MS);   /* the data is there; the deadline decides */
    char b[1];
    GT_CHECK(net_conn_set_read_deadline(c, nt_ago(5 * NT_SEC)) == 0);
    for (int j = 0; j < 2; j++)
        GT_CHECK(net_conn_read(c, b, 1) == -1 && errno == ETIMEDOUT, "#%d errno %d", j, errno);
    GT_CHECK(net_conn_set_read_deadline(c, time_now() + 50 * NT_MS) == 0);
    int64_t n;
    GT_CHECK(read_until_error(c, &n, 50 * NT_MS / 3) == ETIMEDOUT);
    GT_CHECK(n == (int64_t)sizeof greeting, "read %lld", (long long)n);
    GT_CHECK(net_conn_read(c, b, 1) == -1 && errno == ETIMEDOUT, "stays timed out");
    nt_unpair(l, c, s);
    return 0;
}
Test(net_timeout, read_timeout) { gt_run(main_read_timeout); }

/* TestWriteTimeout: a past deadline fails a write at once with buffer
 * space free; a 10 ms deadline lets writes through until the buffers are
 * full (nobody reads), then times out. */
static int main_write_timeout(int argc, char **argv)
{
    net_listener_t *l;
    net_conn_t *s, *c = nt_pair(&l, &s);
    GT_CHECK(net_conn_set_write_deadline(c, nt_ago(5 * NT_SEC)) == 0);
    for (int j = 0; j < 2; j++)
        GT_CHECK(net_conn_write(c, "WRITE TIMEOUT TEST", 18) == -1 && errno == ETIMEDOUT,
                 "#%d errno %d", j, errno);
    GT_CHECK(net_conn_set_write_deadline(c, time_now() + 10 * NT_MS) == 0);
    nt_op_t *w = nt_start(NT_WRITE_ALL, c, NULL, 256);
    GT_CHECK(nt_wait(w, 10 * NT_SEC), "the writes never timed out");
    GT_CHECK(w->err == ETIMEDOUT && w->n > 0, "err %d wrote %zd", w->err, w->n);
    nt_unpair(l, c, s);
    return 0;
}
Test(net_timeout, write_timeout) { gt_run(main_write_timeout); }

/* TestReadTimeoutMustNotReturn and TestWriteTimeoutMustNotReturn: with
 * the other direction's deadline past and its own cleared, a blocked
 * operation stays blocked; close ends it with EBADF, not a timeout. */
static void must_not_return(nt_kind_t kind)
{
    net_listener_t *l;
    net_conn_t *s, *c = nt_pair(&l, &s);
    GT_CHECK(net_conn_set_deadline(c, nt_ago(5 * NT_SEC)) == 0);
    if (kind == NT_READ)
        GT_CHECK(net_conn_set_read_deadline(c, 0) == 0);
    else
        GT_CHECK(net_conn_set_write_deadline(c, 0) == 0);
    nt_op_t *op = nt_start(kind, c, NULL, 256);
    GT_CHECK(!nt_wait(op, 100 * NT_MS), "returned: n %zd err %d", op->n, op->err);
    GT_CHECK(net_conn_close(c) == 0);
    GT_CHECK(nt_wait(op, 5 * NT_SEC), "close did not wake it");
    GT_CHECK(op->err == EBADF, "kind %d err %d", (int)kind, op->err);
    nt_unpair(l, NULL, s);
}

static int main_must_not_return(int argc, char **argv)
{
    must_not_return(NT_READ);
    must_not_return(NT_WRITE_ALL);
    return 0;
}
Test(net_timeout, must_not_return) { gt_run(main_must_not_return); }

/* TestReadTimeoutFluctuation and TestWriteTimeoutFluctuation: the timeout
 * comes no earlier than the deadline and not absurdly later (2 s: the
 * machine is shared). */
static int main_fluctuation(int argc, char **argv)
{
    net_listener_t *l;
    net_conn_t *s, *c = nt_pair(&l, &s);
    char b[256];
    for (int i = 0; i < 3; i++) {
        int64_t t0 = time_now(), d = (i + 1) * 10 * NT_MS;
        net_conn_set_read_deadline(c, t0 + d);
        GT_CHECK(net_conn_read(c, b, sizeof b) == -1 && errno == ETIMEDOUT);
        int64_t el = time_now() - t0;
        GT_CHECK(el >= d && el < d + 2 * NT_SEC, "read: %lld ns for %lld", (long long)el,
                 (long long)d);
    }
    int64_t t0 = time_now(), d = 20 * NT_MS;
    net_conn_set_write_deadline(c, t0 + d);
    nt_op_t *w = nt_start(NT_WRITE_ALL, c, NULL, 256);
    GT_CHECK(nt_wait(w, 10 * NT_SEC) && w->err == ETIMEDOUT, "err %d", w->err);
    GT_CHECK(w->end - t0 >= d && w->end - t0 < d + 5 * NT_SEC, "write: %lld ns",
             (long long)(w->end - t0));
    nt_unpair(l, c, s);
    return 0;
}
Test(net_timeout, fluctuation) { gt_run(main_fluctuation); }

/* A deadline moved later while the read is parked: the read waits for
 * the new one, not the old one. */
static int main_extension(int argc, char **argv)
{
    net_listener_t *l;
    net_conn_t *s, *c = nt_pair(&l, &s);
    int64_t t0 = time_now();
    net_conn_set_read_deadline(c, t0 + 40 * NT_MS);
    nt_op_t *r = nt_start(NT_READ, c, NULL, 1);
    time_sleep(10 * NT_MS);
    int64_t later = time_now() + 200 * NT_MS;
    GT_CHECK(net_conn_set_read_deadline(c, later) == 0);
    GT_CHECK(nt_wait(r, 10 * NT_SEC));
    GT_CHECK(r->err == ETIMEDOUT && r->end >= later, "err %d, %lld ns before the new deadline",
             r->err, (long long)(later - r->end));
    /* Extended again, then data comes first: the read gets it. */
    net_conn_set_read_deadline(c, time_now() + 40 * NT_MS);
    r = nt_start(NT_READ, c, NULL, 1);
    time_sleep(10 * NT_MS);
    net_conn_set_read_deadline(c, time_now() + 10 * NT_SEC);
    time_sleep(60 * NT_MS);
    GT_CHECK(net_conn_write(s, "d", 1) == 1);
    GT_CHECK(nt_wait(r, 10 * NT_SEC) && r->n == 1 && r->buf[0] == 'd', "n %zd err %d", r->n,
             r->err);
    nt_unpair(l, c, s);
    return 0;
}
Test(net_timeout, deadline_extended_while_blocked) { gt_run(main_extension); }

/* TestVariousDeadlines: deadlines from 1 ns to 5 ms all end an endless
 * read (the server writes without pause) with a timeout. */
static void endless_writer(void *arg)
{
    net_conn_t *s = arg;
    static const char junk[4096];
    while (net_conn_write(s, junk, sizeof junk) > 0)
        ;
    net_conn_close(s);
}

/* Runs the deadlines of TestVariousDeadlines at GOMAXPROCS procs. */
static void various_deadlines(int procs)
{
    static const int64_t timeouts[] = {1, 2, 5, 50, 100, 200, 500, 750, 1000, 5000, 25000,
                                       250000, 500000, NT_MS, 5 * NT_MS};
    int prev = runtime_gomaxprocs(procs);
    char where[64];
    net_listener_t *l = nt_listen("tcp", "127.0.0.1:0", where, sizeof where);
    for (size_t i = 0; l && i < sizeof timeouts / sizeof *timeouts; i++) {
        net_conn_t *c = net_dial_timeout("tcp", where, 5 * NT_SEC);
        net_conn_t *s = c ? net_listener_accept(l) : NULL;
        GT_CHECK(s != NULL, "dial/accept: %s", strerror(errno));
        if (s == NULL)
            break;
        net_conn_set_write_deadline(s, time_now() + 10 * NT_SEC);
        go(endless_writer, s);
        net_conn_set_deadline(c, time_now() + timeouts[i]);
        int64_t n;
        int err = read_until_error(c, &n, 0);
        GT_CHECK(err == ETIMEDOUT, "P=%d timeout %lld ns: err %d after %lld bytes", procs,
                 (long long)timeouts[i], err, (long long)n);
        net_conn_close(c);   /* the writer fails and closes its end */
    }
    if (l)
        net_listener_close(l);
    runtime_gomaxprocs(prev);
}

static int main_various_deadlines(int argc, char **argv)
{
    various_deadlines(1);
    various_deadlines(2);
    return 0;
}
Test(net_timeout, various_deadlines) { gt_run(main_various_deadlines); }

typedef struct {
    net_conn_t *c;
    bool write;
    sync_waitgroup_t *wg;
    int sets_failed;
} prolong_t;

/* Extends its direction's deadline by an hour before each one-byte
 * operation, until one fails. */
static void prolonger(void *arg)
{
    prolong_t *p = arg;
    char b = 0;
    for (;;) {
        int64_t d = time_now() + 3600 * NT_SEC;
        if ((p->write ? net_conn_set_write_deadline(p->c, d) : net_conn_set_read_deadline(p->c, d)) < 0)
            p->sets_failed++;
        if ((p->write ? net_conn_write(p->c, &b, 1) : net_conn_read(p->c, &b, 1)) <= 0)
            break;
    }
    sync_waitgroup_done(p->wg);
}

/* TestReadWriteProlongedTimeout: deadlines extended before every read and
 * write on one end while the other end does 1000 round trips. */
static int main_prolonged(int argc, char **argv)
{
    net_listener_t *l;
    net_conn_t *s, *c = nt_pair(&l, &s);
    sync_waitgroup_t *wg = gc_new(sync_waitgroup_t);
    prolong_t *p[2];
    sync_waitgroup_add(wg, 2);
    for (int i = 0; i < 2; i++) {
        p[i] = gc_new(prolong_t);
        GC_STORE(p[i]->c, s);
        GC_STORE(p[i]->wg, wg);
        p[i]->write = i == 1;
        go(prolonger, p[i]);
    }
    net_conn_set_deadline(c, time_now() + 10 * NT_SEC);
    int ok = 0;
    char b = 0;
    for (int i = 0; i < 1000; i++)
        ok += net_conn_write(c, &b, 1) == 1 && net_conn_read(c, &b, 1) == 1;
    GT_CHECK(ok == 1000, "%d of 1000 round trips", ok);
    net_conn_close(c);   /* the reader sees EOF, the writer a reset */
    sync_waitgroup_wait(wg);
    GT_CHECK(p[0]->sets_failed == 0 && p[1]->sets_failed == 0);
    nt_unpair(l, NULL, s);
    return 0;
}
Test(net_timeout, read_write_prolonged) { gt_run(main_prolonged); }

typedef struct {
    net_conn_t *c;
    sync_waitgroup_t *wg;
    int kind;                  /* 0 sets deadlines, 1 reads, 2 writes */
    int ok;                    /* operations that succeeded */
} racer_t;

#define RACE_N 200

/* One side of TestReadWriteDeadlineRace. */
static void racer(void *arg)
{
    racer_t *r = arg;
    char b = 'r';
    for (int i = 0; i < RACE_N; i++) {
        if (r->kind == 0) {
            r->ok += net_conn_set_read_deadline(r->c, time_now() + 2 * TIME_MICROSECOND) == 0 &&
                     net_conn_set_write_deadline(r->c, time_now() + 2 * TIME_MICROSECOND) == 0;
            time_sleep(2 * TIME_MICROSECOND);
        } else if (r->kind == 1) {
            r->ok += net_conn_read(r->c, &b, 1) == 1;
        } else {
            r->ok += net_conn_write(r->c, &b, 1) == 1;
        }
    }
    sync_waitgroup_done(r->wg);
}

/* TestReadWriteDeadlineRace: 2 us deadlines set over and over while one
 * goroutine reads and one writes; afterwards the connection still works
 * and the peer got exactly the bytes whose writes succeeded. */
static int main_deadline_race(int argc, char **argv)
{
    net_listener_t *l;
    net_conn_t *s, *c = nt_pair(&l, &s);
    sync_waitgroup_t *wg = gc_new(sync_waitgroup_t);
    racer_t *r[3];
    sync_waitgroup_add(wg, 3);
    for (int k = 0; k < 3; k++) {
        r[k] = gc_new(racer_t);
        GC_STORE(r[k]->c, c);
        GC_STORE(r[k]->wg, wg);
        r[k]->kind = k;
        go(racer, r[k]);
    }
    sync_waitgroup_wait(wg);
    GT_CHECK(r[0]->ok == RACE_N && r[1]->ok == 0, "sets %d reads %d", r[0]->ok, r[1]->ok);
    net_conn_set_deadline(c, 0);
    GT_CHECK(net_conn_close_write(c) == 0);
    int64_t n;
    net_conn_set_read_deadline(s, time_now() + 5 * NT_SEC);
    GT_CHECK(read_until_error(s, &n, 0) == 0 && n == r[2]->ok, "peer read %lld, wrote %d",
             (long long)n, r[2]->ok);
    GT_CHECK(net_conn_write(s, "k", 1) == 1);
    char b;
    GT_CHECK(net_conn_read(c, &b, 1) == 1 && b == 'k');
    nt_unpair(l, c, s);
    return 0;
}
Test(net_timeout, read_write_deadline_race) { gt_run(main_deadline_race); }

#define CSD_CONNS 10

typedef struct {
    net_conn_t **c;
    int i, failed;
    int64_t now;
    sync_waitgroup_t *wg;
} setter_t;

/* Moves every connection's deadlines steadily earlier, 100 times. */
static void setter(void *arg)
{
    setter_t *st = arg;
    for (int j = 100; j > 0; j--) {
        for (int k = 0; k < CSD_CONNS; k++) {
            int64_t v = (int64_t)st->i * j * k * NT_SEC;
            st->failed += net_conn_set_read_deadline(st->c[k], st->now + 7200 * NT_SEC + v) != 0;
            st->failed += net_conn_set_write_deadline(st->c[k], st->now + 3600 * NT_SEC + v) != 0;
        }
    }
    sync_waitgroup_done(st->wg);
}

/* TestConcurrentSetDeadline: 8 goroutines set deadlines of 10
 * connections at once; afterwards a past deadline still fails a read at
 * once and a cleared one lets data through. */
static int main_concurrent_set(int argc, char **argv)
{
    char where[64];
    net_listener_t *l = nt_listen("tcp", "127.0.0.1:0", where, sizeof where);
    net_conn_t **c = gc_alloc(CSD_CONNS * sizeof *c);
    for (int k = 0; k < CSD_CONNS; k++) {
        GC_STORE(c[k], net_dial_timeout("tcp", where, 5 * NT_SEC));
        GT_CHECK(c[k] != NULL);
    }
    sync_waitgroup_t *wg = gc_new(sync_waitgroup_t);
    setter_t *st[8];
    int64_t now = time_now();
    sync_waitgroup_add(wg, 8);
    for (int i = 0; i < 8; i++) {
        st[i] = gc_new(setter_t);
        GC_STORE(st[i]->c, c);
        GC_STORE(st[i]->wg, wg);
        st[i]->i = i;
        st[i]->now = now;
        go(setter, st[i]);
    }
    sync_waitgroup_wait(wg);
    for (int i = 0; i < 8; i++)
        GT_CHECK(st[i]->failed == 0);
    net_conn_t *s = net_listener_accept(l);   /* the first dialed */
    GT_CHECK(s != NULL);
    char b;
    net_conn_set_read_deadline(c[0], nt_ago(NT_SEC));
    GT_CHECK(net_conn_read(c[0], &b, 1) == -1 && errno == ETIMEDOUT);
    net_conn_set_read_deadline(c[0], 0);
    GT_CHECK(s && net_conn_write(s, "q", 1) == 1);
    GT_CHECK(net_conn_read(c[0], &b, 1) == 1 && b == 'q');
    for (int k = 0; k < CSD_CONNS; k++)
        net_conn_close(c[k]);
    nt_unpair(l, NULL, s);
    return 0;
}
Test(net_timeout, concurrent_set_deadline) { gt_run(main_concurrent_set); }
