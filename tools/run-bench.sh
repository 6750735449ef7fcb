#!/bin/sh
# tools/run-bench.sh -- runs gort's C benchmarks and their Go twins and
# prints gort/Go ratios. `make bench` calls it with every built
# test/bench/bench_* program:
#
#     sh tools/run-bench.sh build/test/bench/bench_sched ...
#
# How it runs (one process per benchmark and GOMAXPROCS, so no benchmark
# inherits another's stacks, heap or threads -- this matters for the
# memory metrics):
#   for each round (BENCHCOUNT), each program, each GOMAXPROCS P (BENCHCPU):
#     GOMAXPROCS=P prog -list            the names it runs at P
#                                        (BenchmarkX, or BenchmarkX-P)
#     for each name:
#       GOMAXPROCS=P prog -bench '^BenchmarkX$'        the gort figure
#       gortbench.test -test.bench '^BenchmarkX$' -test.cpu P
#                                        its Go twin, right after it, so
#                                        both see the same machine load
# The Go twins (test/bench/go, package gortbench) are compiled once with
# `go test -c` when `go` is on PATH, offline (GOFLAGS=-mod=mod GOPROXY=off
# GO111MODULE=on); without go only the gort figures are printed.
# Lines are paired by exact name; the table shows per benchmark the median
# over the rounds of gort ns/op, Go ns/op, the ratio gort/Go (below 1:
# gort is faster) and the extra metrics of both sides, each with its own
# gort/Go ratio in parentheses when both sides report it.
#
# Environment:
#   BENCHTIME     go test -benchtime value for both sides (default 1s; e.g. 0.2s, 1000x)
#   BENCHCOUNT    rounds; the table shows medians (default 1)
#   BENCHCPU      GOMAXPROCS values, comma or space separated (default 1,2)
#   BENCH         regexp on names without the -P suffix (default .): literals, | ^ $ . *
#   BENCHTIMEOUT  seconds per process before it is killed (default 300)
#   BENCHGO       0: do not run the Go twins
#   BENCHOUT      file to keep every result as "side name value unit" lines
#   GORT_NETLOAD  the echo load generator (default: netload beside the programs)
# Exit status: 0 if every benchmark ran, 1 if any failed (the others still
# run and are reported).

BENCHTIME=${BENCHTIME:-1s}
BENCHCOUNT=${BENCHCOUNT:-1}
BENCHCPU=$(printf '%s' "${BENCHCPU:-1,2}" | tr ',' ' ')
BENCH=${BENCH:-.}
BENCHTIMEOUT=${BENCHTIMEOUT:-300}
export BENCHTIME

root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/gort-bench.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM
res=$tmp/results      # lines: side name value unit
fails=$tmp/failures   # one line per failure
: > "$res"; : > "$fails"

if command -v timeout >/dev/null 2>&1; then
    to="timeout -k 5 $BENCHTIMEOUT"
else
    to=""
fi

# Echoes the result lines of file $2 (prefixed with side $1) and appends
# them to $res as "side name value unit" records, one per metric.
collect() {
    awk -v side="$1" -v res="$res" '
        $1 ~ /^Benchmark/ && $2 ~ /^[0-9]+$/ && NF >= 4 && NF % 2 == 0 {
            printf "%-5s %s\n", side, $0
            for (i = 3; i + 1 <= NF; i += 2)
                print side, $1, $i, $(i + 1) >> res
        }' "$2"
}

# Prints the number of result lines in file $1.
nresults() {
    grep -c -E '^Benchmark[^[:space:]]*[[:space:]]+[0-9]+[[:space:]]' "$1"
}

# Records a failure: $1 what, $2 exit status, $3 file with its output.
fail() {
    echo "FAIL $1 (exit $2)" >> "$fails"
    echo "FAIL $1 (exit $2)"
    [ -s "$3" ] && grep -v '^Benchmark' "$3" | tail -n 15 | sed 's/^/    /'
}

# The Go twins, compiled once.
gotest=""
if [ "${BENCHGO:-1}" != 0 ] && command -v go >/dev/null 2>&1 &&
   [ -f "$root/test/bench/go/go.mod" ]; then
    export GOFLAGS=-mod=mod GOPROXY=off GO111MODULE=on GOTOOLCHAIN=local
    gc=$(go env GOCACHE 2>/dev/null)
    if [ -z "$gc" ] || [ "$gc" = off ]; then
        export GOCACHE="${TMPDIR:-/tmp}/gort-bench-gocache"
    fi
    if (cd "$root/test/bench/go" && go test -c -o "$tmp/gortbench.test" .) \
           > "$tmp/gobuild" 2>&1; then
        gotest=$tmp/gortbench.test
        echo "Go twins: $(go version)"
    else
        echo "FAIL go test -c in test/bench/go (Go twins not run):"
        tail -n 20 "$tmp/gobuild" | sed 's/^/    /'
        echo "FAIL go test -c in test/bench/go" >> "$fails"
    fi
else
    echo "go not on PATH (or BENCHGO=0): gort figures only"
fi
echo "benchtime $BENCHTIME, $BENCHCOUNT round(s), GOMAXPROCS $BENCHCPU," \
     "load average $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null) on $(nproc 2>/dev/null) CPUs"

# The echo load generator (test/bench/netload.c) both sides of the
# network benchmarks start: the one beside the benchmark programs.
for prog in "$@"; do
    d=$(cd "$(dirname "$prog")" 2>/dev/null && pwd)
    if [ -z "${GORT_NETLOAD:-}" ] && [ -n "$d" ] && [ -x "$d/netload" ]; then
        export GORT_NETLOAD="$d/netload"
    fi
