"""A job killed with SIGKILL at a random instant, or stopped with SIGTERM
(exit 3), resumes to exactly the records of an uninterrupted run; another
spec in the same OUTDIR is refused unless --fresh; two jobs cannot share an
OUTDIR."""
import os
import random
import signal
import time

from common import (EXE, check, children, done, kill_job, mpi_cmd, records, run, scratch,
                    signal_ranks, start, wait_gone, write)
from sweeps import MIXED

work = scratch("resume")
spec = write(os.path.join(work, "mixed.yaml"), MIXED % {"epochs": 40, "samples": 4000, "target": 0.99})
ref = os.path.join(work, "ref")
t0 = time.time()
run(mpi_cmd(2, "run", spec, "-o", ref, "--quiet"))
duration = time.time() - t0
expected = records(ref)
rng = random.Random(int(os.environ.get("ISW_TEST_SEED", "12345")))

# SIGKILL of the whole job, twice, at random instants
out = os.path.join(work, "killed")
n = 0
for attempt in range(2):
    # a resumed attempt has less left to do: kill within what remains
    left = 1.0 - n / (len(expected) - 1)
    p = start(mpi_cmd(2, "run", spec, "-o", out, "--quiet"))
    time.sleep(rng.uniform(0.25, 0.75) * duration * left)
    kill_job(p)
    n = len(records(out)) - 1 if os.path.exists(os.path.join(out, "runs.csv")) else 0
    print("killed after %d runs" % n)
check(not os.path.exists(os.path.join(out, "cells.csv")), "a killed job wrote no statistics")
run(mpi_cmd(2, "run", spec, "-o", out, "--quiet"))
check(records(out) == expected, "records after kill -9 and resume equal the uninterrupted run")

# SIGTERM to every rank (as Slurm sends it): exit 3, journal flushed, resume
out = os.path.join(work, "term")
p = start(mpi_cmd(2, "run", spec, "-o", out))
time.sleep(rng.uniform(0.3, 0.6) * duration)
signal_ranks(p, signal.SIGTERM)
_, err = p.communicate(timeout=120)
check(p.returncode == 3, "SIGTERM gives exit 3 (got %d): %s" % (p.returncode, err[-500:]))
check("resume" in err, "the message says how to resume: %s" % err[-300:])
partial = len(records(out)) - 1
check(0 < partial < len(expected) - 1, "SIGTERM stopped mid-sweep (%d runs)" % partial)
p = run(mpi_cmd(2, "run", spec, "-o", out))
check("resuming" in p.stderr, "the second run says it resumes")
check(records(out) == expected, "records after SIGTERM and resume equal the uninterrupted run")

# SIGINT to mpirun (Ctrl-C): mpirun forwards it; the journal stays resumable
out2 = os.path.join(work, "int")
p = start(mpi_cmd(2, "run", spec, "-o", out2, "--quiet"))
time.sleep(rng.uniform(0.3, 0.6) * duration)
ranks = children(p.pid)
os.kill(p.pid, signal.SIGINT)
p.communicate(timeout=120)
check(p.returncode != 0, "an interrupted mpirun does not report success")
wait_gone(ranks)        # mpirun may return before its ranks have exited
run(mpi_cmd(2, "run", spec, "-o", out2, "--quiet"))
check(records(out2) == expected, "records after SIGINT to mpirun and resume are complete")

# the same spec again: nothing to do, same files
run([EXE, "run", spec, "-o", out, "--quiet"])
check(records(out) == expected, "a rerun of a finished sweep changes nothing")

# another spec in the same OUTDIR is refused, --fresh replaces it
other = write(os.path.join(work, "other.yaml"), (MIXED % {"epochs": 3, "samples": 240, "target": 0.75}).replace("seed: 11", "seed: 12"))
p = run([EXE, "run", other, "-o", out, "--quiet"], expect=2)
check("--fresh" in p.stderr, "refusal names --fresh: %s" % p.stderr)
check(records(out) == expected, "the refused run left the journal alone")
run([EXE, "run", other, "-o", out, "--quiet", "--fresh"])
check(records(out) != expected, "--fresh replaced the journal")

# two jobs in one OUTDIR: the second is refused while the first runs
out = os.path.join(work, "locked")
p = start(mpi_cmd(2, "run", spec, "-o", out, "--quiet"))
time.sleep(min(2.0, 0.3 * duration))
q = run([EXE, "run", spec, "-o", out, "--quiet"], expect=2)
check("in use" in q.stderr, "the second job is told the OUTDIR is in use: %s" % q.stderr)
p.communicate(timeout=600)
check(p.returncode == 0, "the first job finished (exit %d)" % p.returncode)
check(records(out) == expected, "the first job's records are complete")
done()
