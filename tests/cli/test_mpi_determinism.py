"""The same spec gives the same records on 1, 2 and 4 ranks (4 on 2 cores,
oversubscribed), and the same statistics files."""
import os

from common import (EXE, check, done, file_text, mpi_cmd, records, run, scratch, write)
from sweeps import MIXED

work = scratch("det")
spec = write(os.path.join(work, "mixed.yaml"), MIXED % {"epochs": 25, "samples": 240, "target": 0.75})

outs = {}
for np in (1, 2, 4):
    out = os.path.join(work, "np%d" % np)
    if np == 1:
        p = run([EXE, "run", spec, "-o", out, "--quiet"])
    else:
        p = run(mpi_cmd(np, "run", spec, "-o", out, "--quiet"))
    outs[np] = out

base = records(outs[1])
check(len(base) == 1 + 2 * 3 * 9 * 3, "np 1 wrote every run (%d lines)" % len(base))
outcomes = {line.split(",")[5] for line in base[1:]}
check({"converged", "diverged"} <= outcomes, "the sweep mixes outcomes: %s" % outcomes)
for np in (2, 4):
    check(records(outs[np]) == base, "np %d records equal np 1's" % np)
    for f in ("cells.csv", "boundary.csv", "fit.csv"):
        check(file_text(os.path.join(outs[np], f)) == file_text(os.path.join(outs[1], f)),
              "np %d %s equals np 1's" % (np, f))
done()
