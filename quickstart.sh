#!/bin/sh
# Set-up and the quickstart sweep: installs what is missing, builds, runs
# sweeps/quickstart.yaml on 2 MPI ranks into results/quickstart, plots it and
# writes its report (results/quickstart/report.html).
set -eu
cd "$(dirname "$0")"
scripts/install-deps.sh
scripts/build.sh
. scripts/env.sh
np=${NP:-2}
mpirun --oversubscribe -np "$np" build/initsweep run sweeps/quickstart.yaml -o results/quickstart "$@"
/usr/bin/python3 analysis/plot.py results/quickstart --out results/quickstart/plots
build/initsweep report results/quickstart >/dev/null
echo "results in results/quickstart: runs.csv cells.csv boundary.csv fit.csv spec.yaml,"
echo "plots in results/quickstart/plots, the report in results/quickstart/report.html"
