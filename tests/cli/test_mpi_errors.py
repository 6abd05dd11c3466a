"""Bad input under MPI: validated before any work, every rank agrees, rank 0
alone prints, every rank exits 2, nothing is written."""
import os

from common import check, done, mpi_cmd, run, scratch, write

work = scratch("errors")
good = """\
name: e
data: {kind: synthetic, generator: xor, samples: 50}
model: {hidden: [4]}
train: {epochs: 2}
sweep:
  train.lr: [0.1, 1]
"""
cases = {
    "bad_axis": (good.replace("[0.1, 1]", "{logspace: [0, 1, 3]}"), "logspace"),
    "unknown_key": (good.replace("train.lr:", "train.learning_rate:"), "train.learning_rate"),
    "empty_axis": (good.replace("[0.1, 1]", "[]"), "empty list"),
    "bad_value": (good.replace("[0.1, 1]", "[0.1, fast]"), "fast"),
    "missing_data": (good.replace("{kind: synthetic, generator: xor, samples: 50}",
                                  "{kind: csv, path: absent.csv, target: y}"), "absent.csv"),
}
for name, (text, needle) in cases.items():
    spec = write(os.path.join(work, name + ".yaml"), text)
    out = os.path.join(work, "out-" + name)
    p = run(mpi_cmd(2, "run", spec, "-o", out), expect=2)
    check(needle in p.stderr, "%s: message names %r: %s" % (name, needle, p.stderr[-600:]))
    check(p.stderr.count(needle) == 1 or name == "bad_value",
          "%s: printed once, by rank 0 (%d)" % (name, p.stderr.count(needle)))
    check(not os.path.exists(os.path.join(out, "runs.csv")), "%s: no journal written" % name)

# an OUTDIR that cannot be created
spec = write(os.path.join(work, "good.yaml"), good)
blocker = write(os.path.join(work, "file"), "not a directory\n")
p = run(mpi_cmd(2, "run", spec, "-o", os.path.join(blocker, "out")), expect=2)
check("file" in p.stderr, "the unusable OUTDIR is named: %s" % p.stderr[-600:])
done()
