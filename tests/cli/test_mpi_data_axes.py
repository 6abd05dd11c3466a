"""Runs over data.* axes train on their own data, the journal knows its
data, and resume trusts only rows of this sweep.

- A sweep over data.noise x data.samples (synthetic) and one over
  data.path (two CSV files, in directories with names over 511 characters)
  give records that differ across data values and equal, run by run, what
  `initsweep train --set data.X=...` gives (train trains one net alone:
  the synthetic sweep, whose lr axis would pack two runs, sets
  train.pack: 1; a pack's float arithmetic differs from one net's).
- Replacing one CSV file between an interruption and the resume is refused
  (exit 2, naming the file) and OUTDIR is left as it was.
- A journaled row whose task is outside the grid, or whose axis value
  contradicts its task, is refused with runs.csv:LINE.
- SIGKILL of mpirun alone (a double Ctrl-C): the ranks notice their
  launcher is gone and leave, releasing the lock; the sweep resumes."""
import csv
import hashlib
import os
import signal
import time

from common import (EXE, check, children, done, mpi_cmd, records, run, scratch, start,
                    wait_gone, write, alive)

work = scratch("data_axes")

SYNTH = """name: noise
seed: 3
data: {kind: synthetic, generator: blobs, classes: 3, inputs: 4, samples: 120, noise: 0.3}
model: {hidden: [8], activation: tanh}
train: {lr: 0.3, epochs: 12, batch: 16, pack: 1}
criteria: {target_accuracy: 0.95}
sweep:
  data.noise: [0.2, 1.5]
  data.samples: [60, 150]
  train.lr: [0.05, 0.5]
  seed: [0, 1]
"""

# columns that identify a run's training (not timing)
COLS = ("outcome", "epochs", "loss_initial", "loss_final", "accuracy_final", "grad_norm_initial")


def train_record(spec, sets):
    args = [EXE, "train", spec]
    for k, v in sets.items():
        args += ["--set", "%s=%s" % (k, v)]
    p = run(args)
    rec, on = {}, False
    for line in p.stdout.splitlines():
        if line.startswith("record:"):
            on = True
        elif on and line.strip():
            parts = line.split(None, 1)
            rec[parts[0]] = parts[1].strip() if len(parts) > 1 else ""
    return rec


def same(a, b):
    try:
        x, y = float(a), float(b)
        return x == y or abs(x - y) <= 1e-7 * max(abs(x), abs(y))
    except ValueError:
        return a == b


def check_against_train(spec, out, axes):
    rows = list(csv.DictReader(open(os.path.join(out, "runs.csv"), newline="")))
    for r in rows:
        want = train_record(spec, {k: r[k] for k in axes})
        for c in COLS:
            if not check(same(r[c], want.get(c)), "task %s %s: run %s, train %s"
                         % (r["task"], c, r[c], want.get(c))):
                break
    return rows


def tree_digest(path):
    h = hashlib.sha256()
    for root, dirs, files in sorted(os.walk(path)):
        dirs.sort()
        for f in sorted(files):
            if f == ".lock":
                continue  # holds the pid of the last job that took the lock
            p = os.path.join(root, f)
            h.update(p.encode())
            with open(p, "rb") as fh:
                h.update(fh.read())
    return h.hexdigest()


# ---- synthetic data axes -------------------------------------------------
spec = write(os.path.join(work, "noise.yaml"), SYNTH)
out = os.path.join(work, "noise")
run(mpi_cmd(2, "run", spec, "-o", out, "--quiet"))
rows = check_against_train(spec, out, ("data.noise", "data.samples", "train.lr", "seed"))
check(len(rows) == 16, "16 runs (%d)" % len(rows))
by_data = {}
for r in rows:
    by_data.setdefault((r["data.noise"], r["data.samples"]), set()).add(r["loss_initial"])
check(len(by_data) == 4, "four datasets")
inits = [frozenset(v) for v in by_data.values()]
check(len(set(inits)) == 4, "each dataset gives its own initial losses: %s" % by_data)
# one rank gives the same records
out1 = os.path.join(work, "noise1")
run([EXE, "run", spec, "-o", out1, "--quiet"])
check(records(out1) == records(out), "1 rank and 2 ranks give the same records")

