#!/bin/sh
# run_all.sh — runs every test binary given as arguments under a time limit and prints
# one PASS/FAIL/SKIP line each, then the closing tally "N passed, N failed, N skipped".
# A binary exiting 77 was skipped (e.g. no GPU). LIS_TEST_TIMEOUT (seconds) overrides
# the per-binary limit; LIS_TEST_FILTER=substr runs only matching binaries.
limit=${LIS_TEST_TIMEOUT:-900}
pass=0; fail=0; skip=0; failed=""
for t in "$@"; do
    name=$(basename "$t")
    case "$name" in *"${LIS_TEST_FILTER:-}"*) ;; *) continue ;; esac
    log="${BUILD:-build}/tests/$name.log"
    start=$(date +%s)
    timeout "$limit" "$t" > "$log" 2>&1
    rc=$?
    secs=$(( $(date +%s) - start ))
    if [ $rc -eq 0 ]; then
        pass=$((pass + 1)); echo "PASS $name (${secs}s, $(grep -c '^ok ' "$log") checks)"
    elif [ $rc -eq 77 ]; then
        skip=$((skip + 1)); echo "SKIP $name: $(grep '^SKIP' "$log" | head -1)"
    else
        fail=$((fail + 1)); failed="$failed $name"
        [ $rc -eq 124 ] && echo "FAIL $name: timed out after ${limit}s" || echo "FAIL $name (exit $rc):"
        grep -E '^(FAIL|SKIP)|error|ERROR' "$log" | head -20 | sed 's/^/    /'
        tail -3 "$log" | sed 's/^/    /'
    fi
done
[ -n "$failed" ] && echo "failed:$failed"
echo "$pass passed, $fail failed, $skip skipped"
[ $fail -eq 0 ]
