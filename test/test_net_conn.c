/*
 * test/test_net_conn.c -- ports of Go's net/conn_test.go and the parts of
 * net/net_test.go that apply to gort's API (TCP and Unix stream sockets;
 * no UDP, no CloseRead): addresses of both ends, half-close, operations
 * after close, close of a listener, listen again on a closed listener's
 * address, zero-byte reads and writes, a blocked read woken by a past
 * deadline or by the peer's close, and many goroutines reading one
 * connection.
 */
#include "net_helpers.h"

static char sockdir[64];

/* A listen address for network: loopback with a free port, or a socket
 * file named name in the test's temporary directory. */
static const char *local_addr(const char *network, const char *name, char *buf, size_t len)
{
    if (strcmp(network, "unix") == 0) {
        snprintf(buf, len, "%s/%s.sock", sockdir, name);
        return buf;
    }
    return strcmp(network, "tcp6") == 0 ? "[::1]:0" : "127.0.0.1:0";
}

/* Makes the temporary directory for Unix sockets. */
static void make_sockdir(void)
{
    strcpy(sockdir, "/tmp/gort-netc-XXXXXX");
    cr_assert(mkdtemp(sockdir) != NULL);
}

/* Dials where on network and accepts the connection on l: *srv is the
 * accepted end. Deadlines of 5 s on both bound every later wait. */
static net_conn_t *dial_accept(const char *network, const char *where, net_listener_t *l,
                               net_conn_t **srv)
{
    net_conn_t *c = net_dial_timeout(network, where, 5 * NT_SEC);
    GT_CHECK(c != NULL, "dial %s %s: %s", network, where, strerror(errno));
    *srv = c ? net_listener_accept(l) : NULL;
    GT_CHECK(*srv != NULL, "accept: %s", strerror(errno));
    if (*srv == NULL)
        return NULL;
    net_conn_set_deadline(c, time_now() + 5 * NT_SEC);
    net_conn_set_deadline(*srv, time_now() + 5 * NT_SEC);
    return c;
}

/* TestConnAndListener: both ends agree on the addresses, and a message
 * goes through in both directions. */
static void conn_and_listener(const char *network)
{
    char buf[128], where[128], la[128], ra[128], sla[128], sra[128];
    net_listener_t *l = nt_listen(network, local_addr(network, "cl", buf, sizeof buf), where,
                                  sizeof where);
    net_conn_t *s, *c = l ? dial_accept(network, where, l, &s) : NULL;
    if (c == NULL)
        return;
    net_conn_local_addr(c, la, sizeof la);
    net_conn_remote_addr(c, ra, sizeof ra);
    net_conn_local_addr(s, sla, sizeof sla);
    net_conn_remote_addr(s, sra, sizeof sra);
    GT_CHECK(strcmp(ra, where) == 0, "%s: remote %s, listener %s", network, ra, where);
    GT_CHECK(strcmp(sla, where) == 0, "%s: server local %s, listener %s", network, sla, where);
    if (strcmp(network, "unix") != 0)
        GT_CHECK(strcmp(sra, la) == 0, "%s: server remote %s, client local %s", network, sra, la);
    const char msg[] = "Conn and Listener test";
    char back[sizeof msg];
    GT_CHECK(net_conn_write(c, msg, sizeof msg) == (ssize_t)sizeof msg);
    GT_CHECK(nt_read_full(s, back, sizeof msg) && memcmp(back, msg, sizeof msg) == 0);
    GT_CHECK(net_conn_write(s, back, sizeof msg) == (ssize_t)sizeof msg);
    GT_CHECK(nt_read_full(c, back, sizeof msg) && memcmp(back, msg, sizeof msg) == 0);
    nt_unpair(l, c, s);
}

static int main_conn_and_listener(int argc, char **argv)
{
    conn_and_listener("tcp4");
    conn_and_listener("tcp");
    conn_and_listener("unix");
    if (have_ipv6())
        conn_and_listener("tcp6");
    return 0;
}
Test(net_conn, conn_and_listener)
{
    make_sockdir();
    gt_run(main_conn_and_listener);
    rmdir(sockdir);
}

/* TestCloseWrite: each end half-closes; the other reads EOF, and a write
 * after one's own half-close fails. */
