/*
 * test/test_header.c -- the public header and the libraries as a user
 * program sees them:
 *  - runtime/gort.h is ISO C11 clean (users build with -std=c11 -pedantic
 *    -Wall -Wextra -Werror): checked at compile time here (-Wpedantic made
 *    an error around the include) and by running the compiler on the
 *    header with exactly those flags;
 *  - every public function of the contract is defined in libgort.a (this
 *    binary takes each one's address) and exported by libgort.so (dlsym);
 *  - the zero value of every sync type is ready to use, as the contract
 *    promises, and the constants have Go's values.
 */
#pragma GCC diagnostic push
#pragma GCC diagnostic error "-Wpedantic"
#pragma GCC diagnostic error "-Wall"
#pragma GCC diagnostic error "-Wextra"
#pragma GCC diagnostic error "-Wstrict-prototypes"
#include "gort.h"
#pragma GCC diagnostic pop

#include <dlfcn.h>
#include <libgen.h>
#include <limits.h>

#include "helpers.h"

#define FN(name) {#name, (void (*)(void))&name}
typedef struct { const char *name; void (*addr)(void); } api_fn_t;

/* Every function of the API contract (runtime/gort.h, first part) and of
 * the additions. Taking the address makes the link fail if one is
 * missing from libgort.a. */
static const api_fn_t api[] = {
    FN(runtime_main), FN(go), FN(runtime_gosched), FN(runtime_gomaxprocs),
    FN(runtime_num_goroutine), FN(runtime_num_cpu), FN(runtime_goid),
    FN(runtime_goexit), FN(runtime_lock_os_thread), FN(runtime_unlock_os_thread),
    FN(runtime_entersyscall), FN(runtime_exitsyscall),
    FN(go_call), FN(go_defer), FN(go_panic), FN(go_recover),
    FN(time_now), FN(time_sleep), FN(time_after),
    FN(chan_make), FN(chan_send), FN(chan_recv), FN(chan_recv2), FN(chan_close),
    FN(chan_len), FN(chan_cap), FN(chan_select),
    FN(sync_mutex_lock), FN(sync_mutex_unlock), FN(sync_mutex_trylock),
    FN(sync_rwmutex_lock), FN(sync_rwmutex_unlock), FN(sync_rwmutex_rlock),
    FN(sync_rwmutex_runlock), FN(sync_waitgroup_add), FN(sync_waitgroup_done),
    FN(sync_waitgroup_wait), FN(sync_once_do), FN(sync_cond_wait),
    FN(sync_cond_signal), FN(sync_cond_broadcast),
    FN(gc_alloc), FN(gc_alloc_noscan), FN(gc_store), FN(gc_memmove),
    FN(gc_memclr), FN(gc_add_roots), FN(gc_remove_roots), FN(runtime_gc),
    FN(runtime_set_gc_percent), FN(runtime_set_finalizer),
    FN(runtime_keep_alive), FN(runtime_read_mem_stats),
    FN(context_background), FN(context_todo), FN(context_with_cancel),
    FN(context_with_deadline), FN(context_with_timeout), FN(context_with_value),
    FN(context_cancel), FN(context_done), FN(context_err), FN(context_deadline),
    FN(context_value),
    FN(sync_map_load), FN(sync_map_store), FN(sync_map_load_or_store),
    FN(sync_map_load_and_delete), FN(sync_map_delete), FN(sync_map_swap),
    FN(sync_map_compare_and_swap), FN(sync_map_compare_and_delete), FN(sync_map_range),
    FN(sync_pool_get), FN(sync_pool_put),
    FN(chan_try_send), FN(chan_try_recv),
    /* additions */
    FN(debug_set_max_stack), FN(debug_set_max_threads),
    FN(time_new_timer), FN(time_timer_c), FN(time_timer_stop),
    FN(time_timer_reset), FN(time_after_func), FN(time_new_ticker),
    FN(time_ticker_c), FN(time_ticker_stop), FN(time_ticker_reset),
    FN(runtime_stack), FN(debug_print_stack),
};

Test(header, every_api_function_linked)
{
    for (size_t i = 0; i < sizeof api / sizeof api[0]; i++)
        cr_assert_not_null(api[i].addr, "%s", api[i].name);
}

