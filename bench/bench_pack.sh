#!/usr/bin/env bash
# The K sweep: `initsweep run` end to end on one rank with train.pack = K
# (1 = one net at a time; 0 = chosen from the shapes), on work where every
# run trains its whole budget (criteria.stop_on_target=false, learning
# rates where no net diverges), so runs/s compare step for step.  Prints
# runs/s, the speed-up over K = 1 and the training steps' GFLOP/s as a
# fraction of the single-thread sgemm/dgemm peak measured in the same run
# (bench_step --peak); evaluation passes are not counted in the FLOPs.
#   fractal  16-16-1 tanh mean field, full batch 272, 1000 steps (float, double)
#   seed2    784-15-10 sigmoid mse, batch 10, one epoch of 10k Fashion-MNIST
#            (when /usr/share/datasets/fashion-mnist is there)
#   deep     16-(8 x 8)-3 tanh, full batch 512, 200 steps
#   wide     32-512-4 relu, batch 64, 2 epochs of 2048 samples
# Usage: bench/bench_pack.sh [--repeats N] [--ks "1 2 4 ..."]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
REPEATS=3 KS="1 2 4 8 16 32 64 0"
while [ $# -gt 0 ]; do
    case $1 in
        --repeats) REPEATS=$2; shift 2 ;;
        --ks) KS=$2; shift 2 ;;
        *) echo "usage: $0 [--repeats N] [--ks LIST]" >&2; exit 2 ;;
    esac
done
bench_build initsweep bench_step
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT

echo "bench_pack: $(bench_load); OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-(unset)}" \
    "OPENBLAS_L2_SIZE=${OPENBLAS_L2_SIZE:-(unset)}"
peaks=$("$BUILD_DIR/bench/bench_step" --peak)
PEAK_float=$(echo "$peaks" | sed -n 's/^RESULT case=peak_sgemm_1024 prec=float gflops=//p')
PEAK_double=$(echo "$peaks" | sed -n 's/^RESULT case=peak_dgemm_1024 prec=double gflops=//p')
echo "peak: sgemm $PEAK_float GFLOP/s, dgemm $PEAK_double GFLOP/s (1024^3, one thread)"


# A spec file for the synthetic cases.
synthetic_spec() {    # NAME HIDDEN ACT INPUTS CLASSES SAMPLES BATCH EPOCHS
    cat >"$OUT/$1.yaml" <<EOF
name: $1
seed: 3
data: {kind: synthetic, generator: blobs, inputs: $4, classes: $5, samples: $6}
model: {hidden: $2, activation: $3}
init: {dist: xavier_normal}
train: {lr: 0.01, epochs: $8, batch: $7}
criteria: {stop_on_target: false, stop_on_flat: false}
sweep:
  train.lr: {logspace: [0.001, 0.05, 128]}
EOF
    echo "$OUT/$1.yaml"
}

# setup prec flops-per-run spec args...
cases=()
FRACTAL=(--set criteria.stop_on_target=false
         --set 'sweep.train.lr_layer.0={logspace: [100, 3000, 128]}'
         --set 'sweep.train.lr_layer.1=[100]')
bench_case() {    # NAME PREC FLOPS_PER_RUN SPEC ARGS...
    local name=$1 prec=$2 flops=$3
    shift 3
    local base="" k r
    printf '%-8s %-6s' "$name" "$prec"
    for k in $KS; do
        r=$(bench_isw_best "$REPEATS" "$OUT/r" "$@" --set train.precision="$prec" --set train.pack="$k")
        [ "$k" = 1 ] && base=$r
        local gf frac speed
        gf=$(bench_calc "$r * $flops / 1e9")
        frac=$(bench_calc "$gf / $(eval echo \$PEAK_$prec)")
        speed=$([ -n "$base" ] && bench_calc "$r / $base" || echo "")
        printf ' K=%s:%s' "$( [ "$k" = 0 ] && echo auto || echo "$k")" "$r"
        echo "RESULT setup=$name prec=$prec K=$k runs_per_s=$r speedup_vs_K1=$speed" \
            "gflops=$gf peak_fraction=$frac" >>"$OUT/results"
    done
    echo
}

# FLOPs per run of the training steps: 6 * rows * sum(in * out) * steps
bench_case fractal float $((6 * 272 * (16 * 16 + 16) * 1000)) \
    "$REPO_DIR/sweeps/fractal_boundary.yaml" "${FRACTAL[@]}"
bench_case fractal double $((6 * 272 * (16 * 16 + 16) * 1000)) \
    "$REPO_DIR/sweeps/fractal_boundary.yaml" "${FRACTAL[@]}"
if [ -d /usr/share/datasets/fashion-mnist ]; then
    bench_case seed2 float $((6 * 10 * (784 * 15 + 15 * 10) * 1000)) \
        "$REPO_DIR/sweeps/fmnist_sigmoid.yaml" --set train.epochs=1 \
        --set criteria.stop_on_target=false --set 'sweep.init.dist=[uniform]' \
        --set 'sweep.init.scale=[0.5]' --set 'sweep.train.lr={logspace: [0.01, 0.5, 64]}' \
        --set 'sweep.seed=[0]'
fi
bench_case deep float $((6 * 512 * (16 * 8 + 7 * 8 * 8 + 8 * 3) * 200)) \
    "$(synthetic_spec deep '[8, 8, 8, 8, 8, 8, 8, 8]' tanh 16 3 512 0 200)"
bench_case wide float $((6 * 2048 * (32 * 512 + 512 * 4) * 2)) \
    "$(synthetic_spec wide '[512]' relu 32 4 2048 64 2)"

echo
printf '%-8s %-6s %-5s %10s %8s %8s %8s\n' setup prec K runs/s vs_K1 GFLOP/s /peak
while read -r tag rest; do
    eval "$(echo "$rest" | tr ' ' '\n' | sed 's/^/local_/')"
    printf '%-8s %-6s %-5s %10s %8s %8s %8s\n' "$local_setup" "$local_prec" \
        "$( [ "$local_K" = 0 ] && echo auto || echo "$local_K")" "$local_runs_per_s" \
        "$local_speedup_vs_K1" "$local_gflops" "$local_peak_fraction"
done <"$OUT/results"
cat "$OUT/results"
