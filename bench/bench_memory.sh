#!/bin/bash
# Resident memory of a Fashion-MNIST sweep on 1, 2 and 4 ranks (4
# oversubscribed on 2 cores).  The dataset (60,000 x 784 inputs + 60,000 x 10
# one-hot targets as float: 181.7 MiB) is held once per node in an MPI-3
# shared window, so N ranks should not hold N copies.  RSS counts a shared
# page in every process that maps it; PSS (/proc/PID/smaps_rollup) splits it
# between them and is the honest total.  memsample.py samples the rank
# processes (descendants of mpirun running the initsweep binary) every 0.2 s.
#
# Spec: all 60,000 samples, normalize 255, 784-15-10 sigmoid, mse, U[-0.5,
# 0.5], 1 epoch of mini-batch 10, lr in {0.1, 0.5} x 2 seeds = 4 short runs.
#
# usage: bench/bench_memory.sh     env RANKS ("1 2 4"), REPEATS (1), EPOCHS (1)
set -u -o pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

RANKS=${RANKS:-"1 2 4"}
REPEATS=${REPEATS:-1}
EPOCHS=${EPOCHS:-1}
IMAGES=/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz
LABELS=/usr/share/datasets/fashion-mnist/train-labels-idx1-ubyte.gz

if [ ! -r "$IMAGES" ] || [ ! -r "$LABELS" ]; then
    echo "bench_memory: Fashion-MNIST not found at $IMAGES" >&2
    exit 1
fi
bench_build initsweep || exit 1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cat >"$tmp/spec.yaml" <<YAML
name: bench-memory
seed: 1
data:
  kind: idx
  images: $IMAGES
  labels: $LABELS
  normalize: 255
model:
  hidden: [15]
  activation: sigmoid
  output: sigmoid
  loss: mse
init:
  dist: uniform
  scale: 0.5
  bias: same
train:
  epochs: $EPOCHS
  batch: 10
  eval_samples: 10000
criteria:
  target_accuracy: 0.99
sweep:
  train.lr: [0.1, 0.5]
  seed: {range: [0, 2]}
YAML

data_mib=$(bench_calc "60000 * (784 + 10) * 4 / 1048576")
echo "bench_memory: Fashion-MNIST 60000 samples (dataset $data_mib MiB as float), 4 runs," \
    "$(bench_load)"
printf '%-6s %13s %13s %13s %13s %13s %13s %13s %7s\n' ranks peak_rss_MiB \
    peak_pss_MiB peak_pss/rank steady_rss steady_pss steady_pss/rk hwm_sum_MiB wall_s
for n in $RANKS; do
    for ((r = 0; r < REPEATS; r++)); do
        line=$("$PYTHON" "$BENCH_DIR/memsample.py" --exe "$BUILD_DIR/initsweep" -- \
            "$MPIRUN" --oversubscribe $MPI_ARGS -np "$n" "$BUILD_DIR/initsweep" run "$tmp/spec.yaml" \
            -o "$tmp/out$n" --quiet --fresh) || { echo "bench: run on $n ranks failed" >&2; exit 1; }
        get() { echo "$line" | sed -n "s/.* $1=\([^ ]*\).*/\1/p"; }
        seen=$(get ranks)
        rss=$(bench_calc "$(get peak_rss_sum_kib) / 1024")
        pss=$(bench_calc "$(get peak_pss_sum_kib) / 1024")
        hwm=$(bench_calc "$(get hwm_sum_kib) / 1024")
        srss=$(bench_calc "$(get steady_rss_sum_kib) / 1024")
        spss=$(bench_calc "$(get steady_pss_sum_kib) / 1024")
        printf '%-6s %13.1f %13.1f %13.1f %13.1f %13.1f %13.1f %13.1f %7s\n' "$n" "$rss" \
            "$pss" "$(bench_calc "$pss / $n")" "$srss" "$spss" "$(bench_calc "$spss / $n")" \
            "$hwm" "$(get wall_s)"
        [ "$seen" -eq "$n" ] || echo "  (warning: saw $seen rank processes, expected $n)"
        echo "RESULT bench=memory ranks=$n rank_processes_seen=$seen peak_rss_sum_mib=$rss" \
            "peak_pss_sum_mib=$pss pss_per_rank_mib=$(bench_calc "$pss / $n")" \
            "steady_rss_sum_mib=$srss steady_pss_sum_mib=$spss" \
            "steady_pss_per_rank_mib=$(bench_calc "$spss / $n")" \
            "hwm_sum_mib=$hwm dataset_mib=$data_mib wall_s=$(get wall_s)" >>"$tmp/results"
    done
done
echo "(peak_*: largest sum over ranks at one 0.2 s sample; steady_*: median sum while all ranks"
echo " ran (after loading: the peak also holds the leader's private copy of the dataset, freed once"
echo " it is in the shared window); hwm_sum: sum of each rank's VmHWM;"
echo " RSS counts the shared dataset window in every rank, PSS splits it; $(bench_load) at end)"
cat "$tmp/results"
