"""Refinement on the least-squares problem: lr_diverge within 1 % of
2/lambda_max(X^T X / N), lambda_max computed here with numpy from the same
float32 values the trainer reads."""
import os

import numpy as np

from common import SRC, check, done, mpi_cmd, read_csv, records, run, scratch

work = scratch("refine")
spec = os.path.join(SRC, "sweeps", "least_squares.yaml")
out = os.path.join(work, "out")
run(mpi_cmd(2, "run", spec, "-o", out, "--quiet"))

raw = np.loadtxt(os.path.join(SRC, "data", "least_squares.csv"), delimiter=",", comments="#",
                 skiprows=4)
X = raw[:, :5].astype(np.float32).astype(np.float64)
Xb = np.hstack([X, np.ones((X.shape[0], 1))])
lam = np.linalg.eigvalsh(Xb.T @ Xb / X.shape[0]).max()
theory = 2.0 / lam

rows = read_csv(os.path.join(out, "boundary.csv"))
check(len(rows) == 1, "one slice (got %d)" % len(rows))
row = rows[0]
lr_div = float(row["lr_diverge"])
lo, hi = float(row["lr_diverge_lo"]), float(row["lr_diverge_hi"])
print("2/lambda_max = %.6g, lr_diverge = %.6g in [%.6g, %.6g]" % (theory, lr_div, lo, hi))
check(abs(lr_div / theory - 1) < 0.01, "lr_diverge %.6g within 1 %% of %.6g" % (lr_div, theory))
check(hi / lo - 1 <= 0.0021, "the bracket was refined to the tolerance (%g)" % (hi / lo - 1))
check(lo <= theory * 1.001 and hi >= theory * 0.999, "the bracket holds the theory")
check(int(row["crossings_diverge"]) == 1, "a single divergence crossing")

runs = records(out)
grid_runs = 11 * 2
check(len(runs) - 1 > grid_runs, "probes were run (%d runs)" % (len(runs) - 1))
check(len(runs) - 1 <= grid_runs + 2 * 12 * 2, "at most rounds x edges x seeds probes")

# a resumed refinement does nothing more and changes nothing
before = records(out)
run(mpi_cmd(2, "run", spec, "-o", out, "--quiet"))
check(records(out) == before, "rerunning a refined sweep adds nothing")
done()
