"""The Slurm scripts on a real one-node Slurm started by this test.

Installs slurm-wlm and munge when missing, starts munged, slurmctld and
slurmd on this host with a private configuration, key, socket and ports
under the scratch dir, and then:
  (a) slurm/initsweep.sbatch (srun --mpi=pmix, 2 ranks) gives the records
      and statistics of a local `mpirun -np 2` run;
  (b) a job sent its time-limit warning mid-sweep (its time limit is cut so
      that Slurm's own `--signal=TERM@120` fires) exits 3 with the journal
      flushed, requeues itself and completes with the local run's results;
  (c) slurm/submit.sh --array 4 runs four shards and a dependent summarize
      job whose merged results equal the MPI run's;
  (d) a job cancelled with scancel mid-sweep is not requeued;
  (e) a 2-task job array whose task 0 gets its time-limit warning (sent to
      the batch shell, which passes it on) requeues that task and merges to
      the MPI run's results.
Stops the daemons it started (by pid) whatever happens.  Needs root (the
daemons run as root, without systemd or cgroups)."""
import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback

from common import (EXE, FAILURES, SRC, check, done, file_text, mpi_cmd, records, run,
                    scratch)

T0 = time.time()
DEADLINE = T0 + 540  # the whole test, with the daemons, in under ten minutes
# Absolute: the jobs run in the scratch dir, the daemons wherever they chdir.
SLURM_DIR = os.path.abspath(os.path.join(SRC, "slurm"))
SPEC = os.path.abspath(os.path.join(SRC, "sweeps", "quickstart.yaml"))
SMALL = ["--set", "sweep.seed={range: [0, 2]}", "--set", "sweep.init.scale=[0.25, 4]",
         "--set", "sweep.train.lr={logspace: [0.01, 10, 7]}", "--set", "train.epochs=30"]
# Twice the quickstart's seeds (4536 runs): with three of them side by side
# on 2 cores, a minute or more, long enough to be warned mid-sweep.
BIG = ["--set", "sweep.seed={range: [0, 12]}"]


# The daemons (and so the jobs) and the local reference runs share two
# cores, whatever the machine has: the timing of test_time_limits relies on
# the jobs running side by side on them.
PIN = sorted(os.sched_getaffinity(0))[:2]


def pin():
    os.sched_setaffinity(0, PIN)


# Job states after which a job does not run again by itself; anything else
# (PENDING, RUNNING, SIGNALING, COMPLETING, REQUEUED, ...) is on its way.
FINAL = {"COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "OUT_OF_MEMORY",
         "BOOT_FAIL", "DEADLINE", "PREEMPTED"}


def log(msg):
    print("[%5.1fs] %s" % (time.time() - T0, msg), flush=True)


def fail(msg):
    raise RuntimeError(msg)


def left(limit):
    """Seconds a wait may take: its own limit, cut by the test's deadline."""
    return max(1.0, min(limit, DEADLINE - time.time()))


# ---------------------------------------------------------------- set-up --

def ensure_packages():
    need = [c for c in ("slurmctld", "slurmd", "sbatch", "munged") if not shutil.which(c)]
    if not need:
        return
    if os.geteuid() != 0:
        fail("slurm-wlm and munge are not installed (missing %s) and this is not root"
             % ", ".join(need))
    log("installing slurm-wlm munge (missing %s)" % ", ".join(need))
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for cmd in (["apt-get", "update", "-qq"],
                ["apt-get", "install", "-y", "-qq", "--no-install-recommends",
                 "slurm-wlm", "munge"]):
        p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
        if p.returncode != 0:
            fail("%s failed:\n%s%s" % (" ".join(cmd), p.stdout[-2000:], p.stderr[-2000:]))
    missing = [c for c in ("slurmctld", "slurmd", "sbatch", "munged") if not shutil.which(c)]
    if missing:
        fail("still missing after apt-get: %s" % ", ".join(missing))


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def mem_mb():
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) // 1024
    return 1024


