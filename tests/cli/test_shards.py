"""Job-array sharding: `run --shard K/N` for every K, then `summarize`
merges the shards into the same records and statistics as one MPI run
(refinement included: shards take whole slices).  Bad --shard values and a
missing shard are clear errors."""
import os

from common import (EXE, SRC, check, done, file_text, mpi_cmd, records, run, scratch)

work = scratch("shards")
spec = os.path.join(SRC, "sweeps", "quickstart.yaml")
small = ["--set", "sweep.seed={range: [0, 2]}", "--set", "sweep.init.scale=[0.25, 4]",
         "--set", "sweep.train.lr={logspace: [0.01, 10, 7]}", "--set", "train.epochs=30"]
ref = os.path.join(work, "ref")
run(mpi_cmd(2, "run", spec, "-o", ref, "--quiet", *small))

out = os.path.join(work, "array")
for k in range(3):
    run([EXE, "run", spec, "-o", out, "--quiet", "--shard", "%d/3" % k] + small)
    check(os.path.exists(os.path.join(out, "shard-%d-of-3" % k, "runs.csv")),
          "shard %d has its own journal" % k)
p = run([EXE, "summarize", out])
check("merged 3 shards" in p.stdout, "summarize says it merged: %s" % p.stdout)
check(records(out) == records(ref), "merged records equal the MPI run's")
for f in ("cells.csv", "boundary.csv", "fit.csv"):
    check(file_text(os.path.join(out, f)) == file_text(os.path.join(ref, f)),
          "merged %s equals the MPI run's" % f)
check(os.path.exists(os.path.join(out, "spec.yaml")), "the merged OUTDIR has spec.yaml")

# a shard missing
part = os.path.join(work, "part")
run([EXE, "run", spec, "-o", part, "--quiet", "--shard", "0/2"] + small)
os.makedirs(os.path.join(part, "shard-1-of-2"))
p = run([EXE, "summarize", part], expect=2)
check("shard 1 of 2" in p.stderr, "a missing shard is named: %s" % p.stderr)

for bad in ("3/3", "x/2", "1/0", "-1/2", "1/2/3"):
    p = run([EXE, "run", spec, "-o", os.path.join(work, "bad"), "--shard", bad], expect=2)
    check("--shard" in p.stderr and "K/N" in p.stderr, "bad --shard %s: %s" % (bad, p.stderr))
done()
