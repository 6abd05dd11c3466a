#!/bin/bash
# Submits an initsweep sweep to Slurm and prints the job id(s).
#
#   slurm/submit.sh SPEC [-o OUTDIR] [--nodes N] [--tasks N] [--time T]
#                   [--partition P] [--account A] [--sbatch OPT]... [--array N]
#                   [-- extra initsweep run args...]
#
# Without --array: one MPI job (slurm/initsweep.sbatch) with N nodes and N
# tasks (ranks) in all; prints its job id.
# With --array N: an N-task job array (slurm/initsweep-array.sbatch,
# --array=0-(N-1)), task K running `initsweep run SPEC -o OUTDIR --shard K/N`
# as one process, and a summarize job (slurm/initsweep-summarize.sbatch)
# that waits for the whole array (--dependency=afterok) and merges the
# shards into OUTDIR; prints the array's job id, then the summarize job's.
# --array needs -o OUTDIR, and takes neither --nodes nor --tasks.
# --sbatch passes one more option to every sbatch call (e.g. --sbatch=--qos=long).
# --time, --partition, --account go to the sweep job(s); the summarize job
# gets --partition and --account and its own 15-minute limit.
# If INITSWEEP is not set and initsweep is not on PATH, the repository's
# build/initsweep is used (exported to the jobs as INITSWEEP).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
usage() {
    sed -n '4,6p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
}
die() {
    echo "submit.sh: $*" >&2
    exit 2
}

spec="" outdir="" nodes="" tasks="" time="" partition="" account="" array=""
common=()
need() { if [ $# -lt 2 ] || [ -z "$2" ]; then die "$1 needs a value"; fi; }
while [ $# -gt 0 ]; do
    case $1 in
        -o|--outdir) need "$@"; outdir=$2; shift 2 ;;
        --nodes) need "$@"; nodes=$2; shift 2 ;;
        --tasks|--ntasks) need "$@"; tasks=$2; shift 2 ;;
        --time) need "$@"; time=$2; shift 2 ;;
        --partition) need "$@"; partition=$2; shift 2 ;;
        --account) need "$@"; account=$2; shift 2 ;;
        --array) need "$@"; array=$2; shift 2 ;;
        --sbatch) need "$@"; common+=("$2"); shift 2 ;;
        --outdir=*|--nodes=*|--tasks=*|--ntasks=*|--time=*|--partition=*|--account=*|--array=*|--sbatch=*)
            set -- "${1%%=*}" "${1#*=}" "${@:2}" ;;
        -h|--help) usage ;;
        --) shift; break ;;
        -*) die "unknown option $1 (initsweep's own options go after --)" ;;
        *) [ -z "$spec" ] || die "more than one SPEC ($spec, $1)"; spec=$1; shift ;;
    esac
done
[ -n "$spec" ] || usage
[ -f "$spec" ] || die "no spec file $spec"
for v in "$nodes" "$tasks" "$array"; do
    case $v in ''|*[!0-9]*|0*) [ -z "$v" ] || die "--nodes, --tasks and --array take a positive integer, not '$v'" ;; esac
done

# The jobs need the binary by an absolute path or on PATH.
if [ -z "${INITSWEEP:-}" ] && ! command -v initsweep >/dev/null 2>&1; then
    INITSWEEP=$(cd "$here/.." && pwd)/build/initsweep
    [ -x "$INITSWEEP" ] || die "no initsweep: build it (scripts/build.sh) or set INITSWEEP"
    export INITSWEEP
fi

[ -n "$partition" ] && common+=("--partition=$partition")
[ -n "$account" ] && common+=("--account=$account")
sweep=("${common[@]}")
[ -n "$time" ] && sweep+=("--time=$time")

# sbatch --parsable prints "jobid" or "jobid;cluster".
jobid() { printf '%s\n' "${1%%;*}"; }

if [ -z "$array" ]; then
    [ -n "$nodes" ] && sweep+=("--nodes=$nodes")
    [ -n "$tasks" ] && sweep+=("--ntasks=$tasks")
    out=$(sbatch --parsable "${sweep[@]}" "$here/initsweep.sbatch" "$spec" "$outdir" "$@")
    jobid "$out"
else
    [ -n "$outdir" ] || die "--array needs -o OUTDIR (the shards and the merged results go there)"
    [ -z "$nodes$tasks" ] || die "--array runs one process per array task: no --nodes or --tasks"
    out=$(sbatch --parsable --array="0-$((array - 1))" "${sweep[@]}" \
                 "$here/initsweep-array.sbatch" "$spec" "$outdir" "$@")
    arrayid=$(jobid "$out")
    out=$(sbatch --parsable --dependency="afterok:$arrayid" --kill-on-invalid-dep=yes \
                 "${common[@]}" "$here/initsweep-summarize.sbatch" "$outdir")
    echo "$arrayid"
    jobid "$out"
fi
