#!/bin/sh
# Shows that a change leaves every output of every sweep in sweeps/ as it
# was: builds REV (default HEAD~1) beside the working tree's build, runs each
# spec with both binaries and compares runs.csv, cells.csv, boundary.csv and
# fit.csv byte for byte.  runs.csv is compared with its rows in task order
# and its `seconds` column (wall time) left out: the journal is written in
# completion order and times differ run to run; every other byte must match.
#
# Usage: scripts/same-outputs.sh [REV] [SPEC...]
#   RANKS=2 (ranks per run), KEEP=1 keeps the work directory,
#   NEW_SET="KEY=VALUE" runs the working tree's binary with --set KEY=VALUE
#   (train.pack=1: unpacked, to compare with a revision before packs).
# When outputs differ it says how many runs differ and in how many the
# outcome changed.
set -eu
cd "$(dirname "$0")/.."
. scripts/env.sh
rev=${1:-HEAD~1}
[ $# -gt 0 ] && shift
specs=${*:-$(ls sweeps/*.yaml)}
ranks=${RANKS:-2}
work=$(mktemp -d /tmp/isw-same.XXXXXX)
cleanup() {
    git worktree remove --force "$work/src" >/dev/null 2>&1 || true
    [ -n "${KEEP:-}" ] || rm -rf "$work"
}
trap cleanup EXIT

git worktree add --detach "$work/src" "$rev" >/dev/null 2>&1
echo "building $rev ($(git rev-parse --short "$rev")) and the working tree"
cmake -S "$work/src" -B "$work/build-old" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$work/build-old" -j "$(nproc)" --target initsweep >/dev/null
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j "$(nproc)" --target initsweep >/dev/null

run() {    # run BINARY SPEC OUTDIR [ARGS...]
    # the spec is read from the working tree by both, so only code differs
    bin=$1 spec=$2 out=$3
    shift 3
    mpirun --oversubscribe -np "$ranks" "$bin" run "$spec" -o "$out" --quiet "$@" >"$out.log" 2>&1 ||
        { echo "FAIL: $1 run $2"; cat "$3.log"; exit 1; }
}

status=0
for spec in $specs; do
    name=$(basename "$spec" .yaml)
    run "$work/build-old/initsweep" "$spec" "$work/old-$name"
    if [ -n "${NEW_SET:-}" ]; then
        run "build/initsweep" "$spec" "$work/new-$name" --set "$NEW_SET"
    else
        run "build/initsweep" "$spec" "$work/new-$name"
    fi
    if /usr/bin/python3 - "$work/old-$name" "$work/new-$name" <<'EOF'
import csv, os, sys
old, new = sys.argv[1:3]
def runs(d):
    with open(os.path.join(d, "runs.csv"), newline="") as f:
        rows = list(csv.reader(f))
    head, body = rows[0], rows[1:]
    keep = [i for i, h in enumerate(head) if h != "seconds"]
    body.sort(key=lambda r: int(r[0]))
    return [[r[i] for i in keep] for r in [head] + body]
bad = []
ro, rn = runs(old), runs(new)
if ro != rn:
    out = ro[0].index("outcome")
    diff = sum(a != b for a, b in zip(ro[1:], rn[1:]))
    flips = sum(a[out] != b[out] for a, b in zip(ro[1:], rn[1:]))
    bad.append(f"runs.csv ({diff} runs differ, {flips} in outcome)")
for f in ("cells.csv", "boundary.csv", "fit.csv"):
    a, b = (os.path.join(d, f) for d in (old, new))
    if os.path.exists(a) != os.path.exists(b) or (
            os.path.exists(a) and open(a, "rb").read() != open(b, "rb").read()):
        bad.append(f)
n = len(runs(new)) - 1
print(("DIFFERENT " + " ".join(bad)) if bad else f"identical ({n} runs)")
sys.exit(1 if bad else 0)
EOF
    then echo "  $name"; else echo "  ^ $name"; status=1; fi
done
exit $status
