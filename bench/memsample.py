#!/usr/bin/python3
"""Runs a command and samples the memory of its rank processes.

usage: memsample.py [--interval S] --exe PATH -- COMMAND...

Rank processes are the descendants of COMMAND (e.g. mpirun) whose
/proc/PID/exe is PATH.  Every `interval` seconds (default 0.2) it reads, for
each of them, VmRSS and VmHWM from /proc/PID/status and Pss from
/proc/PID/smaps_rollup, and keeps:

  peak_rss_sum   the largest sum of VmRSS over the ranks alive at one sample
  peak_pss_sum   the same for Pss (shared pages split between the processes
                 that map them: the honest total)
  hwm_sum        sum over ranks of the last VmHWM seen (each rank's own peak
                 RSS, not necessarily simultaneous; shared pages counted in
                 every rank)
  steady_rss_sum, steady_pss_sum
                 medians of those sums over the samples at which all ranks
                 were alive (the training phase, after the dataset was
                 loaded; the peak also holds the node leader's transient
                 private copy of the dataset, freed once it is in the shared
                 window)
  ranks          distinct rank processes seen

Prints one line `MEM key=value ...` (KiB) and exits with COMMAND's status.
"""
import argparse
import os
import statistics
import subprocess
import sys
import time


def children_map():
    """pid -> ppid for every process."""
    out = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                s = f.read()
            # the comm field may hold spaces: ppid is the 2nd field after ')'
            out[int(d)] = int(s[s.rindex(")") + 2:].split()[1])
        except (OSError, ValueError):
            pass
    return out


def descendants(root):
    ppid = children_map()
    kids = {}
    for p, pp in ppid.items():
        kids.setdefault(pp, []).append(p)
    out, todo = [], [root]
    while todo:
        p = todo.pop()
        for c in kids.get(p, []):
            out.append(c)
            todo.append(c)
    return out


def read_kib(path, key):
    with open(path) as f:
        for line in f:
            if line.startswith(key):
                return int(line.split()[1])
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--interval", type=float, default=0.2)
    ap.add_argument("--exe", required=True)
    ap.add_argument("cmd", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    cmd = a.cmd[1:] if a.cmd and a.cmd[0] == "--" else a.cmd
    exe = os.path.realpath(a.exe)

    t0 = time.monotonic()
    proc = subprocess.Popen(cmd)
    peak_rss = peak_pss = 0
    hwm = {}
    samples = 0
    sums = []                       # (nranks, rss_sum, pss_sum) per sample
    while True:
        rss_sum = pss_sum = alive = 0
        ranks = [proc.pid] + descendants(proc.pid)
        for p in ranks:
            try:
                if os.path.realpath(f"/proc/{p}/exe") != exe:
                    continue
                rss = read_kib(f"/proc/{p}/status", "VmRSS:")
                h = read_kib(f"/proc/{p}/status", "VmHWM:")
                pss = read_kib(f"/proc/{p}/smaps_rollup", "Pss:")
            except OSError:
                continue            # exited between listing and reading
            if rss is None or pss is None or h is None:
                continue
            alive += 1
            rss_sum += rss
            pss_sum += pss
            hwm[p] = h
        peak_rss = max(peak_rss, rss_sum)
        peak_pss = max(peak_pss, pss_sum)
        samples += 1
        sums.append((alive, rss_sum, pss_sum))
        if proc.poll() is not None:
            break
        time.sleep(a.interval)
    wall = time.monotonic() - t0
    full = [x for x in sums if x[0] == len(hwm) and x[0] > 0]
    steady_rss = statistics.median([x[1] for x in full]) if full else 0
    steady_pss = statistics.median([x[2] for x in full]) if full else 0
    print(f"MEM ranks={len(hwm)} peak_rss_sum_kib={peak_rss} peak_pss_sum_kib={peak_pss} "
          f"hwm_sum_kib={sum(hwm.values())} steady_rss_sum_kib={steady_rss:.0f} "
          f"steady_pss_sum_kib={steady_pss:.0f} samples={samples} wall_s={wall:.2f}")
    sys.exit(proc.returncode)


if __name__ == "__main__":
    main()
