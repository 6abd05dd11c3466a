#!/bin/bash
# Parallel efficiency of the sweep engine, 1 vs 2 ranks, on a sweep that mixes
# runs that diverge in their first epoch with full-length runs: a 8-64-64-1
# relu net on teacher regression data (2,000 samples, mini-batch 20),
# lr from 0.01 to 10 (7 values, about half diverge at once), 8 seeds, no
# early stop for stable runs; about 20-40 s on 1 rank.  Rank 0 hands out work
# dynamically and trains too.
#
#   speedup = T1 / T2, efficiency = T1 / (2 T2)   (medians of REPEATS walls;
#   also from the fastest walls, the least disturbed by other work)
#
# Also the CPU time (user + sys of mpirun and its ranks, /usr/bin/time) per
# rank count: cores_used = CPU / wall tells whether the ranks got the cores
# (on a machine shared with other work they may not), and CPU2 / CPU1 is the
# engine's own overhead of a second rank (polling, messages, MPI start-up).
#
# usage: bench/bench_parallel.sh     env EPOCHS (300), SEEDS (8), REPEATS (3)
set -u -o pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

EPOCHS=${EPOCHS:-300}
SEEDS=${SEEDS:-8}
REPEATS=${REPEATS:-3}

bench_build initsweep || exit 1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cat >"$tmp/spec.yaml" <<YAML
name: bench-parallel
seed: 1
data:
  kind: synthetic
  generator: teacher
  inputs: 8
  targets: 1
  samples: 2000
  noise: 0.1
model:
  hidden: [64, 64]
  activation: relu
init:
  dist: he_normal
train:
  epochs: $EPOCHS
  batch: 20
criteria:
  target_loss_ratio: 1.0e-6
  stop_on_flat: false
sweep:
  seed: {range: [0, $SEEDS]}
  train.lr: {logspace: [0.01, 10, 7]}
YAML

echo "bench_parallel: $((SEEDS * 7)) runs, $EPOCHS epochs max, $REPEATS repeats, $(bench_load)"
# run_timed N: one sweep on N ranks; prints "wall cpu" in seconds.
run_timed() {
    /usr/bin/time -f "%e %U %S" -o "$tmp/time" "$MPIRUN" --oversubscribe $MPI_ARGS -np "$1" \
        "$BUILD_DIR/initsweep" run "$tmp/spec.yaml" -o "$tmp/out$1" --quiet --fresh >&2 || {
        echo "bench: initsweep run on $1 ranks failed" >&2
        return 1
    }
    awk '{ printf "%.3f %.3f\n", $1, $2 + $3 }' "$tmp/time"
}

declare -A T C M
for n in 1 2; do
    ts=() cs=()
    for ((r = 0; r < REPEATS; r++)); do
        wc_=$(run_timed "$n") || exit 1
        ts+=("${wc_% *}")
        cs+=("${wc_#* }")
    done
    T[$n]=$(bench_median "${ts[@]}")
    C[$n]=$(bench_median "${cs[@]}")
    M[$n]=$(bench_min "${ts[@]}")
    echo "  $n rank(s): walls ${ts[*]} s (median ${T[$n]}), CPU ${cs[*]} s (median ${C[$n]})," \
        "cores used $(bench_calc "${C[$n]} / ${T[$n]}")"
done

# The work mix (from the last 1-rank run) and a check that 1 and 2 ranks
# wrote the same records (every column but the timing one, `seconds`).
echo "  outcomes (outcome epochs: count):" \
    $(awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) { if ($i == "outcome") o = i; if ($i == "epochs") e = i } next }
               { c[$o " " $e]++ } END { for (k in c) printf "%s: %d, ", k, c[k] }' "$tmp/out1/runs.csv")
busy=$(awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "seconds") s = i; next } { t += $s } END { print t }' \
    "$tmp/out1/runs.csv")
echo "  sum of per-run seconds (1 rank): $busy s"
strip() { awk -F, -v OFS=, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "seconds") s = i }
                           { $s = ""; print }' "$1" | sort; }
if [ "$(strip "$tmp/out1/runs.csv" | md5sum)" = "$(strip "$tmp/out2/runs.csv" | md5sum)" ]; then
    same=yes
else
    same=NO
fi
echo "  records identical on 1 and 2 ranks: $same"

speedup=$(bench_calc "${T[1]} / ${T[2]}")
eff=$(bench_calc "${T[1]} / (2 * ${T[2]})")
cpu_ratio=$(bench_calc "${C[2]} / ${C[1]}")
speedup_min=$(bench_calc "${M[1]} / ${M[2]}")
eff_min=$(bench_calc "${M[1]} / (2 * ${M[2]})")
echo "speedup T1/T2 = $speedup, efficiency T1/(2 T2) = $eff, CPU2/CPU1 = $cpu_ratio" \
    "($(bench_load) at end)"
echo "from the fastest walls (least disturbed by other work): speedup $speedup_min," \
    "efficiency $eff_min"
echo "RESULT bench=parallel runs=$((SEEDS * 7)) epochs=$EPOCHS repeats=$REPEATS t1_s=${T[1]}" \
    "t2_s=${T[2]} speedup=$speedup efficiency=$eff cpu1_s=${C[1]} cpu2_s=${C[2]}" \
    "cores_used1=$(bench_calc "${C[1]} / ${T[1]}") cores_used2=$(bench_calc "${C[2]} / ${T[2]}")" \
    "cpu2_over_cpu1=$cpu_ratio t1_min_s=${M[1]} t2_min_s=${M[2]} speedup_min=$speedup_min" \
    "efficiency_min=$eff_min same_records=$same"
