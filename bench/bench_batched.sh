#!/usr/bin/env bash
# initsweep `run` end to end on one rank against the batched numpy and
# PyTorch scripts of batched_peer.py, on the same work: every run trains
# its whole budget (criteria.stop_on_target=false; learning rates where no
# net diverges), so runs/s compare step for step.  Prints the figures and
# `RESULT ... ratio=` lines (initsweep runs/s over the peer's).
#   fractal  sweeps/fractal_boundary.yaml, 64 runs: lr_layer.0 100..3000,
#            lr_layer.1 100, 1000 full-batch steps, float and double
#   seed2    sweeps/fmnist_sigmoid.yaml, one epoch, lr 0.01..0.5, 32 runs,
#            including initsweep's initial and final evaluation passes
# Usage: bench/bench_batched.sh [-K nets-per-peer-batch] [--repeats N]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
K=32 REPEATS=3
while [ $# -gt 0 ]; do
    case $1 in
        -K) K=$2; shift 2 ;;
        --repeats) REPEATS=$2; shift 2 ;;
        *) echo "usage: $0 [-K N] [--repeats N]" >&2; exit 2 ;;
    esac
done
"$REPO_DIR/scripts/install-deps.sh" --bench
bench_build initsweep
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT


declare -A ISWR
for prec in float double; do
    ISWR[fractal_$prec]=$(bench_isw_best "$REPEATS" "$OUT/r" "$REPO_DIR/sweeps/fractal_boundary.yaml" \
        --set train.precision=$prec --set criteria.stop_on_target=false \
        --set 'sweep.train.lr_layer.0={logspace: [100, 3000, 64]}' \
        --set 'sweep.train.lr_layer.1=[100]')
done
if [ -d /usr/share/datasets/fashion-mnist ]; then
    ISWR[seed2_float]=$(bench_isw_best "$REPEATS" "$OUT/r" "$REPO_DIR/sweeps/fmnist_sigmoid.yaml" \
        --set train.epochs=1 --set criteria.stop_on_target=false \
        --set 'sweep.init.dist=[uniform]' --set 'sweep.init.scale=[0.5]' \
        --set 'sweep.train.lr={logspace: [0.01, 0.5, 32]}' --set 'sweep.seed=[0]')
fi
printf '%-8s %-6s %-7s %12s %12s %8s\n' setup prec peer peer_runs/s isw_runs/s ratio
"$PYTHON" "$BENCH_DIR/batched_peer.py" -K "$K" --repeats "$REPEATS" | while read -r tag rest; do
    [ "$tag" = RESULT ] || continue
    eval "$(echo "$rest" | tr ' ' '\n' | sed 's/^/local_/')"
    key=${local_setup}_${local_prec}
    isw=${ISWR[$key]:-}
    [ -n "$isw" ] || continue
    ratio=$(bench_calc "$isw / $local_runs_per_s")
    printf '%-8s %-6s %-7s %12s %12s %8s\n' "$local_setup" "$local_prec" "$local_peer" \
        "$local_runs_per_s" "$isw" "$ratio"
    echo "RESULT setup=$local_setup prec=$local_prec peer=$local_peer K=$K" \
        "peer_runs_per_s=$local_runs_per_s isw_runs_per_s=$isw ratio=$ratio"
done
