/*
 * runtime/sanitizer.h -- what the runtime tells AddressSanitizer and
 * ThreadSanitizer about its stacks and its synchronisation.
 *
 * The runtime moves threads between goroutine stacks behind the tools'
 * backs; built with `make SANITIZE=address` or `SANITIZE=thread` it
 * announces each switch, each stack and each hand-off
 * the tools cannot infer from atomics. In the default build every macro
 * here expands to nothing and GORT_FIBERS is 0: the switch path is the
 * bare assembly. (Valgrind needs no build of its own: sched/stack.c
 * registers each stack with it, a no-op outside valgrind.)
 */
#ifndef GORT_RUNTIME_SANITIZER_H
#define GORT_RUNTIME_SANITIZER_H

#include <stddef.h>

#if defined(__has_feature)
#if __has_feature(address_sanitizer) && !defined(__SANITIZE_ADDRESS__)
#define __SANITIZE_ADDRESS__ 1
#endif
#if __has_feature(thread_sanitizer) && !defined(__SANITIZE_THREAD__)
#define __SANITIZE_THREAD__ 1
#endif
#endif

#ifdef __SANITIZE_ADDRESS__
#define GORT_ASAN 1
#else
#define GORT_ASAN 0
#endif
#ifdef __SANITIZE_THREAD__
#define GORT_TSAN 1
#else
#define GORT_TSAN 0
#endif
/* Whether stack switches go through the announcing C wrappers of
 * sched/fiber.c instead of straight to runtime/arch/amd64.S. */
#define GORT_FIBERS (GORT_ASAN || GORT_TSAN)

/* On code that reads memory it does not own by design: the collector's
 * conservative scans of stacks and heap objects other threads are
 * writing. The tools check neither the reads nor their races. */
#if GORT_ASAN || GORT_TSAN
#define GORT_NO_SANITIZE __attribute__((no_sanitize("address", "thread")))
#else
#define GORT_NO_SANITIZE
#endif

#if GORT_ASAN
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
/* Memory [p, p+n) is addressable again (a dead goroutine's stack). */
#define GORT_ASAN_UNPOISON(p, n) __asan_unpoison_memory_region((const void *)(p), (n))
/* The frames below are abandoned by a longjmp or a restart. */
#define GORT_ASAN_NORETURN() __asan_handle_no_return()
#else
#define GORT_ASAN_UNPOISON(p, n) ((void)0)
#define GORT_ASAN_NORETURN() ((void)0)
#endif

#if GORT_TSAN
#include <sanitizer/tsan_interface.h>
/* What one goroutine publishes for the one that takes it over: a value
 * through a channel, a semaphore's ticket, a G through a run queue. */
#define GORT_TSAN_RELEASE(addr) __tsan_release((void *)(addr))
#define GORT_TSAN_ACQUIRE(addr) __tsan_acquire((void *)(addr))
/* Writes between these are not checked: a plain store that readers load
 * atomically, published by a fence TSan does not model. */
void AnnotateIgnoreWritesBegin(const char *file, int line);
void AnnotateIgnoreWritesEnd(const char *file, int line);
#define GORT_TSAN_IGNORE_WRITES_BEGIN() AnnotateIgnoreWritesBegin(__FILE__, __LINE__)
#define GORT_TSAN_IGNORE_WRITES_END() AnnotateIgnoreWritesEnd(__FILE__, __LINE__)
#else
#define GORT_TSAN_RELEASE(addr) ((void)0)
#define GORT_TSAN_ACQUIRE(addr) ((void)0)
#define GORT_TSAN_IGNORE_WRITES_BEGIN() ((void)0)
#define GORT_TSAN_IGNORE_WRITES_END() ((void)0)
#endif

#endif
