#!/bin/sh
# Runs each program given under valgrind's memcheck with the runtime's
# suppressions (tools/valgrind.supp); a Criterion test binary runs its
# tests one at a time. Asynchronous preemption is off (GODEBUG): valgrind
# does not follow a signal handler that moves the interrupted stack
# pointer, as the preemption's injected call does. Exit status: 0 only if
# every program exited 0 with no error reported.
supp=$(dirname "$0")/valgrind.supp
status=0
for p in "$@"; do
    case $(basename "$p") in test_*) args=--jobs=1 ;; *) args= ;; esac
    out=$(GODEBUG=asyncpreemptoff=1 timeout 600 valgrind -q --error-exitcode=1 \
          --suppressions="$supp" "$p" $args 2>&1 </dev/null); rc=$?
    errs=$(printf '%s\n' "$out" | grep -c '^==[0-9]*== [A-Z]')
    if [ $rc -ne 0 ] || [ "$errs" -ne 0 ]; then
        printf '%s\n' "$out" | grep '^==' | head -n 60
        status=1
    fi
    printf '%-28s exit %d, %d valgrind errors\n' "$(basename "$p")" $rc "$errs"
done
exit $status
