"""kill -9 of a 2-rank job at random instants, each journal resumed on
another number of ranks (1, 2, 3), gives exactly the records of an
uninterrupted run; a worker rank killed stops the whole job with the
journal valid, and the resume completes it.  (test_mpi_resume.py covers
repeated kills on the same rank count, SIGTERM and SIGINT.)"""
import csv
import os
import random
import signal
import time

from common import (check, children, done, file_text, kill_job, mpi_cmd, records, run, scratch,
                    start, wait_gone, write)
from sweeps import MIXED

work = scratch("mpi-faults")
spec = write(os.path.join(work, "mixed.yaml"),
             MIXED % {"epochs": 40, "samples": 4000, "target": 0.99})
ref = os.path.join(work, "ref")
t0 = time.time()
run(mpi_cmd(2, "run", spec, "-o", ref, "--quiet"))
duration = time.time() - t0
expected = records(ref)
total = len(expected) - 1
rng = random.Random(int(os.environ.get("ISW_TEST_SEED", "4242")))


def journal_runs(outdir, what):
    """Number of runs in a valid journal: whole lines, every field, tasks unique."""
    path = os.path.join(outdir, "runs.csv")
    if not os.path.exists(path):
        return 0
    text = file_text(path)
    rows = list(csv.reader(text.splitlines()))
    if not rows:
        return 0
    # a torn last line is allowed on disk (the next open drops it); all
    # lines before it must be whole
    body = rows[1:] if text.endswith("\n") else rows[1:-1]
    check(all(len(r) == len(rows[0]) for r in body), "%s: every whole line has every field" % what)
    tasks = [r[0] for r in body]
    check(len(tasks) == len(set(tasks)), "%s: no task twice" % what)
    return len(tasks)


# kill -9 of the whole job at a random instant; resume on 1, 2 and 3 ranks
for resume_np in (1, 2, 3):
    out = os.path.join(work, "killed-np%d" % resume_np)
    p = start(mpi_cmd(2, "run", spec, "-o", out, "--quiet"))
    time.sleep(rng.uniform(0.2, 0.8) * duration)
    kill_job(p)
    n = journal_runs(out, "kill -9 (resume on %d)" % resume_np)
    print("killed after %d of %d runs; resuming on %d rank(s)" % (n, total, resume_np))
    check(not os.path.exists(os.path.join(out, "cells.csv")), "a killed job wrote no statistics")
    q = run(mpi_cmd(resume_np, "run", spec, "-o", out))
    check(records(out) == expected,
          "kill -9 on 2 ranks, resume on %d: records equal the uninterrupted run" % resume_np)
    if n > 0:
        check("resuming" in q.stderr, "the resume on %d rank(s) says so" % resume_np)


def rank_of(pid):
    try:
        with open("/proc/%d/environ" % pid, "rb") as f:
            env = dict(kv.split(b"=", 1) for kv in f.read().split(b"\0") if b"=" in kv)
    except OSError:
        return None
    r = env.get(b"OMPI_COMM_WORLD_RANK")
    return int(r) if r is not None else None


# a worker rank killed mid-sweep: the job stops (not hangs), the journal
# is valid, the resume completes it
out = os.path.join(work, "worker-killed")
p = start(mpi_cmd(3, "run", spec, "-o", out, "--quiet"))
victim = None
deadline = time.time() + 60
while victim is None and time.time() < deadline:
    ranks = {rank_of(c): c for c in children(p.pid)}
    victim = ranks.get(2)
    time.sleep(0.05)
check(victim is not None, "found rank 2 among mpirun's children")
time.sleep(rng.uniform(0.2, 0.4) * duration)
ranks = children(p.pid)
if victim is not None:
    try:
        os.kill(victim, signal.SIGKILL)
    except ProcessLookupError:
        check(False, "rank 2 was still running when it was to be killed")
try:
    _, err = p.communicate(timeout=120)
except Exception:
    kill_job(p)
    err = ""
    check(False, "the job stopped within 120 s of its worker's death")
wait_gone(ranks)
check(p.returncode != 0, "a job that lost a worker does not report success (exit %s)"
      % p.returncode)
n = journal_runs(out, "worker killed")
print("worker killed after %d of %d runs (exit %s)" % (n, total, p.returncode))
check(n < total, "the worker died mid-sweep (%d of %d runs)" % (n, total))
check(not os.path.exists(os.path.join(out, "cells.csv")), "the broken job wrote no statistics")
run(mpi_cmd(2, "run", spec, "-o", out, "--quiet"))
check(records(out) == expected, "after a worker's death the resume completes the records")
done()
