/*
 * test/test_guide.c -- docs/guide.md, the user's guide, stays true:
 *
 * - every ```c block of the guide is a whole program file: its first line
 *   names it (docs/guide/NAME.c) and the block equals that file byte for
 *   byte; every .c file of docs/guide/ is shown exactly once;
 * - the fenced block that follows each program (```text) is what the
 *   program prints on stdout: each program (built by the Makefile as a user
 *   builds, -std=c11 -pedantic -Werror against libgort.so) is run at the
 *   default GOMAXPROCS and at GOMAXPROCS=1 and its stdout compared with it,
 *   its exit status and stderr checked against the table below;
 * - the gc_store rule is the same sentence in the guide, README.md and
 *   docs/gc.md.
 */
#include "helpers.h"

#include <dirent.h>
#include <fcntl.h>
#include <criterion/parameterized.h>

#define GUIDE_MD  GT_SRC_DIR "/docs/guide.md"
#define GUIDE_DIR GT_SRC_DIR "/docs/guide"

/* What each program must do besides printing its ```text block. */
typedef struct {
    const char *name;
    int status;                /* exit status */
    const char *stderr_has[4]; /* substrings of stderr; none: stderr empty */
} prog_t;

static const prog_t progs[] = {
    {"start", 3, {NULL}},
    {"goroutines", 0, {NULL}},
    {"channels", 0, {NULL}},
    {"select_default", 0, {NULL}},
    {"select_timeout", 0, {NULL}},
    {"select_loop", 0, {NULL}},
    {"select_nil", 0, {NULL}},
    {"fanin", 0, {NULL}},
    {"workers", 0, {NULL}},
    {"timers", 0, {NULL}},
    {"sync", 0, {NULL}},
    {"panic", 0, {NULL}},
    {"panic_exit", 2, {"panic: config: missing value\n\ngoroutine 1 [running]:\n",
                       "check_config(...)", "app_main(...)", NULL}},
    {"gc", 0, {NULL}},
    {"leak", 0, {NULL}},
};
#define NPROGS (sizeof progs / sizeof progs[0])

/* The rule of docs/guide.md's "The GC contract", README's "Rules you must
 * know" and docs/gc.md's "Rules of gc_store", compared with runs of
 * whitespace folded to one space. */
static const char gc_rule[] =
    "Every store of a GC pointer into memory that is not the storing "
    "goroutine's own stack \xe2\x80\x94 a `gc_alloc` object, a global or static "
    "variable, a registered root \xe2\x80\x94 must be written with "
    "`gc_store(&slot, p)` or `GC_STORE(slot, p)` (`gc_memmove` and "
    "`gc_memclr` for bulk copies and clears), also when the new value is "
    "NULL and also when the object was just allocated and is not yet "
    "published.";

static char *read_all(const char *path, size_t *lenp)
{
    FILE *f = fopen(path, "rb");
    cr_assert(f != NULL, "cannot open %s", path);
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    size_t k;
    while ((k = fread(buf + len, 1, cap - len - 1, f)) > 0) {
        len += k;
        if (len + 1 == cap)
            buf = realloc(buf, cap *= 2);
    }
    fclose(f);
    buf[len] = '\0';
    if (lenp)
        *lenp = len;
    return buf;
}

/* A fenced block of the guide. */
typedef struct {
    char lang[16];
    char *text;          /* the lines between the fences, each with its \n */
    int line;            /* line number of the opening fence */
} block_t;

static block_t blocks[256];
static int nblocks;

static void parse_guide(void)
{
    if (nblocks > 0)
        return;
    char *md = read_all(GUIDE_MD, NULL);
    char *p = md;
    int lineno = 0;
    block_t *cur = NULL;
    size_t curlen = 0, curcap = 0;
    while (*p) {
        char *eol = strchr(p, '\n');
        size_t n = eol ? (size_t)(eol - p) + 1 : strlen(p);
        lineno++;
        if (cur == NULL && strncmp(p, "```", 3) == 0) {
            cr_assert(nblocks < 256, "too many blocks");
            cur = &blocks[nblocks++];
            size_t l = strcspn(p + 3, " \n");
            cr_assert(l < sizeof cur->lang, "guide.md:%d: long fence tag", lineno);
            memcpy(cur->lang, p + 3, l);
            cur->lang[l] = '\0';
            cur->line = lineno;
            curcap = 4096;
            curlen = 0;
            cur->text = malloc(curcap);
            cur->text[0] = '\0';
        } else if (cur != NULL && strncmp(p, "```", 3) == 0 && (p[3] == '\n' || p[3] == '\0')) {
            cur = NULL;
        } else if (cur != NULL) {
            while (curlen + n + 1 > curcap)
                cur->text = realloc(cur->text, curcap *= 2);
            memcpy(cur->text + curlen, p, n);
            curlen += n;
            cur->text[curlen] = '\0';
        }
        p += n;
    }
    cr_assert(cur == NULL, "guide.md: block at line %d is not closed", cur ? cur->line : 0);
    free(md);
}

