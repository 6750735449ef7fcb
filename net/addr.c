/*
 * net/addr.c -- network names and addresses: "tcp", "tcp4", "tcp6" with
 * "host:port" ("127.0.0.1:80", "[::1]:80", ":80", "localhost:80"), and
 * "unix" with a path ("@name": the abstract namespace, as Go).
 *
 * Owns: parsing (numeric hosts with inet_pton, no thread and no resolver;
 * names with getaddrinfo inside runtime_entersyscall/exitsyscall, so the
 * P runs other goroutines meanwhile) and Go's Addr.String() formatting.
 *
 * May call: libc, runtime_entersyscall/runtime_exitsyscall.
 *
 * Context: G. Errors go to *err; errno is left to the public caller.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "internal.h"

/* The address family a network name asks for (AF_UNSPEC for "tcp"), or -1. */
static int network_family(const char *network)
{
    if (network == NULL)
        return -1;
    if (strcmp(network, "tcp") == 0)
        return AF_UNSPEC;
    if (strcmp(network, "tcp4") == 0)
        return AF_INET;
    if (strcmp(network, "tcp6") == 0)
        return AF_INET6;
    if (strcmp(network, "unix") == 0)
        return AF_UNIX;
    return -1;
}

/* A Unix socket address; "@name" is abstract. */
static int unix_addr(const char *path, net__addr_t *a, int *err)
{
    struct sockaddr_un *su = (struct sockaddr_un *)&a->ss;
    size_t n = strlen(path);
    memset(su, 0, sizeof *su);
    su->sun_family = AF_UNIX;
    if (n == 0 || n >= sizeof su->sun_path) {
        *err = n == 0 ? EINVAL : ENAMETOOLONG;
        return -1;
    }
    memcpy(su->sun_path, path, n);
    if (path[0] == '@')
        su->sun_path[0] = '\0';
    a->len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + (path[0] != '@'));
    return 1;
}

/* Splits "host:port" (host in brackets if it has colons) into host and
 * port; false if malformed. */
static bool split_hostport(const char *s, char *host, size_t hcap, const char **port)
{
    const char *colon;
    size_t hl;
    if (s[0] == '[') {
        const char *end = strchr(s, ']');
        if (end == NULL || end[1] != ':')
            return false;
        hl = (size_t)(end - s - 1);
        memcpy(host, s + 1, hl < hcap ? hl : 0);
        colon = end + 1;
    } else {
        colon = strrchr(s, ':');
        if (colon == NULL)
            return false;
        hl = (size_t)(colon - s);
        if (memchr(s, ':', hl) != NULL)
            return false;   /* too many colons: IPv6 needs brackets */
        memcpy(host, s, hl < hcap ? hl : 0);
    }
    if (hl >= hcap)
        return false;
    host[hl] = '\0';
    *port = colon + 1;
    return true;
}

/* A numeric port, or -1. */
static int parse_port(const char *p)
{
    if (*p == '\0')
        return -1;
    long v = 0;
    for (; *p; p++) {
        if (*p < '0' || *p > '9' || (v = v * 10 + (*p - '0')) > 65535)
            return -1;
    }
    return (int)v;
}

/* A numeric host (or the empty host) of family fam; false if it is a name. */
static bool numeric_addr(const char *host, int fam, int port, bool passive, net__addr_t *a)
{
    struct sockaddr_in *s4 = (struct sockaddr_in *)&a->ss;
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&a->ss;
    memset(&a->ss, 0, sizeof a->ss);
    if (host[0] == '\0') {
        /* Listen: the wildcard ("tcp": dual-stack [::]); dial: this host. */
        if (fam == AF_INET || (fam == AF_UNSPEC && !passive)) {
            s4->sin_family = AF_INET;
            s4->sin_addr.s_addr = htonl(passive ? INADDR_ANY : INADDR_LOOPBACK);
            s4->sin_port = htons((uint16_t)port);
            a->len = sizeof *s4;
        } else {
            s6->sin6_family = AF_INET6;
            s6->sin6_addr = passive ? in6addr_any : in6addr_loopback;
            s6->sin6_port = htons((uint16_t)port);
            a->len = sizeof *s6;
        }
        return true;
    }
    if (fam != AF_INET6 && inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
        s4->sin_family = AF_INET;
        s4->sin_port = htons((uint16_t)port);
        a->len = sizeof *s4;
        return true;
    }
    if (fam != AF_INET && inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons((uint16_t)port);
        a->len = sizeof *s6;
        return true;
    }
    return false;
}

