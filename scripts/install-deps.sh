#!/bin/sh
# Installs what initsweep needs from Debian's archive (skips what is there).
# Usage: scripts/install-deps.sh [--slurm] [--bench]
#   --slurm  Slurm and munge (tests/cli's Slurm test)
#   --bench  PyTorch, the batched peer of bench/bench_batched.sh; GNU time
#            (/usr/bin/time -v: bench/bench_bigmap.sh's peak memory)
set -eu
# clang and libclang-rt-14-dev (libFuzzer): the fuzz harnesses, tests/fuzz/run.sh;
# environment-modules and man-db: the install test (`module load initsweep`,
# `man initsweep`); dpkg-dev: CPack's .deb (dpkg-shlibdeps); python3-pandas:
# analysis/initsweep_results.py's pandas=True, which its test exercises;
# chromium, chromium-driver and python3-selenium: the report's test opens
# report.html in headless Chromium
core="build-essential cmake pkg-config libopenmpi-dev openmpi-bin libopenblas-dev
libgsl-dev libyaml-dev zlib1g-dev python3-matplotlib python3-numpy dataset-fashion-mnist
clang libclang-rt-14-dev environment-modules man-db dpkg-dev python3-pandas
chromium chromium-driver python3-selenium"
slurm="slurm-wlm munge"
bench="python3-torch time"

missing() {
    out=""
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
            out="$out $p"
    done
    echo "$out"
}

sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
updated=""
install() {    # install [apt options] -- packages
    opts=""
    while [ "$1" != "--" ]; do opts="$opts $1"; shift; done
    shift
    [ -z "$updated" ] && { $sudo apt-get update -qq; updated=1; }
    echo "installing: $*"
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq $opts "$@" >/dev/null
}

# shellcheck disable=SC2086
need=$(missing $core)
# shellcheck disable=SC2086
[ -n "$need" ] && install -- $need
for opt in "$@"; do
    case $opt in
    --slurm)
        # Slurm's daemons are started by hand by the test that needs them;
        # its recommended extras (mail, docs) are not needed.
        # shellcheck disable=SC2086
        need=$(missing $slurm)
        # shellcheck disable=SC2086
        [ -n "$need" ] && install --no-install-recommends -- $need ;;
    --bench)
        # shellcheck disable=SC2086
        need=$(missing $bench)
        # shellcheck disable=SC2086
        [ -n "$need" ] && install -- $need ;;
    *)
        echo "install-deps: unknown option \"$opt\" (expected --slurm or --bench)" >&2
        exit 2 ;;
    esac
done
exit 0