done

round=1
while [ "$round" -le "$BENCHCOUNT" ]; do
    [ "$BENCHCOUNT" -gt 1 ] && echo "--- round $round of $BENCHCOUNT"
    for prog in "$@"; do
        pname=$(basename "$prog")
        if [ ! -x "$prog" ]; then
            fail "$pname: not an executable" 127 /dev/null
            continue
        fi
        for p in $BENCHCPU; do
            GOMAXPROCS=$p $to "$prog" -list -bench "$BENCH" > "$tmp/list" 2>&1
            rc=$?
            if [ $rc -ne 0 ]; then
                fail "$pname -list at GOMAXPROCS=$p" $rc "$tmp/list"
                continue
            fi
            for name in $(grep '^Benchmark' "$tmp/list"); do
                base=$(printf '%s' "$name" | sed 's/-[0-9][0-9]*$//')
                np=$(printf '%s' "$name" | sed -n 's/.*-\([0-9][0-9]*\)$/\1/p')
                np=${np:-1}
                [ "$np" != "$p" ] &&
                    echo "warning: $pname at GOMAXPROCS=$p names $name (GOMAXPROCS $np)"
                GOMAXPROCS=$p $to "$prog" -bench "^$base\$" > "$tmp/out" 2>&1
                rc=$?
                collect gort "$tmp/out"; n=$(nresults "$tmp/out")
                if [ $rc -ne 0 ]; then
                    fail "$name ($pname, GOMAXPROCS=$p)" $rc "$tmp/out"
                elif [ "$n" -eq 0 ]; then
                    fail "$name ($pname, GOMAXPROCS=$p): no result line" 0 "$tmp/out"
                fi
                [ -n "$gotest" ] || continue
                (cd "$root/test/bench/go" && $to "$gotest" -test.run '^$' \
                    -test.bench "^$base\$" -test.cpu "$np" \
                    -test.benchtime "$BENCHTIME" -test.timeout 0) > "$tmp/out" 2>&1
                rc=$?
                collect go "$tmp/out"; n=$(nresults "$tmp/out")
                if [ $rc -ne 0 ]; then
                    fail "Go twin $name" $rc "$tmp/out"
                elif [ "$n" -eq 0 ]; then
                    echo "go    $name: no Go twin"
                fi
            done
        done
    done
    round=$((round + 1))
done

# The table: medians per (side, name, unit); rows in gort's order.
echo
[ "$BENCHCOUNT" -gt 1 ] && echo "medians of $BENCHCOUNT runs"
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null)"
awk '
    function fmt(x) {
        if (x == "") return "-"
        if (x >= 1000 || x <= -1000) return sprintf("%.0f", x)
        if (x >= 100 || x <= -100) return sprintf("%.1f", x)
        if (x >= 10 || x <= -10) return sprintf("%.2f", x)
        return sprintf("%.3f", x)
    }
    function median(key,    n, i, j, t, a) {
        n = cnt[key]
        if (n == 0) return ""
        for (i = 1; i <= n; i++) a[i] = val[key, i]
        for (i = 2; i <= n; i++) {
            t = a[i]
            for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]
            a[j + 1] = t
        }
        if (n % 2) return a[(n + 1) / 2]
        return (a[n / 2] + a[n / 2 + 1]) / 2
    }
    {
        side = $1; name = $2; v = $3 + 0; unit = $4
        key = side SUBSEP name SUBSEP unit
        val[key, ++cnt[key]] = v
        if (!(name in seen)) { seen[name] = 1; order[++nnames] = name }
        if (unit != "ns/op" && !((name, unit) in hasunit)) {
            hasunit[name, unit] = 1
            units[name] = units[name] " " unit
        }
        if (length(name) > w) w = length(name)
    }
    END {
        if (nnames == 0) { print "no benchmark results"; exit }
        if (w < 9) w = 9
        printf "%-" w "s  %12s  %12s  %8s  %s\n", "benchmark", "gort ns/op", "Go ns/op", "gort/Go", "metrics (gort | Go)"
        for (i = 1; i <= nnames; i++) {
            name = order[i]
            g = median("gort" SUBSEP name SUBSEP "ns/op")
            o = median("go" SUBSEP name SUBSEP "ns/op")
            r = (g != "" && o != "" && o > 0) ? sprintf(g / o >= 0.1 ? "%.2f" : "%.3f", g / o) : "-"
            extra = ""
            nu = split(units[name], us, " ")
            for (j = 1; j <= nu; j++) {
                u = us[j]
                mg = median("gort" SUBSEP name SUBSEP u)
                mo = median("go" SUBSEP name SUBSEP u)
                extra = extra (extra == "" ? "" : ", ") u " " fmt(mg) " | " fmt(mo)
                if (mg != "" && mo != "" && mo > 0)
                    extra = extra sprintf(" (%.2f)", mg / mo)
            }
            printf "%-" w "s  %12s  %12s  %8s  %s\n", name, fmt(g), fmt(o), r, extra
        }
    }' "$res"

[ -n "$BENCHOUT" ] && cp "$res" "$BENCHOUT"

if [ -s "$fails" ]; then
    echo
    echo "$(wc -l < "$fails") failure(s):"
    sed 's/^/  /' "$fails"
    exit 1
fi
exit 0
