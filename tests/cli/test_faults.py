"""Faults of files and processes around OUTDIR: planted symbolic links (the
lock, a temp name, a final file) are never followed and their targets keep
their bytes; the input spec is never overwritten; results without a journal
are refused; summarize refuses shards of different specs; run and summarize
side by side never clash; a read-only OUTDIR, a full disk and `ulimit -f`
are I/O failures (exit 1) that leave a valid, resumable journal.

The mount-based cases need mount(2) (root here); without it they are
skipped with a message saying so."""
import atexit
import csv
import os
import shutil
import subprocess
import time

from common import (EXE, MPIEXEC, check, done, file_text, read_csv, records, run, scratch,
                    start, write)

FAST = """\
name: faults
seed: %(seed)d
data: {kind: synthetic, generator: blobs, samples: 120, classes: 3, inputs: 4, noise: 1.0}
model: {hidden: [8], activation: relu}
init: {dist: normal, scale: 1.0}
train: {lr: 0.1, epochs: %(epochs)d, batch: 16}
criteria: {target_accuracy: 0.9}
sweep:
  train.lr: {logspace: [0.001, 10, 9]}
  seed: {range: [0, %(seeds)d]}
"""

work = scratch("faults")
# 450 runs, a runs.csv of about 85 KB: more than the small file systems below
spec = write(os.path.join(work, "fast.yaml"), FAST % {"seed": 3, "epochs": 5, "seeds": 50})
ref = os.path.join(work, "ref")
run([EXE, "run", spec, "-o", ref, "--quiet"])
expected = records(ref)
victim = os.path.join(work, "victim.txt")
PRECIOUS = "precious: not initsweep's\n"


def plant_victim():
    write(victim, PRECIOUS)


def victim_intact(what):
    check(os.path.isfile(victim) and not os.path.islink(victim) and file_text(victim) == PRECIOUS,
          "%s: the link target keeps its bytes" % what)


def journal_valid(outdir, what):
    """runs.csv is a header and whole lines, each with every field, tasks unique."""
    path = os.path.join(outdir, "runs.csv")
    text = file_text(path)
    ok = check(text.endswith("\n"), "%s: runs.csv ends with a whole line" % what)
    rows = list(csv.reader(text.splitlines()))
    ok &= check(all(len(r) == len(rows[0]) for r in rows), "%s: every line has every field" % what)
    tasks = [r[0] for r in rows[1:]]
    ok &= check(len(tasks) == len(set(tasks)), "%s: no task twice" % what)
    return ok and len(tasks)


def temps_left(outdir):
    return [f for f in os.listdir(outdir) if f.startswith(".") and f != ".lock"]


# ---- planted symbolic links (item 9) ---------------------------------------
# the lock and every final file: refused naming the file, target untouched,
# nothing written
for name in (".lock", "runs.csv", "journal.meta", "spec.yaml", "cells.csv", "fit.csv"):
    d = scratch("link-" + name.strip("."))
    plant_victim()
    os.symlink(victim, os.path.join(d, name))
    for extra in ([], ["--fresh"]):
        p = run([EXE, "run", spec, "-o", d, "--quiet"] + extra, expect=2)
        check(name in p.stderr and "symbolic link" in p.stderr,
              "a linked %s is refused%s: %s" % (name, " with --fresh" if extra else "", p.stderr))
        victim_intact("linked %s%s" % (name, " --fresh" if extra else ""))
    left = sorted(f for f in os.listdir(d) if f not in (name, ".lock"))
    check(left == [], "a refused run wrote nothing beside the link %s: %s" % (name, left))
    check(os.path.islink(os.path.join(d, name)), "the link %s itself is left alone" % name)

# temp names: links under the fixed names older versions used are never
# opened; the run completes and the target is untouched
d = scratch("link-temps")
plant_victim()
for name in ("journal.meta", "spec.yaml", "cells.csv", "boundary.csv", "fit.csv"):
    os.symlink(victim, os.path.join(d, ".%s.tmp" % name))
run([EXE, "run", spec, "-o", d, "--quiet"])
victim_intact("links under temp names")
check(records(d) == expected, "the run beside planted temp links is complete")

# summarize of a finished OUTDIR with a planted final file
plant_victim()
os.unlink(os.path.join(d, "boundary.csv"))
os.symlink(victim, os.path.join(d, "boundary.csv"))
p = run([EXE, "summarize", d], expect=2)
check("boundary.csv" in p.stderr and "symbolic link" in p.stderr,
      "summarize refuses a linked boundary.csv: %s" % p.stderr)
victim_intact("summarize with a linked boundary.csv")

