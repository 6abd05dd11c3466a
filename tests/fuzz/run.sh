#!/bin/sh
# Builds the libFuzzer harnesses (clang, ASan + UBSan + LeakSanitizer) into
# build-fuzz/ and runs each for SECONDS (default 30).  Fails when any
# harness finds a crash, undefined behaviour, a leak, an out-of-memory or a
# timeout (one input over 10 s), or breaks an invariant it checks.
# Usage: tests/fuzz/run.sh [SECONDS] [HARNESS...]   (HARNESS: spec idx csv journal stats)
#
# Each harness starts from the seed corpus tests/fuzz/corpus/<name>/ (which
# also holds every input that once failed, regress-*) and keeps what it
# finds in build-fuzz/corpus/<name>/, so a longer or repeated run goes on
# where the last stopped.  A failing input is saved as
# build-fuzz/artifacts/<name>/crash-* (or leak-, timeout-, oom-); replay it
# with build-fuzz/tests/fuzz/fuzz_<name> FILE.  Release run: tests/fuzz/run.sh 3600.
set -eu
cd "$(dirname "$0")/../.."
seconds=${1:-30}
[ $# -gt 0 ] && shift
harnesses=${*:-spec idx csv journal stats}
jobs=$(nproc 2>/dev/null || echo 2)

if ! command -v clang >/dev/null 2>&1; then
    echo "tests/fuzz/run.sh: clang not found (scripts/install-deps.sh installs it)" >&2
    exit 1
fi
# -O1: libFuzzer's recommendation (fast, still precise stacks); assertions on.
CC=clang cmake -S . -B build-fuzz -DISW_FUZZ=ON -DBUILD_TESTING=OFF \
    -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_FLAGS_DEBUG="-O1 -g" >/dev/null
targets=""
for h in $harnesses; do targets="$targets fuzz_$h"; done
# shellcheck disable=SC2086
cmake --build build-fuzz -j "$jobs" --target $targets >/dev/null

# Errors abort with a stack; no leak is tolerated (the harnesses never start
# MPI, whose deliberate exit-time allocations are the tests' one exception).
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:allocator_may_return_null=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
export OPENBLAS_NUM_THREADS=1

status=0
failed=""
for h in $harnesses; do
    exe=build-fuzz/tests/fuzz/fuzz_$h
    work=build-fuzz/corpus/$h
    art=build-fuzz/artifacts/$h
    log=build-fuzz/fuzz_$h.log
    mkdir -p "$work" "$art"
    case $h in
    spec) dict=tests/fuzz/fuzz_spec.dict ;;
    journal | stats) dict=tests/fuzz/runs.dict ;;
    *) dict="" ;;
    esac
    start=$(date +%s)
    rc=0
    "$exe" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$art/" ${dict:+-dict="$dict"} \
        "$work" "tests/fuzz/corpus/$h" >"$log" 2>&1 || rc=$?
    took=$(($(date +%s) - start))
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    cov=$(sed -n 's/^#[0-9]*[[:space:]]*DONE[[:space:]]*cov: \([0-9]*\).*/\1/p' "$log" | tail -n 1)
    if [ "$rc" -eq 0 ]; then
        line=$(printf 'fuzz_%-8s %10s executions in %4d s, coverage %s, 0 crashes' \
            "$h" "${runs:-?}" "$took" "${cov:-?}")
    else
        status=1
        line=$(printf 'fuzz_%-8s FAILED (exit %d) after %d s: see %s' "$h" "$rc" "$took" "$log")
        # the report: sanitizer or invariant message and the saved input
        grep -E 'ERROR:|SUMMARY:|invariant broken|Test unit written|runtime error' "$log" \
            | head -n 20 >&2 || true
    fi
    [ "$rc" -eq 0 ] || failed="$failed $h"
    echo "$line"
done
if [ $status -eq 0 ]; then
    echo "fuzzing: $seconds s per harness, no crash, UB, leak or timeout"
else
    echo "fuzzing: FAILED:$failed" >&2
fi
exit $status
