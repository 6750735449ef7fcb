/*
 * test_tools_gdb.c -- tools/gort-gdb.py against a live gort program.
 *
 * A forked child runs runtime_main at GOMAXPROCS=1: three goroutines park
 * on channel receives (in a distinctive noinline function), a fourth is
 * created but cannot start, and main blocks in a plain read(2) in another
 * function, so it stays "running" on its thread. The test
 * attaches `gdb -batch -p` with the script and checks "info goroutines",
 * "goroutine N bt" for a parked goroutine and for the running main, and
 * "gort-sched". Skipped when gdb is missing, has no Python, cannot attach
 * (ptrace restrictions) or the script is not found (run from the repo root
 * as make check does).
 */
#include "helpers.h"

#include <fcntl.h>
#include <sys/prctl.h>

#define GDB_TIMEOUT_MS 20000
#define NPARKED        3

/* ------------------------------------------------------------------ */
/* the child program                                                   */
/* ------------------------------------------------------------------ */

static int ready_fd = -1;   /* child -> test: goroutine ids, then "ok" */
static int block_fd = -1;   /* main blocks reading it until the test ends */
static chan_t *parkchan;

/* Parks on a channel receive nobody will ever satisfy. */
__attribute__((noinline)) static void gt_gdb_parked_receiver(void *arg)
{
    long *slot = arg;
    *slot = (long)runtime_goid();
    int v;
    chan_recv(parkchan, &v);
    __asm__ volatile("" ::: "memory");   /* not a tail call */
}

/* Never runs while gdb looks: GOMAXPROCS is 1 and main holds the P. */
__attribute__((noinline)) static void gt_gdb_never_started(void *arg)
{
    (void)arg;
    __asm__ volatile("" ::: "memory");
}

/* Blocks the main goroutine's thread in read(2) without parking. */
__attribute__((noinline)) static void gt_gdb_main_blocked(void)
{
    char c;
    while (read(block_fd, &c, 1) < 0 && errno == EINTR) {}
    __asm__ volatile("" ::: "memory");
}

static int child_main(int argc, char **argv)
{
    (void)argc; (void)argv;
    static long goids[NPARKED];
    runtime_gomaxprocs(1);
    parkchan = chan_make(sizeof(int), 0);
    for (int i = 0; i < NPARKED; i++)
        go(gt_gdb_parked_receiver, &goids[i]);
    /* Wait until all three are parked (Go's "goroutine N [chan receive]:"
     * headers in an all-goroutines traceback). */
    static char buf[1 << 16];
    for (int tries = 0; tries < 5000; tries++) {
        time_sleep(TIME_MILLISECOND);
        size_t n = runtime_stack(buf, sizeof buf - 1, true);
        buf[n] = 0;
        int parked = 0;
        for (char *s = buf; (s = strstr(s, "[chan receive]")) != NULL; s++)
            parked++;
        if (parked == NPARKED)
            break;
    }
    /* Main stays on this thread from here on: it does not park again
     * before gdb has looked. */
    go(gt_gdb_never_started, NULL);   /* stays unstarted: no stack yet */
    char msg[128];
    int n = snprintf(msg, sizeof msg, "%ld %ld %ld %ld\n", goids[0], goids[1],
                     goids[2], (long)gettid());
    if (write(ready_fd, msg, (size_t)n) != n)
        return 2;
    gt_gdb_main_blocked();
    /* gdb has detached: everybody must still work (registers restored). */
    for (int i = 0; i < NPARKED; i++) {
        int v = i;
        chan_send(parkchan, &v);
    }
    if (write(ready_fd, "done\n", 5) != 5)
        return 2;
    return 0;
}

/* ------------------------------------------------------------------ */
/* the test                                                            */
/* ------------------------------------------------------------------ */

/* Finds tools/gort-gdb.py from the current directory or a parent. */
static bool find_script(char *out, size_t n)
{
    char dir[4096];
    if (!getcwd(dir, sizeof dir))
        return false;
    for (;;) {
        snprintf(out, n, "%s/tools/gort-gdb.py", dir);
        if (access(out, R_OK) == 0)
            return true;
        char *slash = strrchr(dir, '/');
        if (slash == NULL || slash == dir)
            return false;
        *slash = 0;
    }
}

/* Is prog an executable on PATH? */
static bool on_path(const char *prog)
{
    const char *path = getenv("PATH");
    if (!path)
        return false;
    char buf[4096];
    while (*path) {
        const char *end = strchr(path, ':');
        size_t len = end ? (size_t)(end - path) : strlen(path);
        snprintf(buf, sizeof buf, "%.*s/%s", (int)len, path, prog);
        if (access(buf, X_OK) == 0)
            return true;
        path += len + (end ? 1 : 0);
    }
    return false;
}

/* Reads one line from fd within timeout_ms; false on timeout or EOF. */
static bool read_line(int fd, char *buf, size_t n, int timeout_ms)
{
    size_t len = 0;
    while (len + 1 < n) {
        struct pollfd p = {fd, POLLIN, 0};
        int k = poll(&p, 1, timeout_ms);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return false;
        ssize_t got = read(fd, buf + len, 1);
        if (got <= 0)
            return false;
        if (buf[len] == '\n')
            break;
        len++;
    }
    buf[len] = 0;
    return true;
}

