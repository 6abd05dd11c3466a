"""fit.csv's fits end to end: the exact init-scale law stays one line with
the piecewise fit active (five scales, slopes -2 and -4 to 1e-3), fit.range
restricts it, fit.axis fits against another axis (and the law plot follows
it), `summarize --set fit.*` refits without touching the runs, the fit
section is not part of the journal's identity, and bad fit options are
refused with exit status 2 and nothing changed."""
import json
import os

from common import EXE, SRC, check, check_near, done, mpi_cmd, read_csv, run, scratch, write

SPEC = os.path.join(SRC, "sweeps", "scale_law.yaml")
# powers of two, so the law holds bit for bit on the grid (scale_law.yaml)
BASE = ["--set", "sweep.model.activation=[relu]",
        "--set", "sweep.model.hidden=[[16], [16, 16]]",
        "--set", "sweep.seed={range: [0, 2]}",
        "--set", "refine.rounds=6"]


def layers(hidden):
    return len([w for w in hidden.strip("[]").split(",") if w.strip()]) + 1


def fits_of(out):
    return read_csv(os.path.join(out, "fit.csv"))


work = scratch("fits")

# five scales: enough points for a hinge to be tried; the law is exact, so
# the line must win, over every point
out = os.path.join(work, "law")
run(mpi_cmd(2, "run", SPEC, "-o", out, "--quiet",
            "--set", "sweep.init.scale=[0.25, 0.5, 1, 2, 4]", *BASE))
fits = fits_of(out)
check(len(fits) == 2 * 2, "a fit per depth x edge (%d)" % len(fits))
for f in fits:
    L = layers(f["model.hidden"])
    what = "%s %s" % (f["model.hidden"], f["edge"])
    check(f["model"] == "line", what + ": an exact law is one line, not %s" % f["model"])
    check_near(float(f["slope"] or "nan"), -(2 * L - 2), 1e-3, what + " slope")
    check(f["n"] == "5" and float(f["x_min"]) == 0.25 and float(f["x_max"]) == 4,
          what + ": over all five scales (n %s, [%s, %s])" % (f["n"], f["x_min"], f["x_max"]))
    check(f["knee"] == "" and float(f["rmse"]) < 0.01, what + ": no knee, rmse %s" % f["rmse"])
runs_before = open(os.path.join(out, "runs.csv")).read()

# summarize --set fit.range refits over the range only; runs.csv and
# spec.yaml stay as they are
spec_before = open(os.path.join(out, "spec.yaml")).read()
run([EXE, "summarize", out, "--set", "fit.range=[0.5, 2]"])
for f in fits_of(out):
    check(f["n"] == "3" and float(f["x_min"]) == 0.5 and float(f["x_max"]) == 2,
          "fit.range [0.5, 2]: three scales (n %s, [%s, %s])" % (f["n"], f["x_min"], f["x_max"]))
    check_near(float(f["slope"] or "nan"), -(2 * layers(f["model.hidden"]) - 2), 1e-3,
               "fit.range slope")
check(open(os.path.join(out, "runs.csv")).read() == runs_before and
      open(os.path.join(out, "spec.yaml")).read() == spec_before,
      "summarize --set fit.* leaves runs.csv and spec.yaml alone")

# bad fit options: exit 2, the message names what was found, fit.csv unchanged
fit_before = open(os.path.join(out, "fit.csv")).read()
for sets, want in ((["fit.range=[2, 0.5]"], "fit.range: found"),
                   (["fit.axis=model.width"], "fit.axis: model.width is not a sweep axis"),
                   (["fit.axis=seed"], "expected a numeric sweep axis"),
                   (["train.lr=1"], "summarize changes only fit.axis and fit.range")):
    args = [EXE, "summarize", out]
    for s in sets:
        args += ["--set", s]
    p = run(args, expect=2)
    check(want in p.stderr, "summarize --set %s: %s" % (sets, p.stderr.strip()))
check(open(os.path.join(out, "fit.csv")).read() == fit_before,
      "a refused summarize leaves fit.csv as it was")

# the fit section is analysis only: a run with another one resumes the same
# journal (no run is trained again) and writes the new fit into spec.yaml
p = run(mpi_cmd(2, "run", SPEC, "-o", out, "--set", "sweep.init.scale=[0.25, 0.5, 1, 2, 4]",
                *BASE, "--set", "fit.range=[1, 4]"))
check(open(os.path.join(out, "runs.csv")).read() == runs_before,
      "a changed fit section resumes the journal without new runs")
check("range: [1, 4]" in open(os.path.join(out, "spec.yaml")).read(),
      "spec.yaml carries the fit section")
for f in fits_of(out):
    check(f["n"] == "3" and float(f["x_min"]) == 1, "the resumed run fits over [1, 4]: %s" % f)
# ... and a plain summarize reads it back from spec.yaml
run([EXE, "summarize", out])
check(all(f["n"] == "3" for f in fits_of(out)), "summarize reads fit.range from spec.yaml")

# fit.axis: against width, with init.scale a second axis (a fit per
# scale); the law plot follows fit.csv's axis
wspec = write(os.path.join(work, "width.yaml"), """\
name: fit-width
seed: 5
data: {kind: synthetic, generator: gaussian, samples: 64, inputs: 8, targets: 1}
model: {hidden: [16], activation: tanh, output: linear, loss: mse, bias: false}
init: {dist: lecun_normal}
train: {batch: 0, epochs: 200, precision: double}
criteria: {rule: bounded}
sweep:
  init.scale: [0.5, 1]
  model.width: [8, 16, 32]
  train.lr: {logspace: [0.01, 100, 13]}
  seed: {range: [0, 2]}
refine: {axis: train.lr, rounds: 4}
fit: {axis: model.width}
""")
wout = os.path.join(work, "width")
run(mpi_cmd(2, "run", wspec, "-o", wout, "--quiet"))
wfits = fits_of(wout)
check(len(wfits) == 2 * 2 and all(f["axis"] == "model.width" and f["n"] == "3" for f in wfits),
      "fit.axis model.width: a fit per scale x edge over three widths: %s"
      % [(f["init.scale"], f["axis"], f["n"]) for f in wfits])
p = run(["/usr/bin/python3", os.path.join(SRC, "analysis", "plot.py"), wout, "--which", "law",
         "--dpi", "60", "--json"])
law = json.loads(p.stdout)["figures"].get("law", {})
check(law.get("files") and os.path.getsize(law["files"][0]) > 5000,
      "the law plot against width is drawn: %s" % law)
check("model.width" not in law.get("fixed", {}), "the law plot sweeps width: %s" % law)
done()
