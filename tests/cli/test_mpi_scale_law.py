"""The init-scale law (sweeps/scale_law.yaml): on bias-free relu and linear
nets with zero targets every outcome is exactly invariant along
lr * a^(2L-2) = const on the grid, and the refined edges give fitted slopes
of -(2L-2) on log init.scale: -2, -4, -6 for 2, 3, 4 weight layers."""
import math
import os

from common import SRC, check, check_near, done, mpi_cmd, read_csv, run, scratch

work = scratch("law")
out = os.path.join(work, "out")
run(mpi_cmd(2, "run", os.path.join(SRC, "sweeps", "scale_law.yaml"), "-o", out, "--quiet"))


def layers(hidden):
    return len([w for w in hidden.strip("[]").split(",") if w.strip()]) + 1


# exact invariance of every grid run's outcome and length
runs = read_csv(os.path.join(out, "runs.csv"))
by_key = {}
for r in runs:
    by_key[(r["model.activation"], r["model.hidden"], float(r["init.scale"]),
            float(r["train.lr"]), r["seed"])] = r
pairs = mismatched = 0
for (act, hidden, scale, lr, seed), r in by_key.items():
    if scale == 1.0:
        continue
    L = layers(hidden)
    twin = by_key.get((act, hidden, 1.0, lr * scale ** (2 * L - 2), seed))
    if twin is None:
        continue
    pairs += 1
    if (r["outcome"], r["epochs"], r["epoch_converged"]) != \
            (twin["outcome"], twin["epochs"], twin["epoch_converged"]):
        mismatched += 1
        if mismatched <= 5:
            print("mismatch:", act, hidden, scale, lr, seed, r["outcome"], twin["outcome"])
check(pairs > 300, "enough invariance pairs on the grid (%d)" % pairs)
check(mismatched == 0, "outcomes invariant along lr a^(2L-2) (%d of %d differ)" % (mismatched, pairs))

# fitted slopes of both edges
fits = read_csv(os.path.join(out, "fit.csv"))
check(len(fits) == 2 * 3 * 2, "a fit per activation x depth x edge (%d)" % len(fits))
for f in fits:
    L = layers(f["model.hidden"])
    what = "%s %s %s slope" % (f["model.activation"], f["model.hidden"], f["edge"])
    check(f["slope"] != "", what + " defined")
    if f["slope"]:
        check_near(float(f["slope"]), -(2 * L - 2), 0.01, what)
        check(float(f["r2"]) > 0.9999, what + " r2 %s" % f["r2"])
        check(int(f["n"]) == 3, what + " uses the three scales")

# the refinement narrowed every found edge to the tolerance
for b in read_csv(os.path.join(out, "boundary.csv")):
    for edge in ("boundary", "diverge"):
        if b["lr_%s" % edge]:
            lo, hi = float(b["lr_%s_lo" % edge]), float(b["lr_%s_hi" % edge])
            check(hi / lo - 1 <= 0.0101, "%s bracket within 1 %% (%g)" % (edge, hi / lo - 1))
done()
