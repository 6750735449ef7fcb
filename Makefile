# gort -- the only build entry point. See README.md.
#
#   make            build/libgort.a and build/libgort.so
#   make check      build and run the Criterion suite (what CI runs);
#                   SANITIZE=address or thread: the same under ASan or TSan
#   make check-valgrind  a subset under valgrind's memcheck
#   make stress     scheduler, channel, sync and GC suites 10 times each at
#                   GOMAXPROCS=1, 2, 4 (tools/run-stress.sh; not part of check)
#   make bench      benchmarks, with the Go twins and gort/Go ratios
#   make run        build and run the demonstration program
#   make guide      build the user's guide's programs (docs/guide/, build/guide/)
#   make examples   build every program of docs/examples
#   make install    PREFIX=/usr/local: headers, libraries, gort.pc
#   make deps       install the Debian packages the build needs
#
# The build prints one line per file; V=1 prints the full commands.

PREFIX  ?= /usr/local
CC      ?= cc
BUILD   := build
# gdb: the test of tools/gort-gdb.py attaches it to a live program;
# g++ and clang: the C++ test program.
# valgrind: its headers (stack registration) and make check-valgrind.
DEPS    := libcriterion-dev libunwind-dev libjemalloc-dev pkg-config gdb g++ clang valgrind

ifeq ($(V),1)
Q   :=
say := @:
else
Q   := @
say := @printf '  %-6s %s\n'
endif

WARN    := -Wall -Wextra -Werror -Wno-unused-parameter
CFLAGS  ?= -O2 -g
ALLCFLAGS = -std=gnu11 $(CFLAGS) $(WARN) -fPIC -pthread -D_GNU_SOURCE \
            -fno-omit-frame-pointer -fvisibility=hidden -Iruntime $(SANFLAGS) $(LIBSANFLAGS)
# -lbacktrace is gcc's own libbacktrace (libgcc-12-dev): file:line in tracebacks.
LIBS    := -ljemalloc -lunwind -lunwind-x86_64 -lbacktrace -lpthread -ldl

# SANITIZE=address or SANITIZE=thread: the library, the tests and the
# programs they run are built with that sanitizer, into build-$(SANITIZE)/
# (docs/HACKING.md, "Sanitizers and valgrind"). Without jemalloc: the
# sanitizer's allocator must be the one malloc.
SANFLAGS :=
ifneq ($(SANITIZE),)
BUILD    := build-$(SANITIZE)
SANFLAGS := -fsanitize=$(SANITIZE)
LIBS     := $(filter-out -ljemalloc,$(LIBS))
endif
# TSan does not model fences: the runtime's are paired with annotations
# (runtime/sanitizer.h).
LIBSANFLAGS :=
ifeq ($(SANITIZE),thread)
LIBSANFLAGS := -Wno-tsan
endif

