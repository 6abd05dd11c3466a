#!/usr/bin/env python3
"""Regenerates the plot test's results directory (this directory's
spec.yaml, cells.csv, boundary.csv, fit.csv) from a made-up runs.csv with a
known boundary, by running the real statistics:

    /usr/bin/python3 tests/data/results/make_fixture.py BUILD/initsweep

Grid: init.dist {normal, uniform} x init.scale s = 10^(j/4), j = 0..3 x
train.lr 10^(k-4), k = 0..5 x 4 seeds.  Outcomes per cell, with
b = c 10^-j = c s^-4 (c = 10^-0.5 for normal, 10^0.5 for uniform), so b lies
at the geometric midpoint of two grid lrs and the log-lr interpolation of the
0.5 crossing (p_converged 1 -> 0) lands exactly on it:
- lr < b: converged, except uniform at lr = 1e-4: slow (all 4 seeds);
- the first lr above b: normal 2 dead + 2 diverged (a tie: the dominant
  outcome is diverged, the earlier in the outcome order; p_diverged = 0.5,
  so lr_diverge is that lr, = s^-4); uniform 3 saturated + 1 diverged
  (lr_diverge interpolated a third of a decade into the next step);
- higher lrs: diverged.
So both edges follow slope -4 exactly (the fits read slope -4, r2 1), and
uniform at s = 1 has no divergence edge in range (an empty field).  The
spec (2 hidden ReLU layers, no bias, linear output) is homogeneous with
L = 3 weight layers: reference slope -(2L-2) = -4.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
with open(os.path.join(ROOT, "analysis", "schema.json"), encoding="utf-8") as _f:
    _COLUMNS = json.load(_f)["files"]["runs.csv"]["columns"]
RUN_COLUMNS = [c["name"] for c in _COLUMNS]
# a column the fixture does not set: 0 for an integer, else empty (not defined)
RUN_EMPTY = {c["name"]: 0 if c["type"] == "int" else "" for c in _COLUMNS}
SPEC = """\
# initsweep 0.1.0: the resolved spec, every default filled in
name: plot-fixture
seed: 1
data:
  kind: synthetic
  generator: teacher
  samples: 64
  inputs: 4
  targets: 1
model:
  hidden: [16, 16]
  activation: relu
  output: linear
  loss: mse
  bias: false
  parameterization: standard
init:
  dist: normal
  scale: 1
  bias: zero
train:
  lr: 0.1
  epochs: 50
  batch: 0
criteria:
  target_loss_ratio: 0.1
sweep:
  init.dist: [normal, uniform]
  init.scale: {logspace: [1, 5.6234132519034912, 4]}
  train.lr: {logspace: [0.0001, 10, 6]}
  seed: {range: [0, 4, 1]}
"""
AXES = ("init.dist", "init.scale", "train.lr", "seed")
HEADER = ",".join(("task",) + AXES + tuple(RUN_COLUMNS))
# the record columns this fixture does not vary
FIXED = {"loss_initial": 1, "accuracy_final": 0.5, "grad_norm_initial": 1, "dead_fraction": 0,
         "saturated_fraction": 0, "output_saturated_fraction": 0, "layer_dead": 0,
         "sharpness_initial": "", "seconds": 0.001}
DISTS = ("normal", "uniform")
SCALES = ("1", "1.77827941004", "3.16227766017", "5.6234132519")
LRS = ("0.0001", "0.001", "0.01", "0.1", "1", "10")


def outcomes(dist, j, k):
    """The 4 seeds' outcomes of a cell."""
    k_hi = (4 if dist == "normal" else 5) - j   # first grid lr above the boundary
    if k < k_hi:
        return ["slow"] * 4 if (dist == "uniform" and k == 0) else ["converged"] * 4
    if k == k_hi:
        if dist == "normal":
            return ["dead", "diverged", "dead", "diverged"]
        return ["saturated", "saturated", "diverged", "saturated"]
    return ["diverged"] * 4


def record(o, seed):
    """epochs, epoch_converged, loss_final for an outcome."""
    if o == "converged":
        return 20 + seed, 20 + seed, 0.01 * (1 + seed)
    if o == "diverged":
        return 3, "", ""          # NaN loss: written empty, read as +inf
    if o == "slow":
        return 50, "", 0.5 + 0.01 * seed
    return 10, "", 1.0          # dead, saturated: flat at the start loss


def write_inputs(outdir):
    """Writes spec.yaml and runs.csv of the fixture into outdir; `initsweep
    summarize outdir` then computes cells.csv, boundary.csv and fit.csv."""
    with open(os.path.join(outdir, "spec.yaml"), "w") as f:
        f.write(SPEC)
    lines = [HEADER]
    task = 0
    for dist in DISTS:
        for j, s in enumerate(SCALES):
            for k, lr in enumerate(LRS):
                for seed, o in enumerate(outcomes(dist, j, k)):
                    ep, epc, loss = record(o, seed)
                    best = loss if loss != "" else 1
                    rec = dict(RUN_EMPTY, **FIXED, outcome=o, epochs=ep, epoch_converged=epc,
                               loss_final=loss, loss_best=best, loss_max=loss)
                    lines.append(",".join([str(task), dist, s, lr, str(seed)]
                                          + [str(rec[c]) for c in RUN_COLUMNS]))
                    task += 1
    with open(os.path.join(outdir, "runs.csv"), "w") as f:
        f.write("\n".join(lines) + "\n")


def main():
    exe = sys.argv[1]
    tmp = tempfile.mkdtemp()
    try:
        write_inputs(tmp)
        subprocess.run([exe, "summarize", tmp], check=True, stdout=subprocess.DEVNULL)
        for name in ("spec.yaml", "cells.csv", "boundary.csv", "fit.csv"):
            shutil.copy(os.path.join(tmp, name), os.path.join(HERE, name))
    finally:
        shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
