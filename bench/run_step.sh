#!/bin/bash
# Step-time comparison: bench_step (initsweep's kernels) against torch_step.py
# (PyTorch, one thread) on the same cases, then bench_step once more with
# OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset (OpenBLAS's own CPU detection).
#
# usage: bench/run_step.sh [--repeats N] [--scale X]   (passed to both)
# Prints both tables, then per case and variant:
#   time ratio torch_us / initsweep_us (> 1: initsweep is faster)
#   achieved / sgemm (dgemm) peak of the same run
set -u -o pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

bench_build bench_step || exit 1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "== $(bench_load) at start"
echo "== initsweep: bench_step $*"
"$BUILD_DIR/bench/bench_step" "$@" | tee "$tmp/isw.txt" || exit 1
echo
echo "== PyTorch: torch_step.py $*"
if "$PYTHON" "$BENCH_DIR/torch_step.py" "$@" | tee "$tmp/torch.txt"; then
    have_torch=1
else
    have_torch=0
    echo "(PyTorch not available: no time ratios)"
fi
echo
echo "== initsweep with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset (this command only)"
env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$BUILD_DIR/bench/bench_step" "$@" \
    | tee "$tmp/isw_unset.txt" || exit 1
echo "== $(bench_load) at end"

# field NAME from a RESULT line
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p"; }

echo
echo "== summary (us/step medians; ratio_torch = torch_us / initsweep_us, > 1: initsweep faster)"
printf '%-24s %-6s %-9s %10s %10s %11s %10s %13s %12s\n' case prec variant initsweep torch \
    ratio_torch peak_ratio isw_unset_env unset_ratio
grep '^RESULT .*impl=initsweep' "$tmp/isw.txt" | while read -r line; do
    c=$(echo "$line" | field case)
    p=$(echo "$line" | field prec)
    v=$(echo "$line" | field variant)
    us=$(echo "$line" | field us_per_step)
    pr=$(echo "$line" | field ratio)
    key="case=$c prec=$p variant=$v "
    ut=-
    rt=-
    if [ $have_torch = 1 ]; then
        ut=$(grep -F "$key" "$tmp/torch.txt" | field us_per_step)
        [ -n "$ut" ] && rt=$(bench_calc "$ut / $us") || ut=-
    fi
    uline=$(grep -F "$key" "$tmp/isw_unset.txt")
    uu=$(echo "$uline" | field us_per_step)
    ur=$(echo "$uline" | field ratio)
    printf '%-24s %-6s %-9s %10.3f %10s %11s %10.4f %13.3f %12.4f\n' "$c" "$p" "$v" "$us" \
        "$ut" "$rt" "$pr" "$uu" "$ur"
    echo "RESULT_RATIO case=$c prec=$p variant=$v initsweep_us=$us torch_us=$ut" \
        "torch_over_initsweep=$rt peak_ratio=$pr unset_env_us=$uu unset_env_peak_ratio=$ur"
done
echo "(peak_ratio: achieved GFLOP/s / gemm peak of the same run; unset_*: OPENBLAS_CORETYPE"
echo " and OPENBLAS_L2_SIZE unset, with that run's own peak)"
