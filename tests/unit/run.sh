#!/bin/sh
# Run the cmocka unit-test binaries and the fuzz corpus replays of one build
# variant; print one summary line. Usage: run.sh VARIANT TEST... -- REPLAY...
variant=$1
shift
passed=0
failed=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT
while [ $# -gt 0 ] && [ "$1" != "--" ]; do
    if "$1" >"$log" 2>&1; then :; else
        cat "$log"
        echo "FAILED: $1"
    fi
    p=$(sed -n 's/.*\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -n 1)
    f=$(sed -n 's/.*\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -n 1)
    [ -n "$p" ] || p=0
    if [ -z "$f" ]; then
        # A binary that crashed or printed no summary counts as one failure.
        grep -q 'test(s) run\.' "$log" && f=0 || f=1
    fi
    passed=$((passed + p))
    failed=$((failed + f))
    shift
done
[ "$1" = "--" ] && shift
for replay in "$@"; do
    name=$(basename "$replay")
    corpus="tests/fuzz/corpus/$name"
    if [ -d "$corpus" ] && [ -n "$(ls -A "$corpus")" ]; then
        if "$replay" "$corpus"/* >"$log" 2>&1; then
            passed=$((passed + 1))
        else
            cat "$log"
            echo "FAILED: corpus replay $name"
            failed=$((failed + 1))
        fi
    fi
done
echo "unit ($variant): $passed passed, $failed failed"
[ "$failed" -eq 0 ]
