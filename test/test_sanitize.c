/*
 * test/test_sanitize.c -- what the sanitizer builds promise a user's
 * program: under ThreadSanitizer a data race between two goroutines is
 * reported, and work ordered by gort's channels, mutexes, WaitGroups and
 * goroutine starts is not (test/race_program.c, run as its own process
 * so that TSan starts afresh in it).
 */
#include "helpers.h"

#define RACE_PROGRAM GT_BUILD_DIR "/test/race_program"

/* Runs race_program with mode; the caller frees the result. */
static gt_result_t *run_mode(const char *mode)
{
    char *argv[] = {(char *)RACE_PROGRAM, (char *)mode, NULL};
    gt_result_t *r = malloc(sizeof *r);
    gt_exec(r, argv, 60000);
    return r;
}

Test(sanitize, race_between_goroutines_is_reported, .timeout = 90)
{
#ifndef __SANITIZE_THREAD__
    cr_skip_test("only under SANITIZE=thread: this build has no race detector");
#endif
    gt_result_t *r = run_mode("race");
    cr_assert_neq(r->status, 0, "the race went unreported, output:\n%s", r->out);
    cr_assert(strstr(r->out, "WARNING: ThreadSanitizer: data race") != NULL, "output:\n%s", r->out);
    gt_assert_match(r->out, "#0 racy [^\n]*race_program\\.c", "the report's first frame");
    free(r);
}

Test(sanitize, synchronised_work_is_not_reported, .timeout = 90)
{
    gt_result_t *r = run_mode("clean");
    cr_assert_eq(r->status, 0, "status %d, output:\n%s", r->status, r->out);
    cr_assert(strstr(r->out, "counter=400000 bad=0 seen=42") != NULL, "output:\n%s", r->out);
    cr_assert(strstr(r->out, "ThreadSanitizer") == NULL, "output:\n%s", r->out);
    free(r);
}