/* The directory of this test binary: $(BUILD)/test. */
static void self_dir(char *buf, size_t len)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    cr_assert_gt(n, 0);
    exe[n] = 0;
    snprintf(buf, len, "%s", dirname(exe));
}

Test(header, shared_library_exports_api)
{
    char dir[PATH_MAX], so[PATH_MAX + 32];
    self_dir(dir, sizeof dir);
    snprintf(so, sizeof so, "%s/../libgort.so", dir);
    if (access(so, R_OK) != 0)
        cr_skip_test("%s not built", so);
    void *h = dlopen(so, RTLD_LAZY | RTLD_LOCAL);
    cr_assert_not_null(h, "dlopen %s: %s", so, dlerror());
    int missing = 0;
    for (size_t i = 0; i < sizeof api / sizeof api[0]; i++)
        if (dlsym(h, api[i].name) == NULL) {
            fprintf(stderr, "libgort.so does not export %s\n", api[i].name);
            missing++;
        }
    /* Internal names stay hidden. */
    cr_assert_null(dlsym(h, "sched__schedule"), "internal symbol exported");
    cr_assert_null(dlsym(h, "runtime__throw"), "internal symbol exported");
    dlclose(h);
    cr_assert_eq(missing, 0, "%d public functions not exported", missing);
}

/* Runs the compiler on the header with a user's strictest usual flags. The
 * header is found from this source file's path (make runs tests from the
 * repository root). */
Test(header, strict_iso_c11)
{
    const char *src = __FILE__; /* test/test_header.c */
    char hdr[PATH_MAX];
    snprintf(hdr, sizeof hdr, "%.*sruntime/gort.h",
             (int)(strlen(src) - strlen("test/test_header.c")), src);
    if (access(hdr, R_OK) != 0)
        cr_skip_test("%s not found from %s", hdr, getcwd(NULL, 0));
    static const char *const stds[] = {"c11", "c17", "gnu11"};
    for (size_t i = 0; i < sizeof stds / sizeof stds[0]; i++) {
        char cmd[PATH_MAX + 256];
        snprintf(cmd, sizeof cmd,
                 "cc -std=%s -Wall -Wextra -pedantic -Werror -Wstrict-prototypes "
                 "-Wshadow -fsyntax-only -x c '%s' 2>&1", stds[i], hdr);
        int rc = system(cmd);
        cr_assert_eq(rc, 0, "gort.h is not clean under -std=%s -pedantic "
                     "(see the compiler output above)", stds[i]);
    }
}

/* The zero value of each sync type works, as the contract promises. */
static sync_mutex_t mu;
static sync_rwmutex_t rw;
static sync_waitgroup_t wg;
static sync_once_t once;
static int once_count;

static void once_fn(void *arg) { once_count++; }
static void wg_done(void *arg) { sync_waitgroup_done(&wg); }

static int main_zero_values(int argc, char **argv)
{
    sync_mutex_lock(&mu);
    GT_CHECK(!sync_mutex_trylock(&mu));
    sync_mutex_unlock(&mu);
    sync_rwmutex_rlock(&rw);
    sync_rwmutex_runlock(&rw);
    sync_rwmutex_lock(&rw);
    sync_rwmutex_unlock(&rw);
    sync_waitgroup_add(&wg, 2);
    go(wg_done, NULL);
    go(wg_done, NULL);
    sync_waitgroup_wait(&wg);
    sync_once_do(&once, once_fn, NULL);
    sync_once_do(&once, once_fn, NULL);
    GT_CHECK(once_count == 1);
    return 0;
}

Test(header, zero_values_ready)
{
    gt_run(main_zero_values);
}

Test(header, constants)
{
    cr_assert_eq(TIME_NANOSECOND, 1);
    cr_assert_eq(TIME_MICROSECOND, 1000);
    cr_assert_eq(TIME_MILLISECOND, 1000000);
    cr_assert_eq(TIME_SECOND, 1000000000);
    cr_assert_eq(SELECT_SEND, 1);
    cr_assert_eq(SELECT_RECV, 2);
    cr_assert_eq(sizeof(TIME_SECOND), 8);
}