SUBDIRS := runtime sched gc chan sync net
SRCS    := $(foreach d,$(SUBDIRS),$(wildcard $(d)/*.c))
ASRCS   := $(wildcard runtime/arch/*.S)
OBJS    := $(patsubst %.c,$(BUILD)/obj/%.o,$(SRCS)) \
           $(patsubst %.S,$(BUILD)/obj/%.o,$(ASRCS))
HDRS    := $(wildcard runtime/*.h sched/*.h gc/*.h chan/*.h sync/*.h net/*.h)

# Every runtime object's code is moved to section gort_text, so the linker
# brackets it with __start_gort_text/__stop_gort_text in any program that
# links libgort statically: async preemption never lands inside it.
RENAME  := --rename-section .text=gort_text,alloc,load,readonly,code,contents \
           --rename-section .text.unlikely=gort_text,alloc,load,readonly,code,contents \
           --rename-section .text.hot=gort_text,alloc,load,readonly,code,contents \
           --rename-section .text.startup=gort_text,alloc,load,readonly,code,contents

TEST_SRCS := $(wildcard test/test_*.c test/go/test_*.c)
TESTS     := $(patsubst %.c,$(BUILD)/%,$(TEST_SRCS))
BENCH_SRCS := $(wildcard test/bench/bench_*.c)
BENCHES   := $(patsubst %.c,$(BUILD)/%,$(BENCH_SRCS))
# The echo load generator both bench_net and its Go twin start (no gort).
NETLOAD   := $(BUILD)/test/bench/netload
# docs/examples/*.c, built against libgort.so; test/test_examples runs them.
EXAMPLES  := $(patsubst docs/examples/%.c,$(BUILD)/examples/%,$(wildcard docs/examples/*.c))

.PHONY: all lib check check-valgrind stress bench run examples guide install deps clean tests
all: lib
lib: $(BUILD)/libgort.a $(BUILD)/libgort.so

deps:
	@missing=""; for p in $(DEPS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

$(BUILD)/.deps:
	@$(MAKE) --no-print-directory deps
	@mkdir -p $(BUILD) && touch $@

$(BUILD)/obj/%.o: %.c $(HDRS) | $(BUILD)/.deps
	@mkdir -p $(dir $@)
	$(say) CC $<
	$(Q)$(CC) $(ALLCFLAGS) -c $< -o $@.tmp.o
	$(Q)objcopy $(RENAME) $@.tmp.o $@ && rm -f $@.tmp.o

$(BUILD)/obj/%.o: %.S | $(BUILD)/.deps
	@mkdir -p $(dir $@)
	$(say) AS $<
	$(Q)$(CC) $(ALLCFLAGS) -c $< -o $@.tmp.o
	$(Q)objcopy $(RENAME) $@.tmp.o $@ && rm -f $@.tmp.o

$(BUILD)/libgort.a: $(OBJS)
	@rm -f $@
	$(say) AR $@
	$(Q)ar rcs $@ $^

$(BUILD)/libgort.so: $(OBJS)
	$(say) LD $@
	$(Q)$(CC) $(SANFLAGS) -shared -o $@ $^ $(LIBS) -Wl,-soname,libgort.so.0 -Wl,-z,noexecstack -Wl,--exclude-libs,ALL
	$(Q)ln -sf libgort.so $(BUILD)/libgort.so.0   # the soname, for -rpath users (make run)

# Tests link libgort statically (the common case for gort programs).
TCFLAGS = -std=gnu11 -O2 -g $(WARN) -pthread -D_GNU_SOURCE -Iruntime -Itest $(SANFLAGS) \
          -DGT_BUILD_DIR='"$(abspath $(BUILD))"' -DGT_SRC_DIR='"$(abspath .)"'
$(BUILD)/test/%: test/%.c $(wildcard test/*.h test/go/*.h) $(BUILD)/libgort.a
	@mkdir -p $(dir $@)
	$(say) TEST $@
	$(Q)$(CC) $(TCFLAGS) $< -o $@ $(BUILD)/libgort.a $(LIBS) -lcriterion -lm

# A fully static program (no asynchronous preemption), run by the tests;
# the libraries are gort.pc's Libs.private.
STATIC_LIBS := -ljemalloc -lgcc_eh -lunwind -lunwind-x86_64 -lbacktrace -ldl -llzma -lm
$(BUILD)/test/static_spin: test/static_spin.c runtime/gort.h $(BUILD)/libgort.a
	@mkdir -p $(dir $@)
	$(say) TEST $@
	$(Q)$(CC) -std=c11 -O2 -Wall -Wextra -pedantic -Werror -Iruntime -static $< -o $@ \
	  $(BUILD)/libgort.a $(STATIC_LIBS) -pthread

# The C++ program test_cxx runs, built by both C++ compilers.
CXXFLAGS_T := -std=c++11 -O2 -Wall -Wextra -pedantic -Werror -Iruntime $(SANFLAGS)
$(BUILD)/test/cxx_gxx $(BUILD)/test/cxx_clang: test/cxx/cxx_program.cpp runtime/gort.h $(BUILD)/libgort.a
	@mkdir -p $(dir $@)
	$(say) CXX $@
	$(Q)$(if $(findstring clang,$@),clang++,g++) $(CXXFLAGS_T) $< -o $@ $(BUILD)/libgort.a $(LIBS)

# The user's guide's programs (docs/guide/*.c, each shown whole in
# docs/guide.md), built as a user builds against the installed library;
# test/test_guide.c runs them and compares docs/guide.md with the files.
GUIDE_SRCS  := $(wildcard docs/guide/*.c)
GUIDE_PROGS := $(patsubst docs/guide/%.c,$(BUILD)/guide/%,$(GUIDE_SRCS))
$(BUILD)/guide/%: docs/guide/%.c runtime/gort.h $(BUILD)/libgort.so
	@mkdir -p $(dir $@)
	$(say) CC $@
	$(Q)$(CC) -std=c11 -O2 -g -Wall -Wextra -pedantic -Werror -pthread -fno-optimize-sibling-calls $(SANFLAGS) \
	  -Iruntime $< -o $@ -L$(BUILD) -lgort -Wl,-rpath,$(abspath $(BUILD))

# The program test_sanitize runs, a user's program built as a user builds
# it (with the build's sanitizer: under TSan, the data race it has on
# purpose must be reported).
$(BUILD)/test/race_program: test/race_program.c runtime/gort.h $(BUILD)/libgort.a
	@mkdir -p $(dir $@)
	$(say) CC $@
	$(Q)$(CC) -std=c11 -O2 -g -Wall -Wextra -pedantic -Werror -pthread $(SANFLAGS) -Iruntime $< -o $@ \
	  $(BUILD)/libgort.a $(LIBS)

HELPER_PROGS := $(BUILD)/test/static_spin $(BUILD)/test/cxx_gxx $(BUILD)/test/cxx_clang \
                $(BUILD)/test/race_program $(GUIDE_PROGS)
# A fully static program cannot carry a sanitizer's runtime: its test is
# skipped in those builds (test/test_sched_preempt.c).
ifneq ($(SANITIZE),)
HELPER_PROGS := $(filter-out $(BUILD)/test/static_spin,$(HELPER_PROGS))
endif
tests: $(TESTS) $(HELPER_PROGS)

# The collector's, channel, timer and finalizer suites run a second time
# with GODEBUG=gccheckmark=1: every concurrent mark is checked by a
# second, stop-the-world one.
CHECKMARK_TESTS := $(filter $(BUILD)/test/test_gc% $(BUILD)/test/test_chan $(BUILD)/test/test_time \
                     $(BUILD)/test/go/test_gc_go $(BUILD)/test/test_sync_pool \
                     $(BUILD)/test/test_context,$(TESTS))

# Criterion's verbose level prints each skipped test's reason.
# Under ASan, LeakSanitizer is off: it does not scan goroutine stacks
# (memory the runtime maps itself), so what only a parked goroutine
# still points at looks leaked when the program ends.
SAN_ENV :=
ifeq ($(SANITIZE),address)
SAN_ENV := ASAN_OPTIONS=detect_leaks=0:$(ASAN_OPTIONS) CRITERION_VERBOSITY_LEVEL=1
endif
# Under TSan, races whose access lies in the runtime's own code are not
# reported (tools/tsan.supp): its lock-free reads of scheduler state are
# deliberate, as in Go, whose runtime -race does not instrument. Races
# between the program's own accesses are, and halt_on_error makes each
# report end the test's process, so that the test fails (Criterion does
# not look at the exit status TSan gives a process that reported).
ifeq ($(SANITIZE),thread)
SAN_ENV := TSAN_OPTIONS="suppressions=$(abspath tools/tsan.supp) die_after_fork=0 halt_on_error=1 $(TSAN_OPTIONS)" \
           CRITERION_VERBOSITY_LEVEL=1
endif

# ... and the collector's own suites once more with the whole cycle, sweep
# included, done with the world stopped (GODEBUG=gcstoptheworld=2).
STW_TESTS := $(filter $(BUILD)/test/test_gc $(BUILD)/test/test_gc_concurrent,$(TESTS))

check: lib $(TESTS) $(HELPER_PROGS) $(EXAMPLES)
	@$(SAN_ENV) sh tools/run-tests.sh $(TESTS) $(addprefix GODEBUG=gccheckmark=1:,$(CHECKMARK_TESTS)) \
	    $(addprefix GODEBUG=gcstoptheworld=2:,$(STW_TESTS))

# make check-valgrind: the channel and collector suites and the channel
# examples under valgrind's memcheck (tools/run-valgrind.sh), clean with
# the conservative scan's suppressions (tools/valgrind.supp). Not part
# of check: about a minute.
VALGRIND_PROGS := $(filter $(BUILD)/test/test_chan $(BUILD)/test/test_gc $(BUILD)/test/test_gc_concurrent \
                    $(BUILD)/test/go/test_gc_go $(BUILD)/test/test_sync,$(TESTS)) \
                  $(filter-out $(BUILD)/examples/echo_server,$(EXAMPLES))
check-valgrind: lib $(VALGRIND_PROGS)
	@sh tools/run-valgrind.sh $(VALGRIND_PROGS)

# The suites make stress repeats: the scheduler's, the channel and sync
# stress tests and ports, and the collector's.
STRESS_TESTS := $(filter $(BUILD)/test/test_sched_% $(BUILD)/test/test_chan% \
                  $(BUILD)/test/test_sync% $(BUILD)/test/test_gc \
                  $(BUILD)/test/go/test_chan_% $(BUILD)/test/go/test_sync_% \
                  $(BUILD)/test/go/test_gc_%,$(TESTS))

stress: lib $(STRESS_TESTS) $(HELPER_PROGS)
	@sh tools/run-stress.sh $(STRESS_TESTS)

$(BUILD)/test/bench/%: test/bench/%.c test/bench/bench.h $(BUILD)/libgort.a
	@mkdir -p $(dir $@)
	$(say) BENCH $@
	$(Q)$(CC) -std=gnu11 -O2 -g $(WARN) -pthread -D_GNU_SOURCE -Iruntime -Itest/bench $< -o $@ $(BUILD)/libgort.a $(LIBS) -lm

$(NETLOAD): test/bench/netload.c
	@mkdir -p $(dir $@)
	$(say) CC $@
	$(Q)$(CC) -std=gnu11 -O2 -g $(WARN) $< -o $@

$(BUILD)/test/bench/bench_net: | $(NETLOAD)

# The idle program bench_idle measures, built as a user builds one
# (against libgort.so), and -static; and the same without gort.
IDLE_PROGS := $(BUILD)/test/bench/idle_gort $(BUILD)/test/bench/idle_gort_static \
              $(BUILD)/test/bench/idle_libc
$(BUILD)/test/bench/idle_libc: test/bench/idle/plain.c
	@mkdir -p $(dir $@)
	$(say) CC $@
	$(Q)$(CC) -std=c11 -O2 -Wall -Wextra -pedantic -Werror $< -o $@
$(BUILD)/test/bench/idle_gort: test/bench/idle/idle.c runtime/gort.h $(BUILD)/libgort.so
	@mkdir -p $(dir $@)
	$(say) CC $@
	$(Q)$(CC) -std=c11 -O2 -Wall -Wextra -pedantic -Werror -Iruntime $< -o $@ -L$(BUILD) -lgort -Wl,-rpath,$(abspath $(BUILD))
$(BUILD)/test/bench/idle_gort_static: test/bench/idle/idle.c runtime/gort.h $(BUILD)/libgort.a
	@mkdir -p $(dir $@)
	$(say) CC $@
	$(Q)$(CC) -std=c11 -O2 -Wall -Wextra -pedantic -Werror -Iruntime -static $< -o $@ \
	  $(BUILD)/libgort.a $(STATIC_LIBS) -pthread

bench: lib $(BENCHES) $(NETLOAD) $(IDLE_PROGS)
	@sh tools/run-bench.sh $(BENCHES)

$(BUILD)/examples/%: docs/examples/%.c $(BUILD)/libgort.so
	@mkdir -p $(dir $@)
	$(say) CC $@
	$(Q)$(CC) -std=c11 -O2 -Wall -Wextra -pedantic -Werror -Iruntime $(SANFLAGS) $< -o $@ -L$(BUILD) -lgort -Wl,-rpath,$(abspath $(BUILD))

guide: $(GUIDE_PROGS)
examples: $(EXAMPLES)

run: $(BUILD)/examples/primes
	@$(BUILD)/examples/primes

install: lib
	install -d $(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/lib/pkgconfig
	install -m 644 runtime/gort.h $(DESTDIR)$(PREFIX)/include/gort.h
	install -m 644 $(BUILD)/libgort.a $(DESTDIR)$(PREFIX)/lib/libgort.a
	install -m 755 $(BUILD)/libgort.so $(DESTDIR)$(PREFIX)/lib/libgort.so.0
	ln -sf libgort.so.0 $(DESTDIR)$(PREFIX)/lib/libgort.so
	sed -e 's|@PREFIX@|$(PREFIX)|' tools/gort.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/gort.pc
	install -d $(DESTDIR)$(PREFIX)/share/gort
	install -m 644 tools/gort-gdb.py $(DESTDIR)$(PREFIX)/share/gort/gort-gdb.py
	printf 'import gdb\ngdb.execute("source $(PREFIX)/share/gort/gort-gdb.py")\n' \
	  > $(DESTDIR)$(PREFIX)/lib/libgort.so.0-gdb.py   # gdb's auto-load for libgort.so

clean:
	rm -rf $(BUILD)
