"""Shared helpers of the command-level tests: run initsweep, read its CSV
files, compare run records.  Each test script gets argv = [script, exe,
source dir, scratch dir] from ctest."""
import csv
import os
import shutil
import signal
import subprocess
import sys
import time

EXE, SRC, SCRATCH = sys.argv[1], sys.argv[2], sys.argv[3]
MPIEXEC = os.environ.get("MPIEXEC") or "mpirun"
FAILURES = []


def scratch(name):
    """A fresh empty directory under the test's scratch dir."""
    path = os.path.join(SCRATCH, name)
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)
    return path


def write(path, text):
    with open(path, "w") as f:
        f.write(text)
    return path


def mpi_cmd(np, *args):
    return [MPIEXEC, "--oversubscribe", "-np", str(np), EXE] + list(args)


def run(cmd, expect=0, timeout=1200, **kw):
    """Runs cmd, checks its exit status, returns the CompletedProcess."""
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kw)
    if expect is not None and p.returncode != expect:
        sys.stderr.write("command: %s\nexit %d (expected %d)\nstdout:\n%s\nstderr:\n%s\n"
                         % (" ".join(cmd), p.returncode, expect, p.stdout[-4000:],
                            p.stderr[-4000:]))
        raise SystemExit(1)
    return p


def start(cmd):
    """Starts cmd in its own process group (so the whole job can be killed)."""
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)


def children(pid):
    """Process ids whose parent is pid (from /proc)."""
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.append(int(d))
    return out


def signal_ranks(p, sig):
    """Sends sig to every rank of an mpirun job (the children of mpirun), the
    way Slurm signals every task of a step."""
    for c in children(p.pid):
        try:
            os.kill(c, sig)
        except ProcessLookupError:
            pass


def alive(pid):
    """pid exists and is not a zombie."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except OSError:
        return False


def kill_job(p, timeout=30):
    """SIGKILL of a whole mpirun job at one instant: mpirun and every rank.
    Open MPI gives each rank a process group of its own, so killing
    mpirun's group alone would leave the ranks running (and holding the
    OUTDIR lock).  Returns once none of them is left."""
    pids = children(p.pid) + [p.pid]
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    p.wait()
    wait_gone(pids, timeout)


def wait_gone(pids, timeout=30):
    """Waits (at most timeout s) until none of pids is alive."""
    deadline = time.time() + timeout
    while any(alive(pid) for pid in pids) and time.time() < deadline:
        time.sleep(0.05)


def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def records(outdir, drop=("seconds",)):
    """runs.csv as sorted lines without the given columns: the comparable
    content of a sweep."""
    with open(os.path.join(outdir, "runs.csv"), newline="") as f:
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    keep = [i for i, h in enumerate(header) if h not in drop]
    lines = [",".join(r[i] for i in keep) for r in body]
    return [",".join(header[i] for i in keep)] + sorted(lines, key=lambda l: int(l.split(",")[0]))


def file_text(path):
    with open(path) as f:
        return f.read()


def check(cond, what):
    if not cond:
        FAILURES.append(what)
        sys.stderr.write("FAIL: %s\n" % what)
    return cond


def check_near(a, b, tol, what):
    return check(abs(a - b) <= tol, "%s: %r vs %r (tol %g)" % (what, a, b, tol))


def done():
    if FAILURES:
        sys.stderr.write("%d check(s) failed\n" % len(FAILURES))
        raise SystemExit(1)
    print("ok")
