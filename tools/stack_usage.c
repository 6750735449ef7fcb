/* Measures the stack high-water mark of common libc calls: each runs on
 * a fresh 1 MiB stack painted with a pattern (makecontext), and the
 * bytes no longer holding the pattern are what it used. */
#define _GNU_SOURCE
#include <math.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <ucontext.h>
#include <locale.h>
#include <regex.h>
#include <syslog.h>
#include <sys/socket.h>

#define STK (1 << 20)
static ucontext_t mainctx, fnctx;
static unsigned char *stk;
static void (*fn)(void);

static void tramp(void) { fn(); }

static size_t measure(void (*f)(void))
{
    memset(stk, 0xA5, STK);
    fn = f;
    getcontext(&fnctx);
    fnctx.uc_stack.ss_sp = stk;
    fnctx.uc_stack.ss_size = STK;
    fnctx.uc_link = &mainctx;
    makecontext(&fnctx, tramp, 0);
    swapcontext(&mainctx, &fnctx);
    size_t i = 0;
    while (i < STK && stk[i] == 0xA5)
        i++;
    return STK - i;
}

static char big[1 << 20];
static FILE *devnull;
static void f_printf_int(void) { fprintf(devnull, "%d %s\n", 42, "x"); }
static void f_printf_big(void) { fprintf(devnull, "%s\n", big); }
static void f_printf_width(void) { fprintf(devnull, "%100000d\n", 1); }
static void f_printf_double(void) { fprintf(devnull, "%f %g %e\n", 3.14159, 1e300, 2.5e-300); }
static void f_snprintf_Lf(void) { char b[64]; snprintf(b, sizeof b, "%Lf", 1e4000L); fprintf(devnull, "%s", b); }
static void f_printf_Lf_huge(void) { fprintf(devnull, "%.2Lf\n", 1e4900L); }
static void f_printf_f_huge(void) { fprintf(devnull, "%f\n", 1e308); }
static int cmp(const void *a, const void *b) { return *(const int *)a - *(const int *)b; }
static int arr[100000];
static void f_qsort(void) { for (int i = 0; i < 100000; i++) arr[i] = rand(); qsort(arr, 100000, sizeof arr[0], cmp); }
static void f_getaddrinfo(void) { struct addrinfo *r = NULL; if (getaddrinfo("localhost", "80", NULL, &r) == 0) freeaddrinfo(r); }
static void f_getaddrinfo_num(void) { struct addrinfo *r = NULL; if (getaddrinfo("127.0.0.1", "80", NULL, &r) == 0) freeaddrinfo(r); }
static void f_getaddrinfo_dns(void) { struct addrinfo *r = NULL; if (getaddrinfo("gort.invalid", "80", NULL, &r) == 0) freeaddrinfo(r); }
static void f_strftime(void) { char b[128]; time_t t = 0; struct tm tm; localtime_r(&t, &tm); strftime(b, sizeof b, "%c", &tm); }
static void f_regcomp(void) { regex_t re; if (regcomp(&re, "^(a|b)*[0-9]+c{2,5}$", REG_EXTENDED) == 0) { regexec(&re, "abab123cc", 0, NULL, 0); regfree(&re); } }
static void f_strtod(void) { volatile double d = strtod("1.7976931348623157e308", NULL); (void)d; }
static void f_getpwnam(void) { (void)getenv("HOME"); }

int main(void)
{
    devnull = fopen("/dev/null", "w");
    memset(big, 'x', sizeof big - 1);
    stk = malloc(STK);
    struct { const char *name; void (*f)(void); } t[] = {
        {"fprintf(\"%d %s\")", f_printf_int},
        {"fprintf(\"%s\", 1 MiB string)", f_printf_big},
        {"fprintf(\"%100000d\")", f_printf_width},
        {"fprintf(\"%f %g %e\")", f_printf_double},
        {"fprintf(\"%f\", 1e308)", f_printf_f_huge},
        {"snprintf(\"%Lf\", 1e4000L)", f_snprintf_Lf},
        {"fprintf(\"%.2Lf\", 1e4900L)", f_printf_Lf_huge},
        {"qsort(100000 ints)", f_qsort},
        {"getaddrinfo(\"localhost\")", f_getaddrinfo},
        {"getaddrinfo(\"127.0.0.1\")", f_getaddrinfo_num},
        {"getaddrinfo(\"gort.invalid\") DNS", f_getaddrinfo_dns},
        {"localtime_r+strftime(\"%c\")", f_strftime},
        {"regcomp+regexec", f_regcomp},
        {"strtod", f_strtod},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        size_t first = measure(t[i].f);   /* lazy binding, locale and NSS setup */
        size_t again = measure(t[i].f);
        printf("%-32s %7zu first %7zu again\n", t[i].name, first, again);
    }
    return 0;
}