/* The line of "info goroutines" output for goid, or NULL. */
static const char *goroutine_line(const char *out, long goid, char *line, size_t n)
{
    char pat[32];
    snprintf(pat, sizeof pat, " %ld ", goid);
    for (const char *s = out; *s; ) {
        const char *e = strchr(s, '\n');
        size_t len = e ? (size_t)(e - s) : strlen(s);
        if (len >= 2 && (s[0] == ' ' || s[0] == '*') &&
            strncmp(s + 1, pat, strlen(pat)) == 0) {
            snprintf(line, n, "%.*s", (int)len, s);
            return line;
        }
        s += len + (e ? 1 : 0);
    }
    return NULL;
}

Test(tools_gdb, info_goroutines_and_bt, .timeout = 60)
{
    if (!on_path("gdb"))
        cr_skip_test("gdb is not on PATH");
    char script[4200];
    if (!find_script(script, sizeof script))
        cr_skip_test("tools/gort-gdb.py not found from the current directory "
                     "(run from the repository root, as make check does)");

    int rfd[2], bfd[2];
    cr_assert(pipe(rfd) == 0 && pipe(bfd) == 0);
    fflush(NULL);
    pid_t child = fork();
    cr_assert(child >= 0);
    if (child == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        close(rfd[0]);
        close(bfd[1]);
        ready_fd = rfd[1];
        block_fd = bfd[0];
        int devnull = open("/dev/null", O_WRONLY);
        if (devnull >= 0) { dup2(devnull, 1); dup2(devnull, 2); }
        char *argv[] = {(char *)"gort-gdb-child", NULL};
        _exit(runtime_main(child_main, 1, argv));
    }
    close(rfd[1]);
    close(bfd[0]);

    char line[256];
    long goids[NPARKED] = {0}, maintid = 0;
    bool ready = read_line(rfd[0], line, sizeof line, 10000);
    if (ready)
        ready = sscanf(line, "%ld %ld %ld %ld", &goids[0], &goids[1], &goids[2],
                       &maintid) == 4;
    if (!ready) {
        kill(child, SIGKILL);
        waitpid(child, NULL, 0);
        cr_assert_fail("the child program did not get ready");
    }

    char pidbuf[32], btcmd[64], rawbtcmd[80], selcmd[160];
    snprintf(pidbuf, sizeof pidbuf, "%d", (int)child);
    snprintf(btcmd, sizeof btcmd, "goroutine %ld bt", goids[0]);
    snprintf(rawbtcmd, sizeof rawbtcmd, "goroutine %ld bt -no-filters", goids[0]);
    /* Select the thread main runs on (M0 or not: main may have moved). */
    snprintf(selcmd, sizeof selcmd,
             "python [t.switch() for t in gdb.selected_inferior().threads() "
             "if t.ptid[1] == %ld]", maintid);
    char *argv[] = {
        "gdb", "-nx", "-batch",
        "-iex", "set debuginfod enabled off",
        "-p", pidbuf, "-x", script,
        "-ex", selcmd,
        "-ex", "echo ==INFO==\\n", "-ex", "info goroutines",
        "-ex", "echo ==BT==\\n", "-ex", btcmd,
        "-ex", "echo ==RAWBT==\\n", "-ex", rawbtcmd,
        "-ex", "echo ==MAINBT==\\n", "-ex", "goroutine 1 bt",
        "-ex", "echo ==SCHED==\\n", "-ex", "gort-sched",
        "-ex", "echo ==ALL==\\n", "-ex", "goroutine all bt -no-filters",
        "-ex", "echo ==END==\\n",
        NULL,
    };
    static gt_result_t r;
    gt_exec(&r, argv, GDB_TIMEOUT_MS);

    /* The child must still be alive after gdb detached, and go on: main
     * wakes the parked receivers and exits. */
    bool alive = waitpid(child, NULL, WNOHANG) == 0;
    bool resumed = alive && write(bfd[1], "x", 1) == 1 &&
                   read_line(rfd[0], line, sizeof line, 10000) &&
                   strcmp(line, "done") == 0;
    close(bfd[1]);
    int st = 0;
    bool reaped = false;
    for (int i = 0; resumed && i < 1000 && !reaped; i++) {
        reaped = waitpid(child, &st, WNOHANG) == child;
        if (!reaped)
            usleep(10000);
    }
    if (!reaped) {
        kill(child, SIGKILL);
        waitpid(child, &st, 0);
    }
    close(rfd[0]);

    if (strstr(r.out, "ptrace: Operation not permitted") ||
        strstr(r.out, "Could not attach to process") ||
        strstr(r.out, "ptrace_scope"))
        cr_skip_test("gdb cannot attach to the child (ptrace restricted): %.200s", r.out);
    if (strstr(r.out, "Python scripting is not supported"))
        cr_skip_test("this gdb has no Python support");

    if (getenv("GT_GDB_VERBOSE"))
        fprintf(stderr, "%s", r.out);
    cr_assert(alive, "the child died while gdb was attached; gdb said:\n%s", r.out);
    cr_assert(resumed, "the child did not resume after gdb detached; gdb said:\n%s", r.out);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0,
              "the child did not exit cleanly after gdb detached (status 0x%x)", st);
    const char *info = strstr(r.out, "==INFO==");
    const char *bt = strstr(r.out, "==BT==");
    const char *mainbt = strstr(r.out, "==MAINBT==");
    const char *sched = strstr(r.out, "==SCHED==");
    const char *all = strstr(r.out, "==ALL==");
    const char *end = strstr(r.out, "==END==");
    cr_assert(info && bt && mainbt && sched && all && end && info < bt &&
              bt < mainbt && mainbt < sched && sched < all && all < end,
              "gdb did not run all commands:\n%s", r.out);

    char l[512];
    for (int i = 0; i < NPARKED; i++) {
        cr_assert(goroutine_line(info, goids[i], l, sizeof l),
                  "goroutine %ld missing:\n%s", goids[i], r.out);
        cr_assert(strstr(l, "waiting [chan receive]"), "line: %s\n%s", l, r.out);
        cr_assert(strstr(l, "gt_gdb_parked_receiver"), "line: %s\n%s", l, r.out);
        cr_assert(l[0] == ' ', "line: %s", l);
    }
    /* The goroutine that has not started: listed, runnable, its entry. */
    /* Listed by goroutine id. */
    long prev = 0;
    for (const char *l = strchr(info, '\n'); l && l < bt; l = strchr(l + 1, '\n')) {
        long id;
        if (sscanf(l + 1, "%*c %ld ", &id) == 1) {
            cr_assert(id > prev, "goroutine %ld listed after %ld:\n%s", id, prev, r.out);
            prev = id;
        }
    }
    const char *ns = strstr(info, "gt_gdb_never_started");
    cr_assert(ns && ns < bt, "unstarted goroutine missing:\n%s", r.out);
    const char *ls = ns;
    while (ls > info && ls[-1] != '\n')
        ls--;
    snprintf(l, sizeof l, "%.*s", (int)(ns - ls), ls);
    cr_assert(strstr(l, " runnable "), "line: %s\n%s", l, r.out);
    cr_assert(goroutine_line(info, 1, l, sizeof l), "goroutine 1 missing:\n%s", r.out);
    cr_assert(strncmp(l, "* 1 running", 11) == 0 && strstr(l, "main_entry"),
              "main line: %s\n%s", l, r.out);

    /* The parked goroutine's backtrace, from its saved context: libgort's
     * frames hidden, unless the filter is off. */
    const char *rawbt = strstr(r.out, "==RAWBT==");
    cr_assert(rawbt && bt < rawbt && rawbt < mainbt, "gdb said:\n%s", r.out);
    char part[1 << 14];
    snprintf(part, sizeof part, "%.*s", (int)(rawbt - bt), bt);
    cr_assert(strstr(part, "gt_gdb_parked_receiver"), "bt:\n%s", r.out);
    cr_assert_null(strstr(part, "chan_recv"), "bt:\n%s", r.out);
    snprintf(part, sizeof part, "%.*s", (int)(mainbt - rawbt), rawbt);
    cr_assert(strstr(part, "gt_gdb_parked_receiver"), "raw bt:\n%s", r.out);
    cr_assert(strstr(part, "chan_recv"), "raw bt:\n%s", r.out);

    /* Main's, on its thread. */
    snprintf(part, sizeof part, "%.*s", (int)(sched - mainbt), mainbt);
    char lwp[64];
    snprintf(lwp, sizeof lwp, "thread LWP %ld", maintid);
    cr_assert(strstr(part, "goroutine 1 is running on M") && strstr(part, lwp),
              "main bt:\n%s", r.out);
    cr_assert(strstr(part, "gt_gdb_main_blocked"), "main bt:\n%s", r.out);

    snprintf(part, sizeof part, "%.*s", (int)(all - sched), sched);
    cr_assert(strstr(part, "gomaxprocs=") && strstr(part, "P0: status=") &&
              strstr(part, "npidle="), "sched:\n%s", r.out);

    /* Every goroutine's backtrace: a Go-style header for each, then its
     * frames, down to the entry trampoline. */
    snprintf(part, sizeof part, "%.*s", (int)(end - all), all);
    for (int i = 0; i < NPARKED; i++) {
        char hdr[64];
        snprintf(hdr, sizeof hdr, "goroutine %ld [chan receive]:", goids[i]);
        const char *h = strstr(part, hdr);
        cr_assert(h && strstr(h, "gt_gdb_parked_receiver"), "all:\n%s", r.out);
    }
    cr_assert(strstr(part, "goroutine 1 [running]:"), "all:\n%s", r.out);
    cr_assert(strstr(part, "has not started yet (it will run gt_gdb_never_started"),
              "all:\n%s", r.out);
    int trampolines = 0;
    for (const char *s = part; (s = strstr(s, "in sched__gostart")) != NULL; s++)
        trampolines++;
    cr_assert(trampolines >= NPARKED + 1, "all:\n%s", r.out);
}
