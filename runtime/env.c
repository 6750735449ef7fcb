/*
 * runtime/env.c -- environment knobs, GODEBUG, the clock and fastrand.
 *
 * Read once at boot by runtime_main. A malformed value is reported on
 * stderr ("gort: ...") and the default is kept, as Go ignores bad GODEBUG
 * settings but rejects a bad GOGC/GOMEMLIMIT loudly.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"

runtime_debug_t runtime__debug = {
    .gogc = 100,
    .gomemlimit = INT64_MAX,
    .traceback = TRACEBACK_SINGLE,
    .stack_size = RUNTIME_STACK_DEFAULT,
};

/* Parses a decimal int in [lo, hi]; returns false if malformed. */
static bool parse_int(const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

/* Parses a byte size with an optional k/m/g (or KiB/MiB/GiB) suffix. */
static bool parse_size(const char *s, int64_t *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || v < 0)
        return false;
    int64_t mul = 1;
    if (*end) {
        switch (tolower((unsigned char)*end)) {
        case 'b': mul = 1; break;
        case 'k': mul = 1LL << 10; break;
        case 'm': mul = 1LL << 20; break;
        case 'g': mul = 1LL << 30; break;
        case 't': mul = 1LL << 40; break;
        default: return false;
        }
        const char *rest = end + 1;
        if (*rest && strcasecmp(rest, "ib") && strcasecmp(rest, "b"))
            return false;
    }
    if (v > INT64_MAX / mul)
        return false;
    *out = v * mul;
    return true;
}

/* Go's parseByteCount: plain bytes, or a number with one of the suffixes
 * B, KiB, MiB, GiB, TiB (case as written); false if malformed or over
 * INT64_MAX. */
static bool parse_byte_count(const char *s, int64_t *out)
{
    size_t n = strlen(s);
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int power = -1;
    size_t digits = n;
    if (n > 0 && !isdigit((unsigned char)s[n - 1])) {
        for (int i = 4; i >= 0 && power < 0; i--) {
            size_t ul = strlen(units[i]);
            if (n > ul && strcmp(s + n - ul, units[i]) == 0 &&
                isdigit((unsigned char)s[n - ul - 1])) {
                power = i;
                digits = n - ul;
            }
        }
        if (power < 0)
            return false;
    }
    uint64_t v = 0;
    if (digits == 0)
        return false;
    for (size_t i = 0; i < digits; i++) {
        if (!isdigit((unsigned char)s[i]) || v > (uint64_t)INT64_MAX / 10)
            return false;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    for (int k = 0; k < power; k++) {
        if (v > (uint64_t)INT64_MAX / 1024)
            return false;
        v *= 1024;
    }
    if (v > (uint64_t)INT64_MAX)
        return false;
    *out = (int64_t)v;
    return true;
}

/* One GODEBUG key=value pair. Unknown keys are ignored, as Go does. */
static void godebug_pair(const char *key, const char *val)
{
    static const struct { const char *name; int *dst; long max; } knobs[] = {
        {"schedtrace", &runtime__debug.schedtrace, INT_MAX},
        {"scheddetail", &runtime__debug.scheddetail, 1},
        {"gctrace", &runtime__debug.gctrace, 2},
        {"gccheckmark", &runtime__debug.gccheckmark, 1},
        {"asyncpreemptoff", &runtime__debug.asyncpreemptoff, 1},
        {"gcstoptheworld", &runtime__debug.gcstoptheworld, 2},
        {"gcpacertrace", &runtime__debug.gcpacertrace, 2},
        {"stwtrace", &runtime__debug.stwtrace, 1},
    };
    for (size_t i = 0; i < sizeof knobs / sizeof knobs[0]; i++) {
        if (strcmp(key, knobs[i].name) != 0)
            continue;
        long v;
        if (parse_int(val, 0, knobs[i].max, &v))
            *knobs[i].dst = (int)v;
        else
            runtime__printf("gort: GODEBUG: bad value %s=%s, ignored\n", key, val);
        return;
    }
}

/* Splits GODEBUG ("a=1,b=2") into pairs. */
static void parse_godebug(const char *s)
{
    char buf[512];
    size_t n = strlen(s);
    if (n >= sizeof buf) {
        runtime__printf("gort: GODEBUG too long, ignored\n");
        return;
    }
    memcpy(buf, s, n + 1);
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(tok, '=');
        if (!eq)
            continue;
        *eq = 0;
        godebug_pair(tok, eq + 1);
    }
}

/* GOTRACEBACK as Go 1.19's setTraceback: the names, or a number n for
 * level n with every goroutine shown (0: none, 1: all, 2 and more:
 * system). Anything else is level 0, no tracebacks at all (Go's atoi
 * fails and leaves level 0); gort also says so on stderr. */