/* The program name a ```c block's first line gives, or NULL. */
static const char *block_prog(const block_t *b, char *name, size_t size)
{
    const char *pfx = "/* docs/guide/";
    if (strncmp(b->text, pfx, strlen(pfx)) != 0)
        return NULL;
    const char *s = b->text + strlen(pfx);
    size_t l = strcspn(s, ". \n");
    if (l == 0 || l >= size || strncmp(s + l, ".c ", 3) != 0)
        return NULL;
    memcpy(name, s, l);
    name[l] = '\0';
    return name;
}

/* The ```text block after program name's ```c block. */
static const char *expected_stdout(const char *name)
{
    parse_guide();
    for (int i = 0; i < nblocks; i++) {
        char n[64];
        if (strcmp(blocks[i].lang, "c") == 0 && block_prog(&blocks[i], n, sizeof n) &&
            strcmp(n, name) == 0) {
            cr_assert(i + 1 < nblocks && strcmp(blocks[i + 1].lang, "text") == 0,
                      "guide.md:%d: the program %s is not followed by a ```text block "
                      "with its output", blocks[i].line, name);
            return blocks[i + 1].text;
        }
    }
    cr_assert_fail("guide.md shows no program docs/guide/%s.c", name);
    return NULL;
}

Test(guide, code_blocks_are_the_program_files)
{
    parse_guide();
    int shown[NPROGS] = {0};
    int nc = 0;
    for (int i = 0; i < nblocks; i++) {
        cr_assert(strcmp(blocks[i].lang, "C") != 0 && strcmp(blocks[i].lang, "c11") != 0,
                  "guide.md:%d: write C blocks as ```c", blocks[i].line);
        if (strcmp(blocks[i].lang, "c") != 0)
            continue;
        nc++;
        char name[64], path[512];
        cr_assert(block_prog(&blocks[i], name, sizeof name) != NULL,
                  "guide.md:%d: a ```c block must be a whole program whose first line "
                  "is /* docs/guide/NAME.c -- ...", blocks[i].line);
        snprintf(path, sizeof path, GUIDE_DIR "/%s.c", name);
        char *file = read_all(path, NULL);
        if (strcmp(file, blocks[i].text) != 0) {
            const char *a = file, *b = blocks[i].text;
            int line = 1;
            while (*a && *a == *b) { if (*a == '\n') line++; a++; b++; }
            cr_assert_fail("guide.md:%d: the block differs from docs/guide/%s.c at its "
                           "line %d", blocks[i].line, name, line);
        }
        free(file);
        size_t k = 0;
        while (k < NPROGS && strcmp(progs[k].name, name) != 0)
            k++;
        cr_assert(k < NPROGS, "docs/guide/%s.c is not in test_guide.c's table", name);
        cr_assert(shown[k]++ == 0, "guide.md:%d: docs/guide/%s.c shown twice",
                  blocks[i].line, name);
    }
    cr_assert(nc > 0, "no ```c block in the guide");

    DIR *d = opendir(GUIDE_DIR);
    cr_assert(d != NULL);
    struct dirent *e;
    int files = 0;
    while ((e = readdir(d)) != NULL) {
        size_t l = strlen(e->d_name);
        if (l < 3 || strcmp(e->d_name + l - 2, ".c") != 0)
            continue;
        files++;
        size_t k = 0;
        while (k < NPROGS && (strlen(progs[k].name) != l - 2 ||
                              strncmp(progs[k].name, e->d_name, l - 2) != 0))
            k++;
        cr_assert(k < NPROGS && shown[k], "docs/guide/%s is not shown in docs/guide.md",
                  e->d_name);
    }
    closedir(d);
    cr_assert_eq(files, (int)NPROGS, "%d files in docs/guide, %zu in the table", files, NPROGS);
}

