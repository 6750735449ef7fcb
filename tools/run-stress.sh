#!/bin/sh
# Runs every Criterion test binary given $STRESS_RUNS times (default 10) at
# each GOMAXPROCS in $STRESS_PROCS (default "1 2 4"). A failing run is
# reported with its binary, GOMAXPROCS and run number, and its whole output
# is kept in $STRESS_DIR (default build/stress) as NAME.pP.rR.log. Ends
# with one "N passed, N failed" line counting runs.
# Exit status: 0 only if every run passed.
# Tests that set GOMAXPROCS themselves, or run children with their own
# environment, do not follow the variable; they are run all the same.
runs=${STRESS_RUNS:-10}
procs=${STRESS_PROCS:-"1 2 4"}
dir=${STRESS_DIR:-build/stress}
mkdir -p "$dir"
rm -f "$dir"/*.log
pass=0; fail=0
start=$(date +%s)
for p in $procs; do
    for t in "$@"; do
        name=$(basename "$t")
        r=1; tfail=0
        while [ $r -le "$runs" ]; do
            log="$dir/$name.p$p.r$r.log"
            GOMAXPROCS=$p timeout 240 "$t" --jobs=2 >"$log" 2>&1; rc=$?
            if [ $rc -eq 0 ] && grep -q 'Synthesis:.*Failing: 0 | Crashing: 0' "$log"; then
                pass=$((pass + 1)); rm -f "$log"
            else
                fail=$((fail + 1)); tfail=$((tfail + 1))
                failed=$(grep '^\[FAIL\]' "$log" | sed 's/^\[FAIL\] *//; s/:.*//' | tr '\n' ' ')
                [ $rc -eq 124 ] && failed="timed out (240 s) $failed"
                echo "FAIL $name GOMAXPROCS=$p run $r (exit $rc): ${failed:-see log} -> $log"
            fi
            r=$((r + 1))
        done
        printf '%-32s GOMAXPROCS=%s %d/%d passed\n' "$name" "$p" $((runs - tfail)) "$runs"
    done
done
echo "stress: $(( $(date +%s) - start )) s"
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