# ---- the input spec and results without a journal (item 10) ----------------
exp = scratch("exp")
own = write(os.path.join(exp, "spec.yaml"), "# my sweep, with my comments\n" + file_text(spec))
before = file_text(own)
for extra in ([], ["--fresh"]):
    p = run([EXE, "run", own, "-o", exp, "--quiet"] + extra, expect=2)
    check("spec.yaml" in p.stderr and "input spec" in p.stderr,
          "run exp/spec.yaml -o exp %s is refused: %s" % (" ".join(extra), p.stderr))
    check(file_text(own) == before, "the input spec is untouched (%s)" % " ".join(extra))
    check(sorted(os.listdir(exp)) in (["spec.yaml"], [".lock", "spec.yaml"]),
          "nothing else written: %s" % os.listdir(exp))
# compared by device and inode: another name for the same file is caught
exp2 = scratch("exp2")
os.link(own, os.path.join(exp2, "spec.yaml"))
p = run([EXE, "run", own, "-o", exp2, "--quiet", "--fresh"], expect=2)
check("input spec" in p.stderr, "a hard link of the input in OUTDIR is caught: %s" % p.stderr)
check(file_text(own) == before, "the hard-linked input spec is untouched")
# resuming from OUTDIR's own resolved spec.yaml: allowed, file kept as it is
p = run([EXE, "run", os.path.join(ref, "spec.yaml"), "-o", ref])
check(records(ref) == expected, "a run of OUTDIR/spec.yaml into OUTDIR resumes: %s" % p.stderr)
check(file_text(os.path.join(ref, "spec.yaml")) == file_text(os.path.join(d, "spec.yaml")),
      "OUTDIR/spec.yaml is the resolved spec still")

for name in ("spec.yaml", "cells.csv", "boundary.csv", "fit.csv"):
    d = scratch("nojournal-" + name.split(".")[0])
    mine = write(os.path.join(d, name), "my own %s\n" % name)
    p = run([EXE, "run", spec, "-o", d, "--quiet"], expect=2)
    check(mine in p.stderr and "no journal" in p.stderr and "--fresh" in p.stderr,
          "results-named %s without a journal is refused, named: %s" % (name, p.stderr))
    check(file_text(mine) == "my own %s\n" % name, "%s is left as it was" % name)
    check(not os.path.exists(os.path.join(d, "runs.csv")), "no journal started beside %s" % name)
    run([EXE, "run", spec, "-o", d, "--quiet", "--fresh"])
    check(records(d) == expected, "--fresh replaces %s" % name)

# ---- summarize of shards of different specs (item 3) -------------------------
other = write(os.path.join(work, "other.yaml"), FAST % {"seed": 4, "epochs": 5, "seeds": 50})
arr = scratch("mixed-shards")
run([EXE, "run", spec, "-o", arr, "--quiet", "--shard", "0/2"])
run([EXE, "run", other, "-o", arr, "--quiet", "--shard", "1/2"])
p = run([EXE, "summarize", arr], expect=2)
s0, s1 = (os.path.join(arr, "shard-%d-of-2" % k) for k in (0, 1))
check(s0 in p.stderr and s1 in p.stderr and "another spec" in p.stderr,
      "shards of two specs are refused, both named: %s" % p.stderr)
check(sorted(f for f in os.listdir(arr) if not f.startswith(".")) ==
      ["shard-0-of-2", "shard-1-of-2"], "nothing merged: %s" % os.listdir(arr))
# the same spec in both shards merges
run([EXE, "run", spec, "-o", arr, "--quiet", "--shard", "1/2", "--fresh"])
run([EXE, "summarize", arr])
check(records(arr) == expected, "shards of one spec merge to the whole sweep")

# ---- run and summarize side by side (item 16) ---------------------------------
slow = write(os.path.join(work, "slow.yaml"), FAST % {"seed": 3, "epochs": 60, "seeds": 50})
out = scratch("side-by-side")
run([EXE, "run", slow, "-o", os.path.join(work, "slow-ref"), "--quiet"])
job = start([EXE, "run", slow, "-o", out, "--quiet"])
outcomes = []
while job.poll() is None:
    if os.path.exists(os.path.join(out, "journal.meta")):
        q = subprocess.run([EXE, "summarize", out], capture_output=True, text=True)
        outcomes.append((q.returncode, q.stderr))
    time.sleep(0.02)
_, jerr = job.communicate()
check(job.returncode == 0, "the run beside summarize finished (exit %d): %s" % (job.returncode, jerr))
check(records(out) == records(os.path.join(work, "slow-ref")), "its records are complete")
check(all("cannot rename" not in e for _, e in outcomes) and "cannot rename" not in jerr,
      "no clash of temp files: %s" % [e for _, e in outcomes if "rename" in e][:2])
check(all(rc == 0 or (rc == 2 and "in use" in e) for rc, e in outcomes),
      "summarize during a run is refused as 'in use' (or ran after it): %s" % outcomes[:3])
