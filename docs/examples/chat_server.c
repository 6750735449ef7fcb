/*
 * docs/examples/chat_server.c -- a line-based TCP chat server: a
 * broadcaster goroutine and, per client, a reader goroutine and a
 * handler goroutine that selects over channels.
 *
 *   chat_server                 listens on 127.0.0.1 (a free port), runs
 *                               4 chatting clients against itself, prints
 *                               what they saw and exits
 *   chat_server ADDR serve      serves on ADDR ("127.0.0.1:7001", ":7001")
 *                               until killed; try two `nc 127.0.0.1 7001`,
 *                               the first line you type is your name
 *
 * Goroutines of the server:
 *   broadcaster   selects over entering, leaving, messages and stats
 *                 requests; hands every message to the other members'
 *                 outgoing channels without ever blocking (a member whose
 *                 queue is full misses the line: a slow client cannot
 *                 stall the room)
 *   reader        one per client: reads lines from the connection (parked
 *                 in the poller) and sends them on the client's lines
 *                 channel; closes it at EOF
 *   handler       one per client: selects over its lines channel, its
 *                 outgoing channel and an idle timer; writes outgoing
 *                 lines to the connection
 *
 * Memory: the structures that hold channels are GC objects; their pointer
 * fields, and the broadcaster's member table (a global), are written
 * through GC_STORE.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <gort.h>

#define MAXLINE     512
#define MAXMEMBERS  64
#define OUTQ        64             /* outgoing lines queued per member */
#define IDLE        (300 * TIME_SECOND)
#define NCLIENTS    4
#define NMESSAGES   10

/* ---- line reading ---------------------------------------------------- */

typedef struct {
    char buf[MAXLINE];
    size_t n;                      /* bytes held in buf */
} linebuf_t;

/* Reads one line (without its newline) into out; returns its length, or -1
 * at EOF or on an error. A line longer than MAXLINE-1 is cut. */
static int read_line(net_conn_t *c, linebuf_t *lb, char *out)
{
    for (;;) {
        char *nl = memchr(lb->buf, '\n', lb->n);
        if (nl != NULL || lb->n == sizeof lb->buf) {
            size_t len = nl ? (size_t)(nl - lb->buf) : lb->n;
            size_t used = nl ? len + 1 : len;
            if (len > 0 && lb->buf[len - 1] == '\r')
                len--;
            if (len >= MAXLINE)
                len = MAXLINE - 1;
            memcpy(out, lb->buf, len);
            out[len] = '\0';
            memmove(lb->buf, lb->buf + used, lb->n - used);
            lb->n -= used;
            return (int)len;
        }
        ssize_t got = net_conn_read(c, lb->buf + lb->n, sizeof lb->buf - lb->n);
        if (got <= 0)
            return -1;
        lb->n += (size_t)got;
    }
}

/* A copy of s in collector memory (no pointers inside: never scanned). */
static char *gc_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = gc_alloc_noscan(n);
    memcpy(p, s, n);
    return p;
}

/* ---- the server ---------------------------------------------------- */

typedef struct client {
    net_conn_t *conn;
    char *name;
    chan_t *lines;                 /* char *: lines read from conn; closed at EOF */
    chan_t *out;                   /* char *: lines to write to conn */
    linebuf_t *lb;                 /* bytes read from conn, not yet a line */
} client_t;

typedef struct {
    client_t *from;
    char *text;
} message_t;

typedef struct {
    int joined, left, messages, dropped;
} stats_t;

static chan_t *entering, *leaving, *messages, *stats_req;
static client_t *members[MAXMEMBERS];
static int nmembers;
static sync_waitgroup_t handlers;  /* server-side client handlers running */

/* Queues text for every member but skip, dropping it for a full queue. */
static void broadcast(const char *text, client_t *skip, stats_t *st)
{
    char *copy = gc_strdup(text);
    for (int i = 0; i < nmembers; i++)
        if (members[i] != skip && !chan_try_send(members[i]->out, &copy))
            st->dropped++;
}

/* Adds c to the room and tells the others. */
static void join(client_t *c, stats_t *st)
{
    char line[MAXLINE + 32];
    if (nmembers == MAXMEMBERS) {
        chan_close(c->out);        /* the handler sees "room full" */
        return;
    }
    GC_STORE(members[nmembers], c);
    nmembers++;
    st->joined++;
    snprintf(line, sizeof line, "* %s joined (%d here)", c->name, nmembers);
    broadcast(line, c, st);
}