# ---- CSV files on an axis, in long-named directories ---------------------
long_a = os.path.join(work, "d" * 200, "e" * 200, "f" * 150 + "a")
long_b = os.path.join(work, "d" * 200, "e" * 200, "f" * 150 + "b")
for d in (long_a, long_b):
    os.makedirs(d, exist_ok=True)
lines_a = ["x1,x2,label"] + ["%g,%g,%d" % (i % 7 / 7.0, i % 5 / 5.0, i % 2) for i in range(40)]
lines_b = ["x1,x2,label"] + ["%g,%g,%d" % (i % 3 / 3.0, i % 11 / 11.0, (i // 3) % 2) for i in range(40)]
csv_a = write(os.path.join(long_a, "data.csv"), "\n".join(lines_a) + "\n")
csv_b = write(os.path.join(long_b, "data.csv"), "\n".join(lines_b) + "\n")
CSVSPEC = """name: files
seed: 5
data: {kind: csv, path: %s, target: label, classes: 2}
model: {hidden: [6], activation: relu}
train: {lr: 0.2, epochs: 8, batch: 8}
criteria: {target_accuracy: 0.99}
sweep:
  data.path: ["%s", "%s"]
  seed: {range: [0, 3]}
""" % (csv_a, csv_a, csv_b)
cspec = write(os.path.join(work, "files.yaml"), CSVSPEC)
cout = os.path.join(work, "files")
run(mpi_cmd(2, "run", cspec, "-o", cout, "--quiet"))
rows = check_against_train(cspec, cout, ("data.path", "seed"))
paths = {r["data.path"] for r in rows}
check(paths == {csv_a, csv_b}, "runs.csv holds both long paths whole (%s)"
      % sorted(len(p) for p in paths))
cells = list(csv.DictReader(open(os.path.join(cout, "cells.csv"), newline="")))
check(len(cells) == 2 and all(c["n"] == "3" for c in cells),
      "two cells of 3 runs each: %s" % [(len(c["data.path"]), c["n"]) for c in cells])
ia = {r["loss_initial"] for r in rows if r["data.path"] == csv_a}
ib = {r["loss_initial"] for r in rows if r["data.path"] == csv_b}
check(ia.isdisjoint(ib), "the two files give different runs")

# replace one file, then resume: refused by name, OUTDIR untouched
before = tree_digest(cout)
write(csv_b, "\n".join(lines_b[:-1] + ["0.5,0.5,1"]) + "\n")
p = run([EXE, "run", cspec, "-o", cout, "--quiet"], expect=2)
check(csv_b in p.stderr and "data changed" in p.stderr, "names the changed file: %s" % p.stderr)
check(tree_digest(cout) == before, "OUTDIR left as it was after the refused resume")
write(csv_b, "\n".join(lines_b) + "\n")
run([EXE, "run", cspec, "-o", cout, "--quiet"])   # restored: resumes (nothing to do)

# ---- resume trusts only rows of this sweep --------------------------------
def tampered(edit, expect_text):
    d = os.path.join(work, "tamper")
    run(["rm", "-rf", d])
    run(["cp", "-r", out1, d])
    path = os.path.join(d, "runs.csv")
    lines = open(path).read().splitlines(True)
    lines[3] = edit(lines[3])
    open(path, "w").write("".join(lines))
    before = tree_digest(d)
    p = run([EXE, "run", spec, "-o", d, "--quiet"], expect=2)
    check(("runs.csv:4" in p.stderr) and expect_text in p.stderr,
          "tampered row refused with file:line: %s" % p.stderr)
    check(tree_digest(d) == before, "tampered OUTDIR left as it was")


tampered(lambda l: "99999" + l[l.index(","):], "outside this sweep")
# task 2 is noise 0.2, samples 60, lr 0.5, seed 0: claim noise 1.5
tampered(lambda l: l.replace(",0.2,", ",1.5,", 1), "data.noise")

# ---- journal.meta names each rank's OpenBLAS kernels; a mix is warned about
from common import MPIEXEC
meta = open(os.path.join(out, "journal.meta")).read()
check("platform blas_core " in meta and " x 2" in meta, "journal.meta: %s" % meta)
check("platform program initsweep " in meta and "\nplatform ranks 2\n" in meta and
      "\nplatform hosts " in meta and "\nplatform started 20" in meta,
      "journal.meta's provenance: %s" % meta)
mixed = os.path.join(work, "mixed")
p = run([MPIEXEC, "--oversubscribe", "-np", "1", "-x", "OPENBLAS_CORETYPE=Haswell", EXE, "run",
         spec, "-o", mixed, ":", "-np", "1", "-x", "OPENBLAS_CORETYPE=Sandybridge", EXE, "run",
         spec, "-o", mixed])
meta = open(os.path.join(mixed, "journal.meta")).read()
check("Haswell x 1" in meta and "Sandybridge x 1" in meta, "both kernels recorded: %s" % meta)
check("ranks use different OpenBLAS kernels" in p.stderr, "mixed kernels warned: %s" % p.stderr)

# ---- inputs that normalisation makes infinite are refused before OUTDIR
bad = write(os.path.join(work, "inf.yaml"), SYNTH.replace("noise: 0.3}", "noise: 0.3, normalize: 1e-300}"))
bout = os.path.join(work, "inf")
os.makedirs(bout, exist_ok=True)
write(os.path.join(bout, "sentinel"), "keep\n")
before = tree_digest(bout)
p = run([EXE, "run", bad, "-o", bout, "--quiet"], expect=2)
check("data.normalize: 1e-300 makes input" in p.stderr, "non-finite inputs refused: %s" % p.stderr)
check(tree_digest(bout) == before, "OUTDIR left as it was after non-finite inputs")

# ---- untrainable sizes are refused before OUTDIR is touched
for sets, text in ((["sweep.model.hidden=[[8], [1000000, 1000000]]"], "a run needs about"),
                   (["sweep.data.samples=[60, 100000000000]"], "a dataset of 100000000000 samples"),
                   (["train.epochs=2147483647"], "train.epochs: found 2147483647")):
    args = []
    for kv in sets:
        args += ["--set", kv]
    p = run([EXE, "run", spec, "-o", bout, "--quiet"] + args, expect=2)
    check(text in p.stderr and "GiB" in p.stderr or "epochs" in text,
          "%s refused: %s" % (sets, p.stderr))
    check(tree_digest(bout) == before, "OUTDIR left as it was after %s" % sets)
    p = run([EXE, "plan", spec] + args, expect=2)
    check(text in p.stderr, "plan refuses %s: %s" % (sets, p.stderr[-300:]))

# ---- an empty OUTDIR name is refused
p = run([EXE, "run", spec, "-o", ""], expect=2)
check("-o: found an empty OUTDIR" in p.stderr, "-o '' refused: %s" % p.stderr)

# ---- a spec that is no text file fails at once
p = run([EXE, "train", "/dev/zero"], expect=2, timeout=60)
check("/dev/zero: found a NUL byte" in p.stderr, "/dev/zero refused: %s" % p.stderr)

# ---- mpirun killed alone: ranks leave, lock released, resume completes ----
long_spec = write(os.path.join(work, "long.yaml"), SYNTH.replace("epochs: 12", "epochs: 400")
                  .replace("samples: [60, 150]", "samples: [600, 900]")
                  .replace("seed: [0, 1]", "seed: {range: [0, 6]}"))
lout = os.path.join(work, "long")
job = start(mpi_cmd(2, "run", long_spec, "-o", lout, "--quiet"))
deadline = time.time() + 60
while time.time() < deadline and not (os.path.exists(os.path.join(lout, "runs.csv")) and
                                      len(open(os.path.join(lout, "runs.csv")).readlines()) > 2):
    time.sleep(0.1)
ranks = children(job.pid)
os.kill(job.pid, signal.SIGKILL)
job.wait()
wait_gone(ranks, 30)
check(not any(alive(r) for r in ranks), "ranks left after mpirun was killed")
p = run([EXE, "run", long_spec, "-o", lout, "--quiet"], expect=None)
check(p.returncode == 0, "the orphaned sweep resumes (exit %d): %s" % (p.returncode, p.stderr[-500:]))
done()