check(any(rc == 2 for rc, _ in outcomes), "summarize met the running job's lock (%d tries)"
      % len(outcomes))
cells = file_text(os.path.join(out, "cells.csv"))
run([EXE, "summarize", out])
check(file_text(os.path.join(out, "cells.csv")) == cells, "summarize after the run agrees with it")
check(temps_left(out) == [], "no temp files left: %s" % temps_left(out))
# two summaries at once: one may be refused, neither clashes
jobs = [start([EXE, "summarize", out]) for _ in range(4)]
for j in jobs:
    _, e = j.communicate()
    check(j.returncode == 0 or (j.returncode == 2 and "in use" in e),
          "concurrent summaries: exit %d: %s" % (j.returncode, e))

# ---- read-only, full and size-limited file systems (item 16) -------------------
mounts = []


@atexit.register
def unmount():
    for m in reversed(mounts):
        subprocess.run(["umount", "-l", m], capture_output=True)


def mount(target, *args):
    os.makedirs(target, exist_ok=True)
    p = subprocess.run(["mount"] + list(args) + [target], capture_output=True, text=True)
    if p.returncode != 0:
        print("SKIPPED: mount %s %s is not permitted here (%s); the read-only and full-disk "
              "cases need it" % (" ".join(args), target, p.stderr.strip()))
        return False
    mounts.append(target)
    return True


ro = os.path.join(work, "ro")
if mount(ro, "-t", "tmpfs", "-o", "ro", "tmpfs"):
    p = run([EXE, "run", spec, "-o", os.path.join(ro, "out"), "--quiet"], expect=1)
    check("Read-only" in p.stderr and ro in p.stderr, "a read-only file system: exit 1: %s"
          % p.stderr)
    # a finished OUTDIR seen read-only (a bind mount): resume and summarize
    # cannot lock or write it, exit 1, and it stays as it was
    robind = os.path.join(work, "robind")
    if mount(robind, "--bind", ref) and mount(robind, "-o", "remount,bind,ro"):
        for cmd in ([EXE, "run", spec, "-o", robind, "--quiet"], [EXE, "summarize", robind]):
            p = run(cmd, expect=1)
            check("Read-only" in p.stderr, "%s on a read-only OUTDIR: %s" % (cmd[1], p.stderr))
        check(records(ref) == expected, "the read-only OUTDIR is intact")

full = os.path.join(work, "full")
if mount(full, "-t", "tmpfs", "-o", "size=64k", "tmpfs"):
    out = os.path.join(full, "out")
    p = run([EXE, "run", spec, "-o", out, "--quiet"], expect=1)
    check("No space left" in p.stderr, "a full disk is exit 1 and says so: %s" % p.stderr[-600:])
    n = journal_valid(out, "full disk")
    check(0 < (n or 0) < len(expected) - 1, "the full disk stopped the sweep mid-way (%s runs)" % n)
    check(temps_left(out) == [], "no temp files left on the full disk: %s" % temps_left(out))
    moved = os.path.join(work, "full-moved")
    shutil.copytree(out, moved)
    p = run([EXE, "run", spec, "-o", moved])
    check("resuming" in p.stderr and records(moved) == expected,
          "the journal of a full disk resumes to the whole sweep")
    # no room even for OUTDIR's first file
    shutil.rmtree(out)
    try:
        write(os.path.join(full, "filler"), "x" * (80 * 1024))
    except OSError:
        pass                        # full, as wanted
    p = run([EXE, "run", spec, "-o", os.path.join(full, "late"), "--quiet"], expect=1)
    check("No space left" in p.stderr, "ENOSPC opening OUTDIR is exit 1: %s" % p.stderr[-600:])

# `ulimit -f`: past the limit a write fails with EFBIG instead of SIGXFSZ
# killing the process.  Under mpirun so that the limit binds only the rank
# (Open MPI's own helpers need bigger files); dash counts 512-byte blocks.
out = scratch("fsize")
p = run([MPIEXEC, "-np", "1", "sh", "-c", 'ulimit -f 64; exec "$0" "$@"', EXE, "run", spec,
         "-o", out, "--quiet"], expect=1)
check("File too large" in p.stderr, "a file size limit is exit 1 and says so: %s"
      % p.stderr[-600:])
check(os.path.getsize(os.path.join(out, "runs.csv")) <= 64 * 512, "the limit held")
n = journal_valid(out, "ulimit -f")
check(0 < (n or 0) < len(expected) - 1, "the limit stopped the sweep mid-way (%s runs)" % n)
p = run([EXE, "run", spec, "-o", out])
check("resuming" in p.stderr and records(out) == expected,
      "the journal cut by ulimit -f resumes to the whole sweep")
done()
