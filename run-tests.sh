#!/bin/sh
# Set-up and the whole test suite: installs what is missing, builds the
# release and the ASan+UBSan builds, and runs ctest in both.
set -eu
cd "$(dirname "$0")"
scripts/install-deps.sh --slurm
scripts/build.sh --asan
. scripts/env.sh
status=0
(cd build && ctest --output-on-failure -j 2 "$@") || status=1
(cd build-asan && ctest --output-on-failure -j 2 -LE slow "$@") || status=1
exit $status