/* Removes c from the room and tells the others. */
static void leave(client_t *c, stats_t *st)
{
    char line[MAXLINE + 32];
    for (int i = 0; i < nmembers; i++) {
        if (members[i] == c) {
            nmembers--;
            GC_STORE(members[i], members[nmembers]);
            GC_STORE(members[nmembers], NULL);
            st->left++;
            snprintf(line, sizeof line, "* %s left", c->name);
            broadcast(line, NULL, st);
            return;
        }
    }
}

/* The room: the only goroutine that touches the member table. */
static void broadcaster(void *arg)
{
    (void)arg;
    stats_t st = {0};
    client_t *c;
    message_t m;
    chan_t *reply;
    char line[2 * MAXLINE + 8];
    for (;;) {
        select_case_t cases[] = {
            {.c = entering, .dir = SELECT_RECV, .elem = &c},
            {.c = leaving, .dir = SELECT_RECV, .elem = &c},
            {.c = messages, .dir = SELECT_RECV, .elem = &m},
            {.c = stats_req, .dir = SELECT_RECV, .elem = &reply},
        };
        switch (chan_select(cases, 4, true)) {
        case 0:
            join(c, &st);
            break;
        case 1:
            leave(c, &st);
            break;
        case 2:
            snprintf(line, sizeof line, "%s: %s", m.from->name, m.text);
            st.messages++;
            broadcast(line, m.from, &st);
            break;
        case 3:
            chan_send(reply, &st);
            break;
        }
    }
}

/* Sends each line of the client's connection on its lines channel. */
static void reader(void *arg)
{
    client_t *c = arg;
    char line[MAXLINE];
    while (read_line(c->conn, c->lb, line) >= 0) {
        char *copy = gc_strdup(line);
        chan_send(c->lines, &copy);
    }
    chan_close(c->lines);
}

/* Writes a line and its newline; false if the connection failed. */
static bool write_line(net_conn_t *conn, const char *s)
{
    char buf[2 * MAXLINE + 8];
    int n = snprintf(buf, sizeof buf, "%s\n", s);
    if (n >= (int)sizeof buf)
        n = (int)sizeof buf - 1;
    return net_conn_write(conn, buf, (size_t)n) == n;
}

/* Relays one client: its lines to the room, the room's lines to it. */
static void relay(client_t *c)
{
    chan_t *idle = time_after(IDLE);
    char *line;
    for (;;) {
        int64_t now;
        select_case_t cases[] = {
            {.c = c->lines, .dir = SELECT_RECV, .elem = &line},
            {.c = c->out, .dir = SELECT_RECV, .elem = &line},
            {.c = idle, .dir = SELECT_RECV, .elem = &now},
        };
        int k = chan_select(cases, 3, true);
        if (k == 2 || !cases[k].ok) {
            if (k != 0)
                write_line(c->conn, k == 2 ? "* idle, bye" : "* room full");
            return;
        }
        if (k == 0) {
            message_t m = {c, line};
            chan_send(messages, &m);
            idle = time_after(IDLE);
        } else if (!write_line(c->conn, line)) {
            return;
        }
    }
}

/* Serves one connection: asks its name, joins the room, relays, leaves. */
static void handle(void *arg)
{
    client_t *c = gc_new(client_t);
    GC_STORE(c->conn, arg);
    GC_STORE(c->lines, chan_make(sizeof(char *), 0));
    GC_STORE(c->out, chan_make(sizeof(char *), OUTQ));
    GC_STORE(c->lb, gc_new(linebuf_t));
    char name[MAXLINE];
    if (write_line(c->conn, "name?") && read_line(c->conn, c->lb, name) > 0) {
        GC_STORE(c->name, gc_strdup(name));
        char hello[MAXLINE + 16];
        snprintf(hello, sizeof hello, "welcome %s", name);
        write_line(c->conn, hello);
        chan_send(entering, &c);
        go(reader, c);
        relay(c);
        chan_send(leaving, &c);
        net_conn_close(c->conn);   /* wakes the reader if it still reads */
        char *rest;
        while (chan_recv2(c->lines, &rest))
            ;                      /* let the reader finish */
    } else {
        net_conn_close(c->conn);
    }
    sync_waitgroup_done(&handlers);
}

/* Accepts connections until the listener is closed. */
static void accept_loop(void *arg)
{
    net_listener_t *l = arg;
    net_conn_t *conn;
    while ((conn = net_listener_accept(l)) != NULL) {
        sync_waitgroup_add(&handlers, 1);
        go(handle, conn);
    }
}

/* ---- the demo clients -------------------------------------------------- */

static const char *const names[NCLIENTS] = {"alice", "bob", "carol", "dave"};
static char addr[128];
static sync_waitgroup_t joined, finished;
static chan_t *start;              /* closed when every client is in the room */
static _Atomic int failures;