/* Resolves a name (or a scoped IPv6 literal) with getaddrinfo, as a
 * blocking call that gives up the P. */
static int lookup(const char *host, const char *port, int fam, bool passive,
                  net__addr_t *out, int *err)
{
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = fam;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = passive ? AI_PASSIVE : 0;
    runtime_entersyscall();
    int r = getaddrinfo(host, port, &hints, &res);
    runtime_exitsyscall();
    if (r != 0) {
        *err = r == EAI_SYSTEM ? errno : r == EAI_MEMORY ? ENOMEM : EHOSTUNREACH;
        if (r == EAI_NONAME || r == EAI_NODATA || r == EAI_SERVICE)
            *err = ENOENT;
        return -1;
    }
    int n = 0;
    for (struct addrinfo *ai = res; ai && n < NET_MAXADDRS; ai = ai->ai_next) {
        if (ai->ai_addrlen > sizeof out[n].ss)
            continue;
        memcpy(&out[n].ss, ai->ai_addr, ai->ai_addrlen);
        out[n].len = ai->ai_addrlen;
        n++;
    }
    freeaddrinfo(res);
    if (n == 0)
        *err = ENOENT;
    return n ? n : -1;
}

int net__resolve(const char *network, const char *address, bool passive,
                 net__addr_t *out, int *err)
{
    int fam = network_family(network);
    if (fam < 0 || address == NULL) {
        *err = fam < 0 ? EAFNOSUPPORT : EINVAL;
        return -1;
    }
    if (fam == AF_UNIX)
        return unix_addr(address, out, err);
    char host[256];
    const char *port;
    if (!split_hostport(address, host, sizeof host, &port)) {
        *err = EINVAL;
        return -1;
    }
    int pn = parse_port(port);
    if (pn >= 0 && numeric_addr(host, fam, pn, passive, out))
        return 1;
    return lookup(host[0] ? host : NULL, port, fam, passive, out, err);
}

size_t net__addr_format(const net__addr_t *a, char *buf, size_t len)
{
    char ip[INET6_ADDRSTRLEN];
    char tmp[sizeof(struct sockaddr_un) + 8];
    int fam = a->len ? a->ss.ss_family : AF_UNSPEC;
    if (fam == AF_INET) {
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)&a->ss;
        inet_ntop(AF_INET, &s4->sin_addr, ip, sizeof ip);
        return (size_t)snprintf(buf, len, "%s:%u", ip, ntohs(s4->sin_port));
    }
    if (fam == AF_INET6) {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)&a->ss;
        inet_ntop(AF_INET6, &s6->sin6_addr, ip, sizeof ip);
        if (s6->sin6_scope_id)
            return (size_t)snprintf(buf, len, "[%s%%%u]:%u", ip, s6->sin6_scope_id,
                                    ntohs(s6->sin6_port));
        return (size_t)snprintf(buf, len, "[%s]:%u", ip, ntohs(s6->sin6_port));
    }
    if (fam == AF_UNIX && a->len > offsetof(struct sockaddr_un, sun_path)) {
        const struct sockaddr_un *su = (const struct sockaddr_un *)&a->ss;
        size_t n = a->len - offsetof(struct sockaddr_un, sun_path);
        memcpy(tmp, su->sun_path, n);
        tmp[n] = '\0';
        if (tmp[0] == '\0')
            tmp[0] = '@';
        return (size_t)snprintf(buf, len, "%s", tmp);
    }
    return (size_t)snprintf(buf, len, "%s", "");
}
