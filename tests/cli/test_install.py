"""Installing initsweep the way HPC sites do, for real:

- `cmake --install BUILD --prefix P`: the binary, initsweep-plot and
  initsweep-plot-trace as commands, the man page initsweep(1) (rendered by
  man, no groff warnings, every command, option and spec key on it), the
  sweeps with their data, the Slurm templates and a modulefile;
- `module load initsweep` (Debian's environment-modules) puts that
  installation on PATH and MANPATH, keeps man's default pages, and
  `initsweep --version` runs; unloading takes it off again;
- the installation, copied elsewhere, still works (the tools find their
  scripts relative to themselves);
- `cpack`'s .deb: its fields and contents; as root it is installed with
  dpkg, the quickstart runs from the installed copy in a scratch directory
  into results/quickstart and initsweep-plot draws it, then it is removed
  again (unless it was installed before).  Without root the package is
  unpacked with dpkg-deb -x and run from there instead."""
import os
import shutil
import subprocess

from common import EXE, SRC, check, done, run, scratch

BUILD = os.path.dirname(os.path.abspath(EXE))
VERSION = run([EXE, "--version"]).stdout.strip()      # "initsweep 0.1.0"
ENV = dict(os.environ, MANPAGER="cat", MANWIDTH="100", PAGER="cat")
QUICK = ["--set", "sweep.seed={range: [0, 2]}", "--set", "sweep.init.scale={logspace: [0.25, 4, 3]}",
         "--set", "sweep.train.lr={logspace: [0.001, 10, 9]}", "--set", "refine.enabled=false"]


def shell(script, **kw):
    return run(["bash", "-c", script], env=ENV, **kw)


def check_plots(plots, what):
    """Every plot is a real, non-blank image."""
    for stem in ("stability", "outcomes", "law"):
        path = os.path.join(plots, stem + ".png")
        ok = os.path.isfile(path) and os.path.getsize(path) > 5000
        if ok:
            p = run(["/usr/bin/python3", "-c",
                     "import sys, matplotlib.image as m; a = m.imread(sys.argv[1]); "
                     "print(float(a[..., :3].std()))", path])
            ok = float(p.stdout) > 0.02
        check(ok, "%s: %s is a drawn image" % (what, path))


def check_tree(prefix, what):
    """The files an installation must hold, and that they work from there."""
    for rel in ("bin/initsweep", "bin/initsweep-plot", "bin/initsweep-plot-trace",
                "bin/initsweep-report"):
        path = os.path.join(prefix, rel)
        check(os.path.isfile(path) and os.access(path, os.X_OK), "%s: %s executable" % (what, rel))
    share = os.path.join(prefix, "share", "initsweep")
    for rel in ("sweeps/quickstart.yaml", "sweeps/catapult_uv.yaml", "data/uv_one_sample.csv",
                "slurm/initsweep.sbatch", "slurm/submit.sh", "analysis/plot.py",
                "analysis/initsweep_results.py", "analysis/report.py", "analysis/schema.json"):
        check(os.path.isfile(os.path.join(share, rel)), "%s: share/initsweep/%s" % (what, rel))
    check(os.access(os.path.join(share, "slurm", "submit.sh"), os.X_OK),
          "%s: slurm/submit.sh keeps its mode" % what)
    p = run([os.path.join(prefix, "bin", "initsweep"), "--version"])
    check(p.stdout.strip() == VERSION, "%s: --version %s" % (what, p.stdout.strip()))
    p = run([os.path.join(prefix, "bin", "initsweep-plot"), "--help"])
    check("stability" in p.stdout, "%s: initsweep-plot runs plot.py" % what)
    # a spec's data path is relative to the spec: the installed sweeps find
    # the installed data
    p = run([os.path.join(prefix, "bin", "initsweep"), "plan",
             os.path.join(share, "sweeps", "catapult_uv.yaml")])
    check("runs" in p.stdout, "%s: the installed catapult_uv.yaml finds its data" % what)


def check_man(page, prefix_man):
    """The page renders, without warnings, with every command, option and key."""
    p = subprocess.run(["groff", "-man", "-Tutf8", "-ww", "-z", page], capture_output=True,
                       text=True)
    check(p.returncode == 0 and p.stderr == "", "groff has no warnings: %s" % p.stderr[:500])
    text = run(["man", "-l", page], env=ENV).stdout
    for head in ("NAME", "SYNOPSIS", "COMMANDS", "OPTIONS", "SPEC KEYS", "EXIT STATUS"):
        check(head in text, "man page section %s" % head)
    for word in ("run", "plan", "train", "summarize", "--set", "--shard", "--trace",
                 "--help-keys", "fit.range"):
        check(word in text, "the man page mentions %s" % word)
    keys = [l.split()[0] for l in run([EXE, "--help-keys"]).stdout.splitlines()[1:] if l.strip()]
    missing = [k for k in keys if k not in text]
    check(len(keys) > 40 and not missing, "every spec key is on the man page (missing %s)"
          % missing[:5])
    p = run(["man", "-w", "initsweep"], env=dict(ENV, MANPATH=prefix_man))
    check(p.stdout.strip().startswith(prefix_man), "man -w finds initsweep(1): %s" % p.stdout)


