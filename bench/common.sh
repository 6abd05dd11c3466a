# Sourced by the bench/*.sh scripts: paths, build-if-needed, MPI and timing
# helpers.  Not run on its own.
#
# Environment:
#   BUILD_DIR  build directory (default <repo>/build-bench, Release)
#   MPIRUN     MPI launcher (default mpirun)
#   MPI_ARGS   extra launcher options, e.g. "--bind-to none" (Open MPI binds
#              rank i to core i when ranks <= cores: on a machine shared with
#              other bound jobs that can stack work on one core)

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(dirname "$BENCH_DIR")
BUILD_DIR=${BUILD_DIR:-$REPO_DIR/build-bench}
MPIRUN=${MPIRUN:-mpirun}
MPI_ARGS=${MPI_ARGS:-}
PYTHON=${PYTHON:-/usr/bin/python3}

# One BLAS thread per process: every rank trains its own network.
export OPENBLAS_NUM_THREADS=1
# Open MPI refuses root without these; harmless otherwise.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1

# Configures (Release) when there is no build dir, then builds the targets.
bench_build() {
    if [ ! -f "$BUILD_DIR/CMakeCache.txt" ]; then
        cmake -S "$REPO_DIR" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release >/dev/null || return 1
    fi
    local log
    log=$(cmake --build "$BUILD_DIR" --target "$@" -j2 2>&1) || {
        echo "$log" >&2
        echo "bench: build of $* failed in $BUILD_DIR" >&2
        return 1
    }
}

# Seconds since the epoch, nanosecond resolution.
bench_now() { date +%s.%N; }

# Median of the numbers given as arguments.
bench_median() {
    printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END {
        if (NR % 2) print v[(NR+1)/2]; else print (v[NR/2] + v[NR/2+1]) / 2 }'
}

# Minimum of the numbers given as arguments.
bench_min() { printf '%s\n' "$@" | sort -g | head -n1; }

# awk arithmetic: bench_calc '1/3' -> 0.333333
bench_calc() { awk "BEGIN { printf \"%.6g\n\", $1 }"; }

# "load average over 1 min, cores" for the report.
bench_load() { echo "load $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) cores"; }

# Runs `initsweep run SPEC -o OUT --quiet --fresh` on N ranks and prints its
# wall time in seconds.  N = 0 runs it as a plain process without mpirun.
bench_run_sweep() {
    local n=$1 spec=$2 out=$3 t0 t1 rc
    t0=$(bench_now)
    if [ "$n" -eq 0 ]; then
        "$BUILD_DIR/initsweep" run "$spec" -o "$out" --quiet --fresh >&2
    else
        "$MPIRUN" --oversubscribe $MPI_ARGS -np "$n" "$BUILD_DIR/initsweep" run "$spec" -o "$out" \
            --quiet --fresh >&2
    fi
    rc=$?
    t1=$(bench_now)
    if [ $rc -ne 0 ]; then
        echo "bench: initsweep run $spec on $n ranks failed (exit $rc)" >&2
        return $rc
    fi
    bench_calc "$t1 - $t0"
}

# runs/s of one `initsweep run SPEC ARGS... -o OUTDIR` on one rank: rows of
# runs.csv / wall seconds, process start included.
bench_isw_rate() {    # OUTDIR SPEC [ARGS...]
    local out=$1 t0 t1 n
    shift
    t0=$(bench_now)
    "$BUILD_DIR/initsweep" run "$@" -o "$out" --fresh --quiet >/dev/null 2>&1
    t1=$(bench_now)
    n=$(($(wc -l <"$out/runs.csv") - 1))
    bench_calc "$n / ($t1 - $t0)"
}

# The best of REPEATS bench_isw_rate.
bench_isw_best() {    # REPEATS OUTDIR SPEC [ARGS...]
    local repeats=$1 best=0 r
    shift
    for _ in $(seq "$repeats"); do
        r=$(bench_isw_rate "$@")
        best=$(awk -v a="$r" -v b="$best" 'BEGIN { print (a > b) ? a : b }')
    done
    echo "$best"
}
