#!/bin/bash
# Coordinator overhead: a sweep of RUNS runs of zero length (train.epochs: 0,
# xor with 8 samples, hidden [2]) through rank 0, on 4 ranks (oversubscribed)
# and on 1 rank for reference (mpirun -np 1, and a plain process).  Each run
# still allocates its net, initialises it, evaluates once and journals its
# record, so the figure is the per-run cost of the whole engine minus
# training: hand-out, record transfer, journal, summary.
#
#   us_per_run = (median wall of the RUNS-run sweep - median wall of a 1-run
#                 sweep on the same ranks) / RUNS
#
# AXIS=seed (default) sweeps the seed: every run is its own pack unit;
# AXIS=lr sweeps train.lr instead: the runs form pack units of 64 (one
# work item, one pack, records sent in batches).
#
# usage: bench/bench_coordinator.sh          env RUNS (20000), REPEATS (5), RANKS ("0 1 4";
#                                           0 = plain process without mpirun), AXIS (seed)
set -u -o pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

RUNS=${RUNS:-20000}
REPEATS=${REPEATS:-5}
RANKS=${RANKS:-"0 1 4"}
AXIS=${AXIS:-seed}

bench_build initsweep || exit 1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

spec() {  # spec(file, nruns)
    cat >"$1" <<YAML
name: bench-coordinator
seed: 1
data:
  kind: synthetic
  generator: xor
  samples: 8
model:
  hidden: [2]
  activation: tanh
train:
  epochs: 0
  batch: 0
sweep:
YAML
    if [ "$AXIS" = lr ]; then
        echo "  train.lr: {logspace: [1.0e-6, 1, $2]}" >>"$1"
    else
        echo "  seed: {range: [0, $2]}" >>"$1"
    fi
}
spec "$tmp/empty.yaml" 1
spec "$tmp/full.yaml" "$RUNS"

echo "bench_coordinator: $RUNS zero-epoch runs over $AXIS, $REPEATS repeats, $(bench_load)"
printf '%-16s %12s %12s %12s %12s %12s\n' ranks t_empty_s t_full_s t_full_min_s us_per_run runs_per_s
for n in $RANKS; do
    te=() tf=()
    for ((r = 0; r < REPEATS; r++)); do
        te+=("$(bench_run_sweep "$n" "$tmp/empty.yaml" "$tmp/out-e")") || exit 1
        tf+=("$(bench_run_sweep "$n" "$tmp/full.yaml" "$tmp/out-f")") || exit 1
    done
    rows=$(($(wc -l <"$tmp/out-f/runs.csv") - 1))
    if [ "$rows" -ne "$RUNS" ]; then
        echo "bench: runs.csv holds $rows records, expected $RUNS" >&2
        exit 1
    fi
    me=$(bench_median "${te[@]}")
    mf=$(bench_median "${tf[@]}")
    mn=$(bench_min "${tf[@]}")
    us=$(bench_calc "($mf - $me) / $RUNS * 1e6")
    rate=$(bench_calc "$RUNS / ($mf - $me)")
    label=$n
    [ "$n" -eq 0 ] && label="1 (no mpirun)"
    printf '%-16s %12.3f %12.3f %12.3f %12.2f %12.0f\n' "$label" "$me" "$mf" "$mn" "$us" "$rate"
    echo "RESULT bench=coordinator axis=$AXIS ranks=$n runs=$RUNS repeats=$REPEATS t_empty_s=$me" \
        "t_full_s=$mf t_full_min_s=$mn us_per_run=$us runs_per_s=$rate" >>"$tmp/results"
done
echo "(ranks 0: plain process; medians over repeats; $(bench_load) at end)"
cat "$tmp/results"
