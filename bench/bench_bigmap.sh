#!/usr/bin/env bash
# A 4096 x 4096 map end to end: 16.8M zero-epoch runs (init.scale x
# train.lr, xor with 8 samples, hidden [2]) as one plain process, then
# `summarize` of its journal; wall time, peak resident memory (GNU time
# -v) and the journal's size.  Needs about 13 GB of memory and 3 GB of disk
# in OUT (default a fresh directory under /tmp).
# Usage: bench/bench_bigmap.sh [SIDE]     (SIDE 4096: SIDE^2 runs)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
SIDE=${1:-4096}
"$REPO_DIR/scripts/install-deps.sh" --bench
bench_build initsweep
if [ -n "${OUT:-}" ]; then
    mkdir -p "$OUT"
    trap 'rm -rf "$OUT/map"' EXIT
else
    OUT=$(mktemp -d)
    trap 'rm -rf "$OUT"' EXIT
fi
cat >"$OUT/bigmap.yaml" <<EOF
name: bigmap
seed: 1
data: {kind: synthetic, generator: xor, samples: 8}
model: {hidden: [2], activation: tanh}
train: {epochs: 0, batch: 0}
sweep:
  init.scale: {logspace: [0.1, 10, $SIDE]}
  train.lr: {logspace: [1.0e-4, 10, $SIDE]}
EOF
measure() {    # LABEL COMMAND... -> wall s, peak RSS GB
    local label=$1
    shift
    /usr/bin/time -v "$@" >/dev/null 2>"$OUT/time.log"
    local wall rss
    wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$OUT/time.log" |
        awk -F: '{ s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; print s }')
    rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$OUT/time.log")
    echo "$label wall_s=$wall peak_rss_gb=$(bench_calc "$rss / 1048576")"
}
runs=$((SIDE * SIDE))
echo "bench_bigmap: $runs zero-epoch runs, $(bench_load)"
r=$(measure run "$BUILD_DIR/initsweep" run "$OUT/bigmap.yaml" -o "$OUT/map" --fresh --quiet)
echo "RESULT bench=bigmap runs=$runs $r journal_bytes=$(stat -c %s "$OUT/map/runs.csv")"
r=$(measure summarize "$BUILD_DIR/initsweep" summarize "$OUT/map")
echo "RESULT bench=bigmap runs=$runs $r"