static void close_write(const char *network)
{
    char buf[128], where[128], b = 'x';
    net_listener_t *l = nt_listen(network, local_addr(network, "cw", buf, sizeof buf), where,
                                  sizeof where);
    net_conn_t *s, *c = l ? dial_accept(network, where, l, &s) : NULL;
    if (c == NULL)
        return;
    GT_CHECK(net_conn_close_write(c) == 0);
    GT_CHECK(net_conn_read(s, &b, 1) == 0, "%s: server reads EOF", network);
    GT_CHECK(net_conn_write(s, &b, 1) == 1, "%s: the other direction still works", network);
    GT_CHECK(net_conn_close_write(s) == 0);
    GT_CHECK(net_conn_write(s, &b, 1) == -1 && errno == EPIPE, "%s: errno %d", network, errno);
    GT_CHECK(net_conn_read(c, &b, 1) == 1 && b == 'x');
    GT_CHECK(net_conn_read(c, &b, 1) == 0, "%s: client reads EOF", network);
    GT_CHECK(net_conn_write(c, &b, 1) == -1 && errno == EPIPE, "%s: errno %d", network, errno);
    nt_unpair(l, c, s);
}

static int main_close_write(int argc, char **argv)
{
    close_write("tcp");
    close_write("unix");
    return 0;
}
Test(net_conn, close_write)
{
    make_sockdir();
    gt_run(main_close_write);
    rmdir(sockdir);
}

/* TestConnClose: every operation on a closed connection fails with EBADF,
 * and so does a second close. */
static void conn_close(const char *network)
{
    char buf[128], where[128], b = 0;
    net_listener_t *l = nt_listen(network, local_addr(network, "cc", buf, sizeof buf), where,
                                  sizeof where);
    net_conn_t *s, *c = l ? dial_accept(network, where, l, &s) : NULL;
    if (c == NULL)
        return;
    GT_CHECK(net_conn_write(s, "y", 1) == 1);   /* data waiting does not matter */
    GT_CHECK(net_conn_close(c) == 0);
    GT_CHECK(net_conn_read(c, &b, 1) == -1 && errno == EBADF, "%s: errno %d", network, errno);
    GT_CHECK(net_conn_read(c, &b, 0) == -1 && errno == EBADF);
    GT_CHECK(net_conn_write(c, &b, 1) == -1 && errno == EBADF);
    GT_CHECK(net_conn_close_write(c) == -1 && errno == EBADF);
    GT_CHECK(net_conn_set_deadline(c, time_now()) == -1 && errno == EBADF);
    GT_CHECK(net_conn_close(c) == -1 && errno == EBADF);
    /* Unread data at close makes the kernel reset the connection. */
    ssize_t n = net_conn_read(s, &b, 1);
    GT_CHECK(n == 0 || (n == -1 && errno == ECONNRESET), "%s: peer: n %zd errno %d", network, n,
             errno);
    net_conn_close(s);
    /* TestListenerClose: accept on a closed listener fails. */
    GT_CHECK(net_listener_close(l) == 0);
    GT_CHECK(net_listener_accept(l) == NULL && errno == EBADF);
    GT_CHECK(net_listener_close(l) == -1 && errno == EBADF);
}

static int main_conn_close(int argc, char **argv)
{
    conn_close("tcp");
    conn_close("unix");
    return 0;
}
Test(net_conn, conn_and_listener_close)
{
    make_sockdir();
    gt_run(main_conn_close);
    rmdir(sockdir);
}

/* TestListenCloseListen: a closed listener's address can be listened on
 * again at once (the port may be taken by someone else meanwhile, hence
 * a few tries). */
static int main_listen_close_listen(int argc, char **argv)
{
    bool ok = false;
    for (int tries = 0; tries < 10 && !ok; tries++) {
        char where[64];
        net_listener_t *l = nt_listen("tcp", "127.0.0.1:0", where, sizeof where);
        GT_CHECK(l != NULL && net_listener_close(l) == 0);
        net_listener_t *again = net_listen("tcp", where);
        if (again != NULL) {
            ok = true;
            net_listener_close(again);
        }
    }
    GT_CHECK(ok, "no listen on a just-closed address in 10 tries");
    return 0;
}
Test(net_conn, listen_close_listen) { gt_run(main_listen_close_listen); }

/* TestZeroByteRead: a zero-byte read returns 0 at once on both ends with
 * nothing to read; a zero-byte write returns 0 too. */
