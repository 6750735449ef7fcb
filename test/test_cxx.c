/*
 * test/test_cxx.c -- <gort.h> works from C++: the program
 * test/cxx/cxx_program.cpp, built with g++ and with clang++ at -std=c++11
 * -Wall -Wextra -pedantic -Werror (the build fails otherwise), starts
 * goroutines, uses a channel and a WaitGroup, defers and recovers.
 */
#include "helpers.h"

/* Runs the program at path and checks its output and status. */
static void run_cxx(const char *path)
{
    char *const argv[] = {(char *)path, NULL};
    gt_result_t *r = malloc(sizeof *r);
    gt_exec(r, argv, 20000);
    cr_assert_eq(r->status, 0, "%s: status %d, output:\n%s", path, r->status, r->out);
    cr_assert(strstr(r->out, "cxx ok 385 from C++\n") != NULL, "%s: output:\n%s", path, r->out);
    free(r);
}

Test(cxx, gxx_program, .timeout = 30) { run_cxx(GT_BUILD_DIR "/test/cxx_gxx"); }
Test(cxx, clangxx_program, .timeout = 30) { run_cxx(GT_BUILD_DIR "/test/cxx_clang"); }