def check_quickstart(bindir, sweeps, work, *extra):
    """The quickstart from an installed copy, in a scratch directory, into
    its default OUTDIR, then plotted."""
    run(["mpirun", "-np", "2", os.path.join(bindir, "initsweep"), "run",
         os.path.join(sweeps, "quickstart.yaml"), "--quiet"] + list(extra), cwd=work)
    out = os.path.join(work, "results", "quickstart")
    for f in ("runs.csv", "cells.csv", "boundary.csv", "fit.csv", "spec.yaml"):
        check(os.path.isfile(os.path.join(out, f)), "quickstart wrote %s" % f)
    run([os.path.join(bindir, "initsweep-plot"), os.path.join("results", "quickstart")], cwd=work)
    check_plots(os.path.join(out, "plots"), "quickstart from " + bindir)
    # `initsweep report` runs the installation's own report.py (the page
    # names the script that made it)
    run([os.path.join(bindir, "initsweep"), "report", os.path.join("results", "quickstart")],
        cwd=work)
    page = open(os.path.join(out, "report.html")).read()
    mine = os.path.realpath(os.path.join(bindir, "..", "share", "initsweep", "analysis",
                                         "report.py"))
    check(mine in page, "the report was made by %s" % mine)


work = scratch("install")

# ---- cmake --install into a prefix
prefix = os.path.join(work, "prefix")
run(["cmake", "--install", BUILD, "--prefix", prefix])
check_tree(prefix, "prefix")
check_man(os.path.join(prefix, "share", "man", "man1", "initsweep.1"),
          os.path.join(prefix, "share", "man"))
qs = scratch("install/qs-prefix")
check_quickstart(os.path.join(prefix, "bin"), os.path.join(prefix, "share", "initsweep", "sweeps"),
                 qs, *QUICK)

# ---- relocated: the same tree somewhere else
moved = os.path.join(work, "moved")
shutil.copytree(prefix, moved, symlinks=True)
shutil.rmtree(prefix)
check_tree(moved, "moved")

# ---- module load
modinit = "/usr/share/modules/init/bash"
check(os.path.isfile(modinit), "environment-modules is installed (scripts/install-deps.sh)")
if os.path.isfile(modinit):
    mods = os.path.join(moved, "share", "modulefiles")
    p = shell(". %s; unset MANPATH; module use %s; module load initsweep; "
              "command -v initsweep; initsweep --version; echo \"MANPATH=$MANPATH\"; "
              "man -w initsweep; man -w mpirun; module unload initsweep; "
              "command -v initsweep || echo gone" % (modinit, mods))
    lines = p.stdout.splitlines()
    check(len(lines) >= 6 and lines[0] == os.path.join(moved, "bin", "initsweep"),
          "module load puts the installation on PATH: %s" % lines[:1])
    check(VERSION in lines, "initsweep --version under the module: %s" % p.stdout)
    check(any(l.startswith("MANPATH=" + os.path.join(moved, "share", "man")) and l.endswith(":")
              for l in lines), "MANPATH has the page and keeps man's default: %s" % p.stdout)
    check(any(l.endswith("initsweep.1") for l in lines) and
          any("mpi" in l and l.startswith("/usr/share/man") for l in lines),
          "man finds initsweep(1) and still the system's pages: %s" % p.stdout)
    check(lines[-1] == "gone" or not lines[-1].startswith(moved),
          "module unload takes it off PATH: %s" % lines[-1])

# ---- the .deb
debdir = os.path.join(work, "deb")
run(["cpack", "-G", "DEB", "-B", debdir, "--config", os.path.join(BUILD, "CPackConfig.cmake")],
    cwd=BUILD)
debs = [f for f in os.listdir(debdir) if f.endswith(".deb")]
check(len(debs) == 1, "cpack made one .deb: %s" % debs)
deb = os.path.join(debdir, debs[0])
fields = run(["dpkg-deb", "-f", deb]).stdout
check("Package: initsweep" in fields and "Version: " + VERSION.split()[1] in fields,
      "the package's name and version: %s" % fields)
for dep in ("libopenblas0", "libgsl27", "libopenmpi3", "libyaml-0-2", "openmpi-bin",
            "python3-matplotlib"):
    check(dep in fields, "the package depends on %s" % dep)
listing = run(["dpkg-deb", "-c", deb]).stdout
for rel in ("./usr/bin/initsweep", "./usr/bin/initsweep-plot", "./usr/share/man/man1/initsweep.1",
            "./usr/share/initsweep/sweeps/quickstart.yaml",
            "./usr/share/modulefiles/initsweep/" + VERSION.split()[1]):
    check(rel in listing, "the package holds %s" % rel)

if os.geteuid() == 0:
    before = subprocess.run(["dpkg-query", "-W", "-f=${Status}", "initsweep"],
                            capture_output=True, text=True).stdout
    was_installed = "install ok installed" in before
    try:
        run(["dpkg", "-i", deb])
        # cpack rebuilds the binary first, whose version names the tree's
        # state now (a tree edited since the build says -dirty)
        check(run(["/usr/bin/initsweep", "--version"]).stdout.strip() ==
              run([EXE, "--version"]).stdout.strip(), "the installed /usr/bin/initsweep runs")
        p = run(["man", "-w", "initsweep"], env=ENV)
        check(p.stdout.strip().startswith("/usr/share/man/man1/initsweep.1"),
              "man initsweep finds the installed page: %s" % p.stdout)
        qs = scratch("install/qs-deb")
        check_quickstart("/usr/bin", "/usr/share/initsweep/sweeps", qs)
    finally:
        if not was_installed:
            run(["dpkg", "-r", "initsweep"])
    if not was_installed:
        check(not os.path.exists("/usr/bin/initsweep"), "dpkg -r removed it again")
else:
    root = os.path.join(work, "unpacked")
    run(["dpkg-deb", "-x", deb, root])
    check_tree(os.path.join(root, "usr"), "unpacked .deb")
    qs = scratch("install/qs-deb")
    check_quickstart(os.path.join(root, "usr", "bin"),
                     os.path.join(root, "usr", "share", "initsweep", "sweeps"), qs, *QUICK)
done()