def all_can_enter(path):
    """munged wants its socket's directory and every parent searchable by all."""
    path = os.path.abspath(path)
    while True:
        if not os.stat(path).st_mode & 0o001:
            return False
        parent = os.path.dirname(path)
        if parent == path:
            return True
        path = parent


def pmix_plugin():
    pats = ["/usr/lib/*/slurm-wlm/mpi_pmix.so", "/usr/lib*/slurm-wlm/mpi_pmix.so",
            "/usr/lib*/slurm/mpi_pmix.so", "/usr/local/lib*/slurm/mpi_pmix.so"]
    return any(glob.glob(p) for p in pats)


class Cluster:
    """munged + slurmctld + slurmd in the foreground (-F/-D) as children of
    this process, so that their pids are known and they stop with it."""

    def __init__(self, root):
        self.root = root
        self.procs = []          # (name, Popen), in start order
        self.extra_tmp = None    # a /tmp dir for the munge socket, if needed
        self.host = socket.gethostname().split(".")[0]
        self.log_dir = os.path.join(root, "log")
        for d in ("state", "spool", "log", "munge", "tmp"):
            os.makedirs(os.path.join(root, d), exist_ok=True)
        os.chmod(root, 0o755)
        os.chmod(os.path.join(root, "munge"), 0o755)
        sock_dir = os.path.join(root, "munge")
        if len(sock_dir) > 80 or not all_can_enter(sock_dir):
            self.extra_tmp = tempfile.mkdtemp(prefix="isw-munge-")
            os.chmod(self.extra_tmp, 0o755)
            sock_dir = self.extra_tmp
        self.socket = os.path.join(sock_dir, "munge.sock")
        self.key = os.path.join(root, "munge", "munge.key")
        self.conf = os.path.join(root, "slurm.conf")
        self.env = {k: v for k, v in os.environ.items()
                    if not k.startswith(("SLURM_", "SBATCH_", "SALLOC_", "SRUN_"))}
        self.env["SLURM_CONF"] = self.conf
        self.env["INITSWEEP"] = os.path.abspath(EXE)
        self.env["OPENBLAS_NUM_THREADS"] = "1"

    def write_config(self):
        # munge wants a key only its user (root here) can read.
        with open(self.key, "wb") as f:
            f.write(os.urandom(1024))
        os.chmod(self.key, 0o600)
        r = self.root
        # 4 CPUs on the 2 of PIN (config_overrides): the warned MPI job and
        # job array run side by side (see test_time_limits).
        cpus = 4
        conf = f"""# A one-node test cluster (tests/cli/test_slurm.py); everything under {r}
ClusterName=iswtest
SlurmctldHost={self.host}(127.0.0.1)
SlurmctldPort={free_port()}
SlurmdPort={free_port()}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket={self.socket}
StateSaveLocation={r}/state
SlurmdSpoolDir={r}/spool
SlurmctldPidFile={r}/slurmctld.pid
SlurmdPidFile={r}/slurmd.pid
SlurmctldLogFile={r}/log/slurmctld.log
SlurmdLogFile={r}/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
# no cgroups, no systemd here
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SwitchType=switch/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault={"pmix" if pmix_plugin() else "none"}
ReturnToService=2
SlurmdParameters=config_overrides
SchedulerType=sched/builtin
SchedulerParameters=sched_interval=5
KillWait=5
MinJobAge=900
JobRequeue=1
# job and PMIx scratch (srun --mpi=pmix) here, not in /tmp
TmpFS={r}/tmp
MailProg=/bin/true
NodeName={self.host} NodeAddr=127.0.0.1 CPUs={cpus} RealMemory={mem_mb() * 9 // 10} State=UNKNOWN
PartitionName=test Nodes={self.host} Default=YES MaxTime=INFINITE State=UP
"""
        with open(self.conf, "w") as f:
            f.write(conf)

    def spawn(self, name, cmd):
        out = open(os.path.join(self.log_dir, name + ".stdout"), "w")
        p = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=self.env,
                             start_new_session=True, preexec_fn=pin)
        out.close()
        self.procs.append((name, p))
        log("started %s (pid %d)" % (name, p.pid))
        return p

    def alive(self):
        for name, p in self.procs:
            if p.poll() is not None:
                fail("%s exited (status %s)" % (name, p.returncode))

    def start(self):
        self.write_config()
        self.spawn("munged", ["munged", "-F", "--key-file=" + self.key,
                              "--socket=" + self.socket,
                              "--pid-file=" + os.path.join(self.root, "munged.pid"),
                              "--log-file=" + os.path.join(self.log_dir, "munged.log"),
                              "--seed-file=" + os.path.join(self.root, "munged.seed")])
        self.wait_for(lambda: os.path.exists(self.socket), 20, "munged's socket")
        self.spawn("slurmctld", ["slurmctld", "-D", "-c", "-f", self.conf])
        self.wait_for(lambda: self.cmd(["scontrol", "ping"], check=False).returncode == 0
                      and "UP" in self.cmd(["scontrol", "ping"], check=False).stdout,
                      30, "slurmctld to answer")
        self.spawn("slurmd", ["slurmd", "-D", "-f", self.conf, "-N", self.host])
        self.wait_for(lambda: self.cmd(["sinfo", "-h", "-N", "-o", "%T"],
                                       check=False).stdout.strip() == "idle",
                      60, "the node to be idle")
        log("cluster up: node %s idle" % self.host)

    def wait_for(self, cond, limit, what):
        end = time.time() + left(limit)
        while time.time() < end:
            self.alive()
            if cond():
                return
            time.sleep(0.5)
        fail("timed out waiting for %s" % what)

    def cmd(self, args, check=True, timeout=60, **kw):
        p = subprocess.run(args, capture_output=True, text=True, env=kw.pop("env", self.env),
                           timeout=timeout, **kw)
        if check and p.returncode != 0:
            fail("%s: exit %d\n%s%s" % (" ".join(args), p.returncode, p.stdout, p.stderr))
        return p

    def job(self, jobid):
        """scontrol show job as a list of {key: value}, one per job (an array
        gives one per task)."""
        p = self.cmd(["scontrol", "-o", "show", "job", str(jobid)], check=False)
        jobs = []
        for line in p.stdout.splitlines():
            fields = {}
            for word in line.split():
                if "=" in word:
                    k, v = word.split("=", 1)
                    fields.setdefault(k, v)
            if fields:
                jobs.append(fields)
        return jobs

    def wait_job(self, jobid, limit, states=("COMPLETED",)):
        """Waits until every task of the job is finished; returns them."""
        end = time.time() + left(limit)
        while time.time() < end:
            self.alive()
            jobs = self.job(jobid)
            if jobs and all(j.get("JobState") in FINAL for j in jobs):
                for j in jobs:
                    check(j["JobState"] in states, "job %s ended %s (expected %s)"
                          % (j.get("JobId"), j["JobState"], "/".join(states)))
                return jobs
            time.sleep(1)
        fail("job %s not done after %d s: %s" % (jobid, limit, self.job(jobid)))

    def sbatch(self, args, env=None, cwd=None):
        p = self.cmd(["sbatch", "--parsable"] + args, env=env or self.env, cwd=cwd)
        return p.stdout.strip().split(";")[0]

    def stop(self):
        if any(name == "slurmctld" and p.poll() is None for name, p in self.procs):
            # No job outlives the test: cancel what is left, give it a moment.
            self.cmd(["scancel", "--user=root"], check=False, timeout=20)
            end = time.time() + 20
            while time.time() < end:
                p = self.cmd(["squeue", "-h"], check=False, timeout=20)
                if p.returncode != 0 or not p.stdout.strip():
                    break
                time.sleep(1)
        for name, p in reversed(self.procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait(timeout=10)
                log("stopped %s (pid %d)" % (name, p.pid))
        if self.extra_tmp:
            shutil.rmtree(self.extra_tmp, ignore_errors=True)

    def diagnostics(self, work):
        sys.stderr.write("---- diagnostics\n")
        for f in ("slurmctld.log", "slurmd.log", "munged.log", "slurmctld.stdout",
                  "slurmd.stdout", "munged.stdout"):
            path = os.path.join(self.log_dir, f)
            if os.path.exists(path):
                lines = file_text(path).splitlines()[-40:]
                sys.stderr.write("---- %s (last %d lines)\n%s\n" % (f, len(lines), "\n".join(lines)))
        for path in sorted(glob.glob(os.path.join(work, "initsweep*.out"))):
            sys.stderr.write("---- %s\n%s\n" % (path, file_text(path)[-3000:]))
        try:
            p = self.cmd(["squeue"], check=False, timeout=10)
            sys.stderr.write("---- squeue\n%s%s\n" % (p.stdout, p.stderr))
            p = self.cmd(["sinfo", "-N", "-l"], check=False, timeout=10)
            sys.stderr.write("---- sinfo\n%s%s\n" % (p.stdout, p.stderr))
        except (OSError, subprocess.SubprocessError):
            pass


# ---------------------------------------------------------------- checks --

def same_results(out, ref, what):
    for f in ("runs.csv", "cells.csv", "boundary.csv", "fit.csv"):
        if not check(os.path.exists(os.path.join(out, f)), "%s: %s written" % (what, f)):
            return
    check(records(out) == records(ref), "%s: runs.csv (sorted, without seconds) equals the "
          "local run's" % what)
    for f in ("cells.csv", "boundary.csv", "fit.csv"):
        check(file_text(os.path.join(out, f)) == file_text(os.path.join(ref, f)),
              "%s: %s equals the local run's" % (what, f))


LOCAL = []  # local reference runs in the background, stopped in main's finally


def start_local(cmd, logpath):
    with open(logpath, "w") as f:
        p = subprocess.Popen(cmd, stdout=f, stderr=subprocess.STDOUT, start_new_session=True,
                             env=dict(os.environ, OPENBLAS_NUM_THREADS="1"), preexec_fn=pin)
    LOCAL.append(p)
    return p


def data_lines(outdir):
    path = os.path.join(outdir, "runs.csv")
    if not os.path.exists(path):
        return 0
    with open(path) as f:
        return max(0, sum(1 for _ in f) - 1)


def wait_running_mid(c, jobid, outdir, lines, limit):
    """Waits until the job runs and its journal holds at least `lines` runs."""
    end = time.time() + left(limit)
    while time.time() < end:
        c.alive()
        j = c.job(jobid)
        state = j[0].get("JobState") if j else None
        if state == "RUNNING" and data_lines(outdir) >= lines:
            return j[0]
        if state in FINAL:
            fail("job %s ended (%s) before it was signalled: make the sweep bigger" % (jobid, state))
        time.sleep(0.2)
    fail("job %s did not get to %d runs in %d s" % (jobid, lines, limit))


def seconds(hms):
    """Slurm's [D-]HH:MM:SS as seconds."""
    days, _, hms = hms.rpartition("-")
    parts = [int(x) for x in hms.split(":")]
    while len(parts) < 3:
        parts.insert(0, 0)
    return int(days or 0) * 86400 + parts[0] * 3600 + parts[1] * 60 + parts[2]


def cut_time_limit(c, jobid, j, journal, what):
    """Cuts the running job's time limit so that its end is 90-150 s away:
    the warning of the script's --signal=...TERM@120 (Slurm checks limits
    every 30 s and sends it up to 30 s early) is then due at once, the limit
    itself not yet.  Returns the runs journaled at the cut."""
    elapsed = seconds(j["RunTime"])
    limit_min = (elapsed + 150) // 60
    c.cmd(["scontrol", "update", "JobId=" + jobid, "TimeLimit=%d" % limit_min])
    lines = data_lines(journal)
    log("%s job %s at %d runs after %d s: time limit cut to %d min"
        % (what, jobid, lines, elapsed, limit_min))
    return lines


def release(c, jobid):
    """Slurm holds a requeued job for about two minutes (BeginTime) while
    the first attempt is cleaned up; a site would wait, the test lets it go
    in a few seconds (not at once: slurmd refuses a job whose previous
    attempt ended within the same second, "credential revoked"), with its
    time limit lifted so that the second attempt is not warned again."""
    c.cmd(["scontrol", "update", "JobId=" + jobid, "TimeLimit=UNLIMITED"], check=False)
    c.cmd(["scontrol", "update", "JobId=" + jobid, "StartTime=now+5"], check=False)


def check_requeue_log(path, what):
    """The log of a job that was warned once: the first attempt exited 3
    and requeued the job, the second attempt finished.  Returns the first
    attempt's part."""
    text = file_text(path)
    first, _, second = text.partition("attempt 2")
    check("exited with status 3" in first and "requeueing job" in first,
          "%s: the first attempt exited 3 and the job requeued itself:\n%s" % (what, text))
    check("exited with status 0" in second, "%s: the second attempt finished:\n%s"
          % (what, text))
    return first


def test_mpi_job(c, work, ref):
    """(a) the batch script, arguments on its command line."""
    out = os.path.join(work, "a-out")
    t = time.time()
    jid = c.sbatch(["--ntasks=2", SLURM_DIR + "/initsweep.sbatch", SPEC, out, "--quiet"] + SMALL,
                   cwd=work)
    jobs = c.wait_job(jid, 180)
    log("(a) MPI job %s: %s in %.0f s" % (jid, jobs[0]["JobState"], time.time() - t))
    check(jobs[0].get("ExitCode") == "0:0", "(a) exit code 0:0: %s" % jobs[0].get("ExitCode"))
    check(jobs[0].get("NumTasks") == "2", "(a) 2 tasks: %s" % jobs[0].get("NumTasks"))
    text = file_text(os.path.join(work, "initsweep-%s.out" % jid))
    check("srun --mpi=pmix" in text and "exited with status 0" in text,
          "(a) the job log shows srun and status 0:\n%s" % text)
    same_results(out, ref, "(a) MPI job")


def test_time_limits(c, work):
    """(b) and (e): Slurm's time-limit warning mid-sweep, requeue, resume,
    for the MPI job (spec from INITSWEEP_SPEC/OUTDIR/ARGS this time) and for
    task 0 of a 2-task job array.  Both run side by side with the local
    reference run (the node's CPUs are oversubscribed on purpose): each is
    then slow enough to be mid-sweep when the warning comes (up to 30 s
    after the cut), and the three take the time of one."""
    ref = os.path.join(work, "ref-big")
    t = time.time()
    refp = start_local(mpi_cmd(2, "run", SPEC, "-o", ref, "--quiet", *BIG),
                       os.path.join(work, "ref-big.log"))
    out_b = os.path.join(work, "b-out")
    env = dict(c.env, INITSWEEP_SPEC=SPEC, INITSWEEP_OUTDIR=out_b,
               INITSWEEP_ARGS="--quiet " + " ".join("'%s'" % a for a in BIG))
    jb = c.sbatch(["--ntasks=2", SLURM_DIR + "/initsweep.sbatch"], env=env, cwd=work)
    out_e = os.path.join(work, "e-out")
    p = c.cmd([SLURM_DIR + "/submit.sh", SPEC, "-o", out_e, "--array", "2", "--", "--quiet"]
              + BIG, cwd=work)
    ids = p.stdout.split()
    if not check(len(ids) == 2, "(e) submit.sh prints two job ids: %r" % p.stdout):
        return
    targets = {jb: (out_b, "(b)"), ids[0] + "_0": (os.path.join(out_e, "shard-0-of-2"), "(e)")}

    cut = {}  # job id: [runs at the cut, time of the cut, requeued]
    end = time.time() + left(240)
    while time.time() < end and not (len(cut) == len(targets)
                                     and all(v[2] for v in cut.values())):
        c.alive()
        for jid, (journal, what) in targets.items():
            jobs = c.job(jid)
            j = jobs[0] if jobs else {}
            state = j.get("JobState")
            if jid not in cut:
                if state == "RUNNING" and data_lines(journal) >= 150:
                    cut[jid] = [cut_time_limit(c, jid, j, journal, what), time.time(), False]
                elif state in FINAL:
                    fail("%s job %s ended %s before its time-limit cut" % (what, jid, state))
            elif not cut[jid][2]:
                if int(j.get("Restarts", "0")) >= 1:
                    cut[jid][2] = True
                    log("%s requeued %.0f s after the cut with %d runs journaled"
                        % (what, time.time() - cut[jid][1], data_lines(journal)))
                    release(c, jid)
                elif state in FINAL:
                    fail("%s job %s ended %s instead of being requeued: %s"
                         % (what, jid, state, "the sweep ended before the warning came"
                            if state == "COMPLETED" else ""))
        time.sleep(0.3)
    if not (len(cut) == len(targets) and all(v[2] for v in cut.values())):
        fail("the jobs were not cut and requeued in time: %s" % cut)

    jobs = c.wait_job(jb, 300)
    log("(b) job %s: %s after %s restart(s) in %.0f s"
        % (jb, jobs[0]["JobState"], jobs[0].get("Restarts"), time.time() - t))
    check(int(jobs[0].get("Restarts", "0")) >= 1, "(b) restart count >= 1: %s"
          % jobs[0].get("Restarts"))
    check(jobs[0].get("ExitCode") == "0:0", "(b) final exit code 0:0: %s"
          % jobs[0].get("ExitCode"))
    tasks = c.wait_job(ids[0], 300)
    summ = c.wait_job(ids[1], 120)
    restarts = {j.get("ArrayTaskId"): int(j.get("Restarts", "0")) for j in tasks}
    log("(e) array %s + summarize %s: %s in %.0f s, restarts %s"
        % (ids[0], ids[1], summ[0]["JobState"], time.time() - t, restarts))
    check(restarts.get("0", 0) >= 1 and restarts.get("1") == 0,
          "(e) task 0 was requeued, task 1 not: %s" % restarts)
    try:
        refp.wait(timeout=left(300))
    except subprocess.TimeoutExpired:
        fail("the local reference run did not finish")
    if not check(refp.returncode == 0, "the local reference run exited %s: see %s"
                 % (refp.returncode, os.path.join(work, "ref-big.log"))):
        return
    log("local reference (mpirun -np 2, %d runs) done in %.0f s"
        % (data_lines(ref), time.time() - t))

    first = check_requeue_log(os.path.join(work, "initsweep-%s.out" % jb), "(b)")
    check("Exited with exit code 3" in first and "got SIG" not in first,
          "(b) Slurm signalled the ranks themselves (not the batch shell), they exited 3")
    check(0 < cut[jb][0] < data_lines(out_b), "(b) runs before and after the warning")
    same_results(out_b, ref, "(b) warned and requeued MPI job")
    first = check_requeue_log(os.path.join(work, "initsweep-%s_0.out" % ids[0]), "(e)")
    check("got SIGTERM, passing it to initsweep" in first,
          "(e) the batch shell got the warning and passed it on")
    same_results(out_e, ref, "(e) warned and requeued job array")


def test_array(c, work, ref):
    """(c) submit.sh --array 4 and its summarize job."""
    out = os.path.join(work, "c-out")
    t = time.time()
    p = c.cmd([SLURM_DIR + "/submit.sh", SPEC, "-o", out, "--array", "4", "--time", "10",
               "--", "--quiet"] + SMALL, cwd=work)
    ids = p.stdout.split()
    if not check(len(ids) == 2 and all(i.isdigit() for i in ids),
                 "(c) submit.sh prints the array's and the summarize job's ids: %r" % p.stdout):
        return
    dep = c.job(ids[1])[0].get("Dependency", "")
    check(("afterok:%s" % ids[0]) in dep, "(c) the summarize job waits for the array: %s" % dep)
    tasks = c.wait_job(ids[0], 240)
    check(len(tasks) == 4, "(c) 4 array tasks: %d" % len(tasks))
    check(sorted(j.get("ArrayTaskId") for j in tasks) == ["0", "1", "2", "3"],
          "(c) array tasks 0-3: %s" % [j.get("ArrayTaskId") for j in tasks])
    summ = c.wait_job(ids[1], 120)
    log("(c) array %s + summarize %s: %s in %.0f s"
        % (ids[0], ids[1], summ[0]["JobState"], time.time() - t))
    for k in range(4):
        check(os.path.exists(os.path.join(out, "shard-%d-of-4" % k, "runs.csv")),
              "(c) shard %d of 4 written" % k)
    text = file_text(os.path.join(work, "initsweep-summarize-%s.out" % ids[1]))
    check("merged 4 shards" in text, "(c) summarize merged 4 shards:\n%s" % text)
    same_results(out, ref, "(c) job array")


def test_submit_errors(work):
    """submit.sh refuses bad arguments before it calls sbatch."""
    cases = [([], "SPEC"), ([SPEC, "--bogus"], "unknown option --bogus"),
             ([SPEC, "--array", "4"], "--array needs -o OUTDIR"),
             ([SPEC, "-o", "x", "--array", "4", "--tasks", "2"], "no --nodes or --tasks"),
             ([SPEC, "--tasks", "0"], "positive integer"),
             ([SPEC, "--array", "x"], "positive integer"),
             ([os.path.join(work, "missing.yaml")], "no spec file"),
             ([SPEC, "--time"], "--time needs a value")]
    for args, msg in cases:
        p = subprocess.run([SLURM_DIR + "/submit.sh"] + args, capture_output=True, text=True,
                           timeout=30, cwd=work)
        check(p.returncode == 2 and msg in p.stderr and not p.stdout,
              "submit.sh %s: exit %d, %r" % (" ".join(args), p.returncode, p.stderr))


def test_cancel(c, work):
    """(d) scancel mid-sweep: the job ends CANCELLED and is not requeued."""
    out = os.path.join(work, "d-out")
    p = c.cmd([SLURM_DIR + "/submit.sh", SPEC, "-o", out, "--tasks", "2", "--", "--quiet"]
              + BIG, cwd=work)
    jid = p.stdout.strip()
    wait_running_mid(c, jid, out, 100, 120)
    c.cmd(["scancel", jid])
    jobs = c.wait_job(jid, 60, states=("CANCELLED",))
    time.sleep(8)  # past KillWait: a requeue by the script would show by now
    j = c.job(jid)[0]
    check(j.get("JobState") == "CANCELLED" and j.get("Restarts") == "0",
          "(d) a cancelled job stays cancelled: %s restarts %s" % (j.get("JobState"),
                                                                    j.get("Restarts")))
    log("(d) cancelled job %s: %s, restarts %s" % (jid, jobs[0]["JobState"], j.get("Restarts")))


def main():
    if os.geteuid() != 0:
        fail("this test starts slurmctld/slurmd as root; run it as root")
    ensure_packages()
    work = os.path.abspath(scratch("slurm"))
    os.chmod(work, 0o755)
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1")

    t = time.time()
    ref_small = os.path.join(work, "ref-small")
    run(mpi_cmd(2, "run", SPEC, "-o", ref_small, "--quiet", *SMALL), env=env, timeout=300)
    log("local reference (mpirun -np 2) in %.0f s: %d runs"
        % (time.time() - t, data_lines(ref_small)))

    test_submit_errors(work)

    c = Cluster(os.path.join(work, "cluster"))
    ok = False
    try:
        c.start()
        test_mpi_job(c, work, ref_small)
        test_time_limits(c, work)
        test_array(c, work, ref_small)
        test_cancel(c, work)
        ok = not FAILURES
    except Exception as e:  # noqa: BLE001 -- any failure: report, stop the daemons
        traceback.print_exc()
        check(False, "%s: %s" % (type(e).__name__, e))
    finally:
        for p in LOCAL:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
        if not ok:
            c.diagnostics(work)
        c.stop()
    log("total %.0f s" % (time.time() - T0))
    done()


if __name__ == "__main__":
    main()
