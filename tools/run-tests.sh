#!/bin/sh
# Runs every Criterion test binary given, prints each one's synthesis, and
# closes with one "N passed, N failed" line over the whole suite. An
# argument VAR=value:path runs path with VAR=value in its environment.
# Exit status: 0 only if every binary passed.
pass=0; fail=0; status=0
for arg in "$@"; do
    t=$arg; envset=
    case $arg in *=*:*) envset=${arg%%:*}; t=${arg#*:} ;; esac
    out=$(env $envset timeout 240 "$t" --jobs=2 2>&1); rc=$?
    syn=$(printf '%s\n' "$out" | grep 'Synthesis:' | tail -n 1)
    if [ $rc -ne 0 ] || [ -z "$syn" ]; then
        # The failing tests' own lines, with Criterion's messages.
        printf '%s\n' "$out" | grep -v '^\[RUN \]\|^\[PASS\]\|^\[SKIP\]\|^\[----\] *$\|^$' | head -n 200
        status=1
    fi
    tested=$(printf '%s' "$syn" | sed -n 's/.*Tested: \([0-9]*\).*/\1/p')
    passing=$(printf '%s' "$syn" | sed -n 's/.*Passing: \([0-9]*\).*/\1/p')
    tested=${tested:-0}; passing=${passing:-0}
    [ -z "$syn" ] && tested=$((tested + 1))
    pass=$((pass + passing)); fail=$((fail + tested - passing))
    printf '%-40s %s\n' "$(basename "$t")${envset:+ ($envset)}" "${syn:-CRASHED (exit $rc)}"
    # Tests a sanitizer build cannot run say why.
    printf '%s\n' "$out" | grep 'not under SANITIZE' | sed 's/^/    /'
done
echo "$pass passed, $fail failed"
[ $fail -eq 0 ] && exit $status
exit 1
