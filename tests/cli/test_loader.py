"""analysis/initsweep_results.py reads an OUTDIR with the schema's types:
the same values as the CSV text, ints as ints, empty fields as NaN, epochs
that never happened as NaN (pandas: <NA> in an Int64 column), outcomes from
the schema, axis columns typed by their values; the pandas path agrees
with the numpy path; bad files raise ResultsError naming file and line."""
import math
import os
import shutil
import sys

from common import EXE, SRC, check, done, read_csv, run, scratch, write

sys.path.insert(0, os.path.join(SRC, "analysis"))
import initsweep_results as ir  # noqa: E402

work = scratch("loader")
spec = write(os.path.join(work, "xor.yaml"), """\
name: xor
seed: 3
data: {kind: synthetic, generator: xor, samples: 200, noise: 0.2}
model: {hidden: [8], activation: tanh}
train: {lr: 0.5, epochs: 40, batch: 20}
criteria: {target_accuracy: 0.95}
sweep:
  model.hidden: [[4], [8]]
  init.scale: [0.5, 1, 2]
  train.lr: {logspace: [0.01, 100, 5]}
  seed: {range: [0, 2]}
""")
out = os.path.join(work, "out")
run([EXE, "run", spec, "-o", out, "--quiet"])

res = ir.load(out)
text = {t: read_csv(os.path.join(out, t + ".csv")) for t in ir.TABLES}
check(len(res.runs) == 60 == len(text["runs"]), "60 runs read (%d)" % len(res.runs))
check(res.axes["runs"] == ["model.hidden", "init.scale", "train.lr", "seed"],
      "the runs' axes: %s" % res.axes["runs"])
check(res.axes["fit"] == ["model.hidden"], "fit.csv's axes: %s" % res.axes["fit"])
dt = res.runs.dtype
check(dt["task"].kind == "i" and dt["seed"].kind == "i" and dt["epochs"].kind == "i",
      "task, seed and epochs are integers")
check(dt["init.scale"].kind == "f" and dt["train.lr"].kind == "f" and dt["loss_final"].kind == "f",
      "scale, lr and losses are floats")
check(dt["model.hidden"].kind == "U" and set(res.runs["model.hidden"]) == {"[4]", "[8]"},
      "model.hidden stays text: %s" % set(res.runs["model.hidden"]))
check(set(res.runs["outcome"]) <= set(ir.OUTCOMES), "outcomes from the schema")
types = ir.column_types("runs")
mismatch = []
for i, row in enumerate(text["runs"]):
    for name, v in row.items():
        got = res.runs[name][i]
        kind = types.get(name)
        if kind in ("real", "epoch") or name in ("init.scale", "train.lr"):
            same = (v == "" and math.isnan(got)) or (v != "" and float(v) == got)
        elif kind == "int" or name in ("task", "seed"):
            same = int(v) == got
        else:
            same = v == got
        if not same:
            mismatch.append((i, name, v, got))
check(not mismatch, "every value as the CSV text says: %s" % mismatch[:3])
never = [i for i, r in enumerate(text["runs"]) if r["epoch_converged"] == ""]
check(never and all(math.isnan(res.runs["epoch_converged"][i]) for i in never),
      "an epoch that never happened is NaN")
cells = res.cells
check(all(cells["n"] == sum(cells[o] for o in ir.OUTCOMES)), "cells' counts add up to n")
check(res.fit["model"].dtype.kind == "U" and res.fit["n"].dtype.kind == "i",
      "fit.csv's model is a name, n an integer")

try:
    import pandas  # noqa: F401
    have_pandas = True
except ImportError:
    have_pandas = False
check(have_pandas, "python3-pandas is installed (scripts/install-deps.sh)")
if have_pandas:
    frames = ir.load(out, pandas=True)
    f = frames.runs
    check(len(f) == 60 and str(f["epoch_converged"].dtype) == "Int64" and
          str(f["outcome"].dtype) == "category" and
          list(f["outcome"].cat.categories) == list(ir.OUTCOMES),
          "pandas: Int64 epochs, categorical outcomes: %s" % f.dtypes.to_dict())
    check(f["epoch_converged"].isna().sum() == len(never), "pandas: <NA> for never")
    for name in ("loss_final", "init.scale", "train.lr", "epochs", "task"):
        a, b = res.runs[name], f[name].to_numpy()
        check(((a == b) | (a != a) & (b != b)).all(), "pandas agrees on %s" % name)
    check((res.runs["outcome"] == f["outcome"].astype(str).to_numpy()).all(),
          "pandas agrees on outcome")
    check(frames.boundary.shape[0] == len(res.boundary), "pandas reads boundary.csv")

# bad input: the file and line named, nothing half-read
bad = os.path.join(work, "bad")
shutil.copytree(out, bad)
runs = open(os.path.join(bad, "runs.csv")).read().splitlines()
header = runs[0].split(",")
row = runs[3].split(",")
row[header.index("outcome")] = "exploded"
runs[3] = ",".join(row)
write(os.path.join(bad, "runs.csv"), "\n".join(runs) + "\n")
for pd_path in ([False, True] if have_pandas else [False]):
    try:
        ir.load(bad, tables=("runs",), pandas=pd_path)
        check(False, "a bad outcome is refused")
    except ir.ResultsError as e:
        check("runs.csv" in str(e) and "line 4" in str(e) and "exploded" in str(e),
              "the bad outcome named (pandas=%s): %s" % (pd_path, e))
write(os.path.join(bad, "fit.csv"), "model.hidden,axis,edge\n")
try:
    ir.load(bad, tables=("fit",))
    check(False, "a fit.csv without its columns is refused")
except ir.ResultsError as e:
    check("fit.csv" in str(e) and "missing columns" in str(e), "missing columns named: %s" % e)
try:
    ir.load(os.path.join(work, "nowhere"))
    check(False, "a missing OUTDIR is refused")
except ir.ResultsError as e:
    check("nowhere" in str(e), str(e))
done()
