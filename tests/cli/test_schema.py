"""The file contract is written once: `initsweep --schema` (from the C
tables that write OUTDIR's files) equals the committed analysis/schema.json
that plot.py and the fixtures read, and a real run's files have exactly the
columns it names."""
import json
import os
import sys

from common import EXE, SRC, check, done, read_csv, run, scratch, write

sys.path.insert(0, os.path.join(SRC, "analysis"))
import plot  # noqa: E402

p = run([EXE, "--schema"])
with open(os.path.join(SRC, "analysis", "schema.json"), encoding="utf-8") as f:
    committed = f.read()
check(p.stdout == committed,
      "analysis/schema.json is stale: regenerate it with "
      "`cmake --build build --target schema`")
schema = json.loads(p.stdout)
files = schema["files"]
runs_cols = [c["name"] for c in files["runs.csv"]["columns"]]
check(len(runs_cols) == len(set(runs_cols)), "runs.csv column names are unique")
check(all(c["type"] in ("outcome", "int", "epoch", "real") and c["meaning"]
          for c in files["runs.csv"]["columns"]), "every column has a type and a meaning")

# plot.py reads the same names
check(plot.OUTCOMES == tuple(schema["outcomes"]), "plot.py's outcomes are the schema's")
check(plot.RUN_COLUMNS == tuple(runs_cols), "plot.py's runs columns are the schema's")
check(plot.CELL_STATS == tuple(files["cells.csv"]["columns"]), "cells.csv columns")
check(plot.BOUNDARY_STATS == tuple(files["boundary.csv"]["columns"]), "boundary.csv columns")
check(plot.FIT_STATS == tuple(files["fit.csv"]["columns"]), "fit.csv columns")
check(set(schema["outcomes"]) <= set(plot.OUTCOME_COLOURS), "every outcome has a colour")

# a real sweep's files: task, the axes in file order, then the schema's columns
out = scratch("run")
spec = write(os.path.join(out, "s.yaml"), """name: schema
data: {kind: synthetic, generator: spirals, samples: 64, classes: 2}
model: {hidden: [4], activation: tanh, output: softmax, loss: cross_entropy}
train: {lr: 0.05, epochs: 4}
sweep:
  init.scale: [0.5, 1, 2]
  train.lr: {logspace: [0.01, 10, 4]}
  seed: {range: [0, 2]}
""")
run([EXE, "run", spec, "-o", os.path.join(out, "o"), "--quiet"])
axes = ["init.scale", "train.lr", "seed"]
with open(os.path.join(out, "o", "runs.csv")) as f:
    header = f.readline().rstrip("\n").split(",")
check(header == ["task"] + axes + runs_cols, "runs.csv header: %s" % header)
rows = read_csv(os.path.join(out, "o", "runs.csv"))
check(len(rows) == 24 and {r["outcome"] for r in rows} <= set(schema["outcomes"]),
      "24 runs with schema outcomes")
for name, key_axes in (("cells.csv", ["init.scale", "train.lr"]),
                       ("boundary.csv", ["init.scale"]), ("fit.csv", [])):
    with open(os.path.join(out, "o", name)) as f:
        header = f.readline().rstrip("\n").split(",")
    check(header == key_axes + files[name]["columns"], "%s header: %s" % (name, header))
# and plot.py reads them
res = plot.load_results(os.path.join(out, "o"))
check(len(res.cells.rows) == 12, "plot.py reads the 12 cells")
done()
