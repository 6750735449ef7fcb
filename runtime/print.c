/*
 * runtime/print.c -- the runtime's own printing: runtime__printf.
 *
 * Fatal reports print from signal handlers and from threads that hold
 * runtime locks, so nothing here may take a lock, allocate, or use stdio
 * or the C library's vsnprintf (neither is async-signal-safe). The
 * formatter below knows the conversions the runtime uses -- %d %i %u %x
 * %X %p %s %c %% with the flags '#' '-' '0', a width, a precision, and
 * the lengths hh h l ll z j t -- and formats into a stack buffer that one
 * write(2) sends to fd 2.
 *
 * Context: any, including signal handlers.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

#define PRINT_BUF 1024

typedef struct {
    char *buf;
    size_t cap, len;
} out_t;

static void put(out_t *o, char c)
{
    if (o->len + 1 < o->cap)
        o->buf[o->len] = c;
    o->len++;
}

static void pad(out_t *o, char c, int n)
{
    while (n-- > 0)
        put(o, c);
}

/* One integer conversion: digits of v in base (16 for x/X/p), with the
 * sign, "0x" prefix, zero padding and width the spec asks for. */
static void put_int(out_t *o, uint64_t v, bool neg, int base, bool upper, bool alt,
                    bool left, bool zero, int width)
{
    char tmp[24];
    int n = 0;
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    do {
        tmp[n++] = digits[v % (uint64_t)base];
        v /= (uint64_t)base;
    } while (v);
    int prefix = neg ? 1 : (alt && base == 16) ? 2 : 0;
    int fill = width - n - prefix;
    if (!left && !zero)
        pad(o, ' ', fill);
    if (neg)
        put(o, '-');
    else if (prefix == 2) {
        put(o, '0');
        put(o, upper ? 'X' : 'x');
    }
    if (!left && zero)
        pad(o, '0', fill);
    while (n > 0)
        put(o, tmp[--n]);
    if (left)
        pad(o, ' ', fill);
}

/* Reads an integer argument of the given length modifier (number of
 * 'l's, or 'z'/'j'/'t' as 2, 'h' as -1). */
static int64_t arg_signed(va_list *ap, int len)
{
    if (len >= 2)
        return va_arg(*ap, long long);
    if (len == 1)
        return va_arg(*ap, long);
    return va_arg(*ap, int);
}

static uint64_t arg_unsigned(va_list *ap, int len)
{
    if (len >= 2)
        return va_arg(*ap, unsigned long long);
    if (len == 1)
        return va_arg(*ap, unsigned long);
    return va_arg(*ap, unsigned int);
}

/* Parses a width or precision: digits, or '*' from the arguments. */
static int spec_number(const char **fp, va_list *ap)
{
    const char *f = *fp;
    int n = 0;
    if (*f == '*') {
        n = va_arg(*ap, int);
        f++;
    } else {
        while (*f >= '0' && *f <= '9')
            n = n * 10 + (*f++ - '0');
    }
    *fp = f;
    return n;
}

/* Formats fmt into buf (at most cap - 1 bytes, NUL-terminated); returns
 * the length the whole output would have. */
size_t runtime__vformat(char *buf, size_t cap, const char *fmt, va_list ap0)
{
    out_t o = {buf, cap, 0};
    va_list ap;
    va_copy(ap, ap0);
    for (const char *f = fmt; *f; f++) {
        if (*f != '%') {
            put(&o, *f);
            continue;
        }
        f++;
        bool alt = false, left = false, zero = false;
        for (;; f++) {
            if (*f == '#') alt = true;
            else if (*f == '-') left = true;
            else if (*f == '0') zero = true;
            else break;
        }
        int width = spec_number(&f, &ap), prec = -1;
        if (*f == '.') {
            f++;
            prec = spec_number(&f, &ap);
        }
        int len = 0;
        for (;; f++) {
            if (*f == 'l') len++;
            else if (*f == 'z' || *f == 'j' || *f == 't') len = 2;
            else if (*f == 'h') len = 0;
            else break;
        }
        switch (*f) {
        case 'd': case 'i': {
            int64_t v = arg_signed(&ap, len);
            uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
            put_int(&o, u, v < 0, 10, false, false, left, zero, width);
            break;
        }
        case 'u':
            put_int(&o, arg_unsigned(&ap, len), false, 10, false, false, left, zero, width);
            break;
        case 'x': case 'X':
            put_int(&o, arg_unsigned(&ap, len), false, 16, *f == 'X', alt, left, zero, width);
            break;
        case 'p':
            put_int(&o, (uintptr_t)va_arg(ap, void *), false, 16, false, true, left, false, width);
            break;
        case 'c':
            put(&o, (char)va_arg(ap, int));
            break;
        case 's': {
            const char *s = va_arg(ap, const char *);
            if (s == NULL)
                s = "(null)";
            size_t n = prec >= 0 ? strnlen(s, (size_t)prec) : strlen(s);
            if (!left)
                pad(&o, ' ', width - (int)n);
            for (size_t i = 0; i < n; i++)
                put(&o, s[i]);
            if (left)
                pad(&o, ' ', width - (int)n);
            break;
        }
        case '%':
            put(&o, '%');
            break;
        default:        /* unknown conversion: shown as written */
            put(&o, '%');
            if (*f == 0)
                f--;
            else
                put(&o, *f);
            break;
        }
    }
    va_end(ap);
    if (cap > 0)
        buf[o.len < cap ? o.len : cap - 1] = 0;
    return o.len;
}

void runtime__vprintf(const char *fmt, va_list ap)
{
    char buf[PRINT_BUF];
    size_t n = runtime__vformat(buf, sizeof buf, fmt, ap);
    if (n >= sizeof buf)
        n = sizeof buf - 1;
    for (size_t off = 0; off < n;) {
        ssize_t w = write(2, buf + off, n - off);
        if (w <= 0)
            break;
        off += (size_t)w;
    }
}

void runtime__printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    runtime__vprintf(fmt, ap);
    va_end(ap);
}