/* Counts the chat lines a client saw from the others and reports them. */
static void expect_messages(net_conn_t *conn, linebuf_t *lb, const char *me)
{
    char line[MAXLINE];
    int from[NCLIENTS] = {0}, total = 0;
    while (total < (NCLIENTS - 1) * NMESSAGES && read_line(conn, lb, line) >= 0) {
        for (int i = 0; i < NCLIENTS; i++) {
            size_t n = strlen(names[i]);
            if (strncmp(line, names[i], n) == 0 && line[n] == ':') {
                from[i]++;
                total++;
            }
        }
    }
    bool ok = total == (NCLIENTS - 1) * NMESSAGES;
    for (int i = 0; i < NCLIENTS; i++)
        if (from[i] != (strcmp(names[i], me) == 0 ? 0 : NMESSAGES))
            ok = false;
    if (!ok)
        failures++;
    printf("%s saw %d lines from the %d others%s\n", me, total, NCLIENTS - 1,
           ok ? "" : " (WRONG)");
}

/* One chatter: joins, waits for everyone, says NMESSAGES lines, reads the
 * others' lines, leaves. */
static void chatter(void *arg)
{
    const char *me = names[(long)arg];
    linebuf_t *lb = gc_new(linebuf_t);
    char line[MAXLINE];
    net_conn_t *conn = net_dial_timeout("tcp", addr, 5 * TIME_SECOND);
    if (conn == NULL || read_line(conn, lb, line) < 0 || !write_line(conn, me) ||
        read_line(conn, lb, line) < 0 || strncmp(line, "welcome", 7) != 0) {
        fprintf(stderr, "%s: could not join: %s\n", me, strerror(errno));
        failures++;
        sync_waitgroup_done(&joined);
        sync_waitgroup_done(&finished);
        return;
    }
    net_conn_set_deadline(conn, time_now() + 20 * TIME_SECOND);
    sync_waitgroup_done(&joined);
    chan_recv(start, NULL);
    for (int i = 0; i < NMESSAGES; i++) {
        snprintf(line, sizeof line, "line %d from %s", i, me);
        write_line(conn, line);
    }
    expect_messages(conn, lb, me);
    net_conn_close(conn);
    sync_waitgroup_done(&finished);
}

/* Asks the broadcaster for its counters. */
static stats_t room_stats(void)
{
    chan_t *reply = chan_make(sizeof(stats_t), 0);
    stats_t st;
    chan_send(stats_req, &reply);
    chan_recv(reply, &st);
    return st;
}

/* Runs NCLIENTS chatters against the server and prints the summary. */
static int demo(net_listener_t *l)
{
    GC_STORE(start, chan_make(1, 0));
    go(accept_loop, l);
    sync_waitgroup_add(&joined, NCLIENTS);
    sync_waitgroup_add(&finished, NCLIENTS);
    for (long i = 0; i < NCLIENTS; i++)
        go(chatter, (void *)i);
    sync_waitgroup_wait(&joined);
    /* A handler hands its client to the room after the welcome line. */
    while (room_stats().joined < NCLIENTS && failures == 0)
        time_sleep(TIME_MILLISECOND);
    chan_close(start);
    sync_waitgroup_wait(&finished);
    sync_waitgroup_wait(&handlers);
    net_listener_close(l);
    stats_t st = room_stats();
    printf("room: %d joined, %d left, %d messages, %d lines dropped\n", st.joined, st.left,
           st.messages, st.dropped);
    return failures != 0;
}

static int app_main(int argc, char **argv)
{
    const char *where = argc > 1 ? argv[1] : "127.0.0.1:0";
    GC_STORE(entering, chan_make(sizeof(client_t *), 0));
    GC_STORE(leaving, chan_make(sizeof(client_t *), 0));
    GC_STORE(messages, chan_make(sizeof(message_t), 0));
    GC_STORE(stats_req, chan_make(sizeof(chan_t *), 0));
    net_listener_t *l = net_listen("tcp", where);
    if (l == NULL) {
        fprintf(stderr, "listen %s: %s\n", where, strerror(errno));
        return 1;
    }
    net_listener_addr(l, addr, sizeof addr);
    printf("chat server on %s\n", addr);
    fflush(stdout);
    go(broadcaster, NULL);
    if (argc > 2 && strcmp(argv[2], "serve") == 0) {
        accept_loop(l);            /* until killed */
        return 0;
    }
    return demo(l);
}

int main(int argc, char **argv) { return runtime_main(app_main, argc, argv); }
