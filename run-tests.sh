#!/bin/sh
# Set-up and the whole test suite: installs what is missing, builds the
# release and the ASan+UBSan builds, runs ctest in both, then fuzzes
# (tests/fuzz/run.sh, 30 s per harness; ISW_FUZZ_SECONDS=0 skips it).
set -eu
cd "$(dirname "$0")"
scripts/install-deps.sh --slurm
scripts/build.sh --asan
. scripts/env.sh
status=0
(cd build && ctest --output-on-failure -j 2 "$@") || status=1
(cd build-asan && ctest --output-on-failure -j 2 -LE "slow|install" "$@") || status=1
# Fuzzing: every libFuzzer harness for ISW_FUZZ_SECONDS each (default 30;
# 0 skips it).  A release runs them longer: tests/fuzz/run.sh 3600.
fuzz_seconds=${ISW_FUZZ_SECONDS:-30}
if [ "$fuzz_seconds" != 0 ]; then
    tests/fuzz/run.sh "$fuzz_seconds" || status=1
fi
exit $status
