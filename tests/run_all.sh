#!/bin/sh
# `make test`: every suite in order, one summary line each, then the total.
# Stops at the first failing suite with a non-zero status.
set -u
total_pass=0
total_fail=0
summary=$(mktemp)
trap 'rm -f "$summary"' EXIT

# Add "N passed, M failed" from the last matching line of a suite's output.
count() {
    p=$(sed -n 's/^\(.* \)\{0,1\}\([0-9][0-9]*\) passed.*/\2/p' "$summary" | tail -n 1)
    f=$(sed -n 's/^\(.* \)\{0,1\}\([0-9][0-9]*\) failed.*/\2/p' "$summary" | tail -n 1)
    total_pass=$((total_pass + ${p:-0}))
    total_fail=$((total_fail + ${f:-0}))
}

run() {
    name=$1
    shift
    if "$@" 2>&1 | tee "$summary"; then :; fi
    status=$(cat "$summary.status" 2>/dev/null || echo 0)
    rm -f "$summary.status"
    count
    if [ "$status" -ne 0 ]; then
        echo "make test: suite '$name' failed"
        echo "make test: $total_pass passed, $((total_fail > 0 ? total_fail : 1)) failed"
        exit 1
    fi
}

# tee hides the exit status of the suite; keep it in a side file.
suite() {
    "$@"
    echo $? >"$summary.status"
}

run format-check suite make --no-print-directory format-check
run build suite make --no-print-directory all
# The benchmark's programs are built (not run) so `make bench` cannot rot.
run build-bench suite make --no-print-directory build/ddlocal-loadgen build/bench-detect build/bench-index build/bench-audit
run unit suite make --no-print-directory unit
run unit-sanitized suite make --no-print-directory SANITIZE=address,undefined unit
run integration suite make --no-print-directory integration
run integration-sanitized suite make --no-print-directory integration-sanitized
run e2e suite make --no-print-directory e2e
echo "make test: $total_pass passed, $total_fail failed"
