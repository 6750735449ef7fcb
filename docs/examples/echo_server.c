/*
 * docs/examples/echo_server.c -- a TCP echo server, a goroutine per
 * connection, and its clients in the same program.
 *
 *   echo_server                 listens on 127.0.0.1 (a free port), runs
 *                               100 clients against itself, prints a
 *                               summary and exits
 *   echo_server ADDR serve      serves on ADDR ("127.0.0.1:7000",
 *                               "[::1]:7000", ":7000") until killed; try
 *                               `nc 127.0.0.1 7000`
 *
 * Each connection's goroutine parks in net_conn_read; the poller wakes it
 * when data arrives. Threads stay at about GOMAXPROCS + 2 however many
 * connections are open.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <gort.h>

#define NCLIENTS 100
#define ROUNDS   100
#define SEC      1000000000LL

/* Serves one connection: echoes until EOF, an error or 60 s of silence. */
static void serve(void *arg)
{
    net_conn_t *c = arg;
    char buf[4096];
    for (;;) {
        net_conn_set_read_deadline(c, time_now() + 60 * SEC);
        ssize_t n = net_conn_read(c, buf, sizeof buf);
        if (n <= 0)
            break;
        if (net_conn_write(c, buf, (size_t)n) < 0)
            break;
    }
    net_conn_close(c);
}

/* Accepts connections until the listener is closed. */
static void accept_loop(void *arg)
{
    net_listener_t *l = arg;
    net_conn_t *c;
    while ((c = net_listener_accept(l)) != NULL)
        go(serve, c);
}

static char addr[128];
static sync_waitgroup_t clients;
static _Atomic int failures;

/* A client: ROUNDS messages, each read back whole and compared. */
static void client(void *arg)
{
    long id = (long)arg;
    net_conn_t *c = net_dial_timeout("tcp", addr, 5 * SEC);
    if (c == NULL) {
        fprintf(stderr, "client %ld: dial %s: %s\n", id, addr, strerror(errno));
        failures++;
        sync_waitgroup_done(&clients);
        return;
    }
    net_conn_set_deadline(c, time_now() + 30 * SEC);
    char msg[64], back[64];
    for (int r = 0; r < ROUNDS; r++) {
        int len = snprintf(msg, sizeof msg, "client %ld round %d", id, r);
        size_t got = 0;
        if (net_conn_write(c, msg, (size_t)len) != len)
            break;
        while (got < (size_t)len) {
            ssize_t n = net_conn_read(c, back + got, (size_t)len - got);
            if (n <= 0)
                break;
            got += (size_t)n;
        }
        if (got != (size_t)len || memcmp(msg, back, (size_t)len) != 0) {
            fprintf(stderr, "client %ld: bad echo in round %d\n", id, r);
            failures++;
            break;
        }
    }
    net_conn_close(c);
    sync_waitgroup_done(&clients);
}

static int app_main(int argc, char **argv)
{
    const char *where = argc > 1 ? argv[1] : "127.0.0.1:0";
    net_listener_t *l = net_listen("tcp", where);
    if (l == NULL) {
        fprintf(stderr, "listen %s: %s\n", where, strerror(errno));
        return 1;
    }
    net_listener_addr(l, addr, sizeof addr);
    printf("echo server on %s\n", addr);
    fflush(stdout);
    if (argc > 2 && strcmp(argv[2], "serve") == 0) {
        accept_loop(l);   /* until killed */
        return 0;
    }
    go(accept_loop, l);
    int64_t t0 = time_now();
    for (long i = 0; i < NCLIENTS; i++) {
        sync_waitgroup_add(&clients, 1);
        go(client, (void *)i);
    }
    sync_waitgroup_wait(&clients);
    double ms = (double)(time_now() - t0) / 1e6;
    net_listener_close(l);
    printf("%d clients x %d round trips in %.1f ms, %d failures\n",
           NCLIENTS, ROUNDS, ms, (int)failures);
    return failures != 0;
}

int main(int argc, char **argv) { return runtime_main(app_main, argc, argv); }