static void parse_traceback(const char *s)
{
    static const struct { const char *name; int level; } names[] = {
        {"none", TRACEBACK_NONE}, {"single", TRACEBACK_SINGLE}, {"", TRACEBACK_SINGLE},
        {"all", TRACEBACK_ALL}, {"system", TRACEBACK_SYSTEM}, {"crash", TRACEBACK_CRASH},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(s, names[i].name) == 0) {
            runtime__debug.traceback = names[i].level;
            return;
        }
    /* Go's atoi: an optional '-', then decimal digits, no int64 overflow;
     * the value must also fit a uint32. */
    const char *d = s + (*s == '-');
    bool ok = *d != 0;
    int64_t n = 0;
    for (; ok && *d; d++) {
        if (*d < '0' || *d > '9' || n > (INT64_MAX - (*d - '0')) / 10)
            ok = false;
        else
            n = n * 10 + (*d - '0');
    }
    if (*s == '-')
        n = -n;
    if (ok && n >= 0 && n <= (int64_t)UINT32_MAX) {
        runtime__debug.traceback = n == 0 ? TRACEBACK_NONE : n == 1 ? TRACEBACK_ALL
                                                                    : TRACEBACK_SYSTEM;
        return;
    }
    runtime__debug.traceback = TRACEBACK_NONE;
    runtime__printf("gort: GOTRACEBACK=%s: unknown value, no tracebacks (as Go)\n", s);
}

void runtime__parse_env(void)
{
    const char *s;
    long v;
    int64_t sz;
    if ((s = getenv("GOMAXPROCS")) && *s) {
        if (parse_int(s, 1, 1 << 20, &v))
            runtime__debug.gomaxprocs_env = (int)v;
        else
            runtime__printf("gort: GOMAXPROCS=%s: not a positive integer, ignored\n", s);
    }
    if ((s = getenv("GOGC")) && *s) {
        if (strcmp(s, "off") == 0)
            runtime__debug.gogc = -1;
        else if (parse_int(s, INT_MIN, INT_MAX, &v))
            runtime__debug.gogc = v < 0 ? -1 : (int)v;
        else
            runtime__printf("gort: GOGC=%s: not an integer or off, using 100\n", s);
    }
    if ((s = getenv("GOMEMLIMIT")) && *s) {
        if (strcmp(s, "off") == 0)
            runtime__debug.gomemlimit = INT64_MAX;
        else if (parse_byte_count(s, &sz))
            runtime__debug.gomemlimit = sz;
        else {
            runtime__printf("GOMEMLIMIT=%s\n", s);
            runtime__throw("malformed GOMEMLIMIT; see `go doc runtime/debug.SetMemoryLimit`");
        }
    }
    if ((s = getenv("GODEBUG")) && *s)
        parse_godebug(s);
    if ((s = getenv("GOTRACEBACK")))
        parse_traceback(s);
    if ((s = getenv("GORT_STACK_SIZE")) && *s) {
        if (parse_size(s, &sz) && sz >= RUNTIME_STACK_MIN && sz <= (1LL << 30))
            runtime__debug.stack_size = (size_t)sz;
        else
            runtime__printf("gort: GORT_STACK_SIZE=%s: want a size in [16k, 1g], ignored\n", s);
    }
    if ((s = getenv("GORT_GC_MARK_BUDGET")) && *s) {
        if (parse_int(s, 1, 1 << 24, &v))
            runtime__debug.gc_mark_budget = (int)v;
        else
            runtime__printf("gort: GORT_GC_MARK_BUDGET=%s: want 1 .. 16777216, ignored\n", s);
    }
    if ((s = getenv("GORT_STACK_GUARD")) && *s) {
        if (strcmp(s, "mprotect") == 0)
            runtime__debug.stack_guard_mprotect = 1;
        else if (strcmp(s, "none") == 0)
            runtime__debug.stack_guard_none = 1;
        else if (strcmp(s, "madvise") != 0)
            runtime__printf("gort: GORT_STACK_GUARD=%s: want madvise, mprotect or none, ignored\n", s);
    }
}

int64_t runtime__nanotime(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static __thread uint64_t rand_state;

/* wyrand: one multiply per number, good enough for scheduling choices. */
uint32_t runtime__fastrand(void)
{
    if (unlikely(rand_state == 0))
        rand_state = (uint64_t)runtime__nanotime() ^ (uint64_t)(uintptr_t)&rand_state;
    rand_state += 0xa0761d6478bd642fULL;
    __uint128_t r = (__uint128_t)rand_state * (rand_state ^ 0xe7037ed1a0b428dbULL);
    return (uint32_t)((uint64_t)(r >> 64) ^ (uint64_t)r);
}

uint32_t runtime__fastrandn(uint32_t n)
{
    return (uint32_t)(((uint64_t)runtime__fastrand() * n) >> 32);
}