/* Whitespace runs folded to one space. */
static char *fold(const char *s)
{
    char *out = malloc(strlen(s) + 1), *o = out;
    for (; *s; s++) {
        if (*s == ' ' || *s == '\n' || *s == '\t') {
            if (o > out && o[-1] != ' ')
                *o++ = ' ';
        } else {
            *o++ = *s;
        }
    }
    *o = '\0';
    return out;
}

Test(guide, gc_store_rule_is_stated_identically)
{
    const char *files[] = {GUIDE_MD, GT_SRC_DIR "/README.md", GT_SRC_DIR "/docs/gc.md"};
    char *rule = fold(gc_rule);
    for (size_t i = 0; i < 3; i++) {
        char *text = read_all(files[i], NULL), *f = fold(text);
        cr_assert(strstr(f, rule) != NULL, "%s does not state the gc_store rule:\n%s",
                  files[i], gc_rule);
        free(f);
        free(text);
    }
    free(rule);
}

/* Runs build/guide/name with GOMAXPROCS=procs (NULL: inherited); stdout
 * into r, stderr into *err (malloc'd). */
static void run_prog(gt_result_t *r, char **err, const char *name, const char *procs)
{
    char path[512];
    snprintf(path, sizeof path, GT_BUILD_DIR "/guide/%s", name);
    cr_assert(access(path, X_OK) == 0, "%s is not built (make check builds it)", path);
    FILE *errf = tmpfile();
    cr_assert(errf != NULL);
    int pfd[2];
    cr_assert(pipe(pfd) == 0);
    fflush(NULL);
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        dup2(pfd[1], 1);
        dup2(fileno(errf), 2);
        close(pfd[0]);
        close(pfd[1]);
        const char *unset[] = {"GOGC", "GODEBUG", "GOTRACEBACK", "GOMEMLIMIT",
                               "GORT_STACK_SIZE", "GOMAXPROCS"};
        for (size_t i = 0; i < sizeof unset / sizeof unset[0]; i++)
            if (strcmp(unset[i], "GOMAXPROCS") != 0 || procs != NULL)
                unsetenv(unset[i]);
        if (procs)
            setenv("GOMAXPROCS", procs, 1);
        execl(path, path, (char *)NULL);
        _exit(127);
    }
    close(pfd[1]);
    gt_collect(r, pid, pfd[0], 50000);
    long n = ftell(errf);
    *err = malloc(n > 0 ? (size_t)n + 1 : 1);
    rewind(errf);
    size_t k = n > 0 ? fread(*err, 1, (size_t)n, errf) : 0;
    (*err)[k] = '\0';
    fclose(errf);
}

static void check_prog(const char *name)
{
    const prog_t *p = NULL;
    for (size_t k = 0; k < NPROGS; k++)
        if (strcmp(progs[k].name, name) == 0)
            p = &progs[k];
    cr_assert(p != NULL);
    const char *want = expected_stdout(name);
    const char *procs[] = {NULL, "1"};
    gt_result_t *r = malloc(sizeof *r);
    for (size_t i = 0; i < 2; i++) {
        char *err;
        run_prog(r, &err, name, procs[i]);
        const char *how = procs[i] ? "at GOMAXPROCS=1" : "at the default GOMAXPROCS";
        cr_assert_eq(r->status, p->status, "%s %s: exit status %d, want %d; stderr:\n%s",
                     name, how, r->status, p->status, err);
        cr_assert_str_eq(r->out, want, "%s %s: stdout\n%s\nis not the guide's\n%s\nstderr:\n%s",
                         name, how, r->out, want, err);
        if (p->stderr_has[0] == NULL)
            cr_assert_str_empty(err, "%s %s: stderr is not empty:\n%s", name, how, err);
        for (int j = 0; j < 4 && p->stderr_has[j]; j++)
            cr_assert(strstr(err, p->stderr_has[j]) != NULL, "%s %s: stderr lacks %s:\n%s",
                      name, how, p->stderr_has[j], err);
        free(err);
    }
    free(r);
}

/* The parameter is an index into progs: Criterion may run each test in a
 * fresh process, where pointers into this one would be meaningless. */
ParameterizedTestParameters(guide, program)
{
    static int index[NPROGS];
    for (size_t k = 0; k < NPROGS; k++)
        index[k] = (int)k;
    return cr_make_param_array(int, index, NPROGS);
}

ParameterizedTest(int *k, guide, program, .timeout = 120)
{
    check_prog(progs[*k].name);
}