static void zero_byte(const char *network)
{
    char buf[128], where[128];
    net_listener_t *l = nt_listen(network, local_addr(network, "zb", buf, sizeof buf), where,
                                  sizeof where);
    net_conn_t *s, *c = l ? dial_accept(network, where, l, &s) : NULL;
    if (c == NULL)
        return;
    GT_CHECK(net_conn_read(c, NULL, 0) == 0, "%s: client: errno %d", network, errno);
    GT_CHECK(net_conn_read(s, NULL, 0) == 0, "%s: server: errno %d", network, errno);
    GT_CHECK(net_conn_write(c, "", 0) == 0);
    GT_CHECK(net_conn_write(c, "z", 1) == 1);
    GT_CHECK(nt_read_full(s, buf, 1) && buf[0] == 'z');
    nt_unpair(l, c, s);
}

static int main_zero_byte(int argc, char **argv)
{
    zero_byte("tcp");
    zero_byte("unix");
    return 0;
}
Test(net_conn, zero_byte_read_write)
{
    make_sockdir();
    gt_run(main_zero_byte);
    rmdir(sockdir);
}

/* TestReadTimeoutUnblocksRead: a deadline moved into the past by another
 * goroutine wakes a blocked read with a timeout; TestCloseUnblocksRead:
 * the peer's close wakes it with EOF. */
static int main_unblocks_read(int argc, char **argv)
{
    net_listener_t *l;
    net_conn_t *s, *c = nt_pair(&l, &s);
    nt_op_t *r = nt_start(NT_READ, c, NULL, 1);
    time_sleep(20 * NT_MS);   /* let it park; the result does not depend on it */
    GT_CHECK(net_conn_set_read_deadline(c, nt_ago(NT_SEC)) == 0);
    GT_CHECK(nt_wait(r, 5 * NT_SEC), "a past deadline did not wake the read");
    GT_CHECK(r->n == -1 && r->err == ETIMEDOUT, "n %zd err %d", r->n, r->err);
    GT_CHECK(net_conn_set_read_deadline(c, 0) == 0);
    r = nt_start(NT_READ, c, NULL, 1);
    time_sleep(20 * NT_MS);
    GT_CHECK(net_conn_close(s) == 0);
    GT_CHECK(nt_wait(r, 5 * NT_SEC), "the peer's close did not wake the read");
    GT_CHECK(r->n == 0, "n %zd err %d: want EOF", r->n, r->err);
    nt_unpair(l, c, NULL);
    return 0;
}
Test(net_conn, read_unblocked_by_deadline_and_peer_close) { gt_run(main_unblocks_read); }

#define NREADERS 8

/* Many goroutines read one connection at once: each byte written goes to
 * exactly one of them (one-byte reads); a close wakes the ones still
 * waiting with EBADF. */
static int main_many_readers(int argc, char **argv)
{
    net_listener_t *l;
    net_conn_t *s, *c = nt_pair(&l, &s);
    nt_op_t *r[2 * NREADERS];
    bool fin[2 * NREADERS] = {false};
    for (int i = 0; i < 2 * NREADERS; i++)
        r[i] = nt_start(NT_READ, c, NULL, 1);
    time_sleep(20 * NT_MS);
    for (int i = 0; i < NREADERS; i++)
        GT_CHECK(net_conn_write(s, &(char){(char)('a' + i)}, 1) == 1);
    unsigned seen = 0;
    int done = 0, bad = 0;
    for (int64_t end = time_now() + 5 * NT_SEC; done < NREADERS && time_now() < end;) {
        for (int i = 0; i < 2 * NREADERS; i++) {
            if (fin[i] || !chan_try_recv(r[i]->done, NULL, NULL))
                continue;
            fin[i] = true;
            if (r[i]->n == 1 && !(seen & (1u << (r[i]->buf[0] - 'a')))) {
                done++;
                seen |= 1u << (r[i]->buf[0] - 'a');
            } else {
                bad++;
            }
        }
        time_sleep(NT_MS);
    }
    GT_CHECK(done == NREADERS && bad == 0, "done %d bad %d seen %#x", done, bad, seen);
    GT_CHECK(net_conn_close(c) == 0);
    for (int i = 0; i < 2 * NREADERS; i++) {
        if (fin[i])
            continue;
        GT_CHECK(nt_wait(r[i], 5 * NT_SEC), "reader %d not woken by close", i);
        GT_CHECK(r[i]->n == -1 && r[i]->err == EBADF, "reader %d: n %zd err %d", i, r[i]->n,
                 r[i]->err);
    }
    nt_unpair(l, NULL, s);
    return 0;
}
Test(net_conn, many_readers) { gt_run(main_many_readers); }
