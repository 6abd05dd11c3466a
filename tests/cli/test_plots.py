"""analysis/plot.py on a known results directory (tests/data/results: 2
init.dist x 4 init.scale x 6 train.lr, boundary lr = c s^-4, fits of slope
-4; see its make_fixture.py): files in every format, PNG size and content,
panels, the drawn edges and slopes against their known values, the
homogeneity reference, layout options, and the exit-2 errors.

argv: initsweep executable, source dir, scratch dir (ctest)."""
import json
import math
import os
import shutil
import struct
import sys

from common import EXE, SRC, check, check_near, done, run, scratch

sys.dont_write_bytecode = True   # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(SRC, "analysis"))
sys.path.insert(0, os.path.join(SRC, "tests", "data", "results"))
import plot  # noqa: E402
import make_fixture  # noqa: E402

import matplotlib  # noqa: E402  (plot.py has selected Agg)
import matplotlib.image as mpimg  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.collections import QuadMesh  # noqa: E402

PY = "/usr/bin/python3"
PLOT = os.path.join(SRC, "analysis", "plot.py")
FIXTURE = os.path.join(SRC, "tests", "data", "results")
SCALES = [10 ** (j / 4) for j in range(4)]
C = {"normal": 10 ** -0.5, "uniform": 10 ** 0.5}   # boundary = C s^-4


def png_size(path):
    """(width, height) from the IHDR chunk: signature, length, 'IHDR', w, h."""
    with open(path, "rb") as f:
        head = f.read(24)
    if head[:8] != b"\x89PNG\r\n\x1a\n" or head[12:16] != b"IHDR":
        return None
    return struct.unpack(">II", head[16:24])


def colour_count(img, hexcolour, tol=3 / 255):
    """Pixels within tol of a colour (RGB, alpha ignored)."""
    rgb = np.array(matplotlib.colors.to_rgb(hexcolour))
    return int(np.all(np.abs(img[:, :, :3] - rgb) <= tol, axis=2).sum())


def plot_cmd(outdir, *args):
    return [PY, PLOT, outdir] + list(args)


def copy_fixture(name):
    d = scratch(name)
    for f in ("spec.yaml", "cells.csv", "boundary.csv", "fit.csv"):
        shutil.copy(os.path.join(FIXTURE, f), d)
    return d


def edit(path, old, new):
    with open(path) as f:
        text = f.read()
    check(old in text, "%s holds %r" % (path, old))
    with open(path, "w") as f:
        f.write(text.replace(old, new))


def loglog_slope(line):
    x, y = np.asarray(line.get_xdata(), float), np.asarray(line.get_ydata(), float)
    return (math.log(y[-1]) - math.log(y[0])) / (math.log(x[-1]) - math.log(x[0]))


# ---- every plot in every format ------------------------------------------------------------
out = scratch("all")
p = run(plot_cmd(FIXTURE, "--out", out, "--format", "png,svg,pdf", "--json"))
summary = json.loads(p.stdout)
check(summary["x"] == "init.scale", "x axis: %r" % summary["x"])
check(summary["panel"] == "init.dist", "panel axis: %r" % summary["panel"])
check(summary["panel_values"] == ["normal", "uniform"], "panels: %r" % summary["panel_values"])
for what, stem, panels in (("stability", "stability", 2), ("outcome", "outcomes", 2),
                           ("law", "law", 1)):
    fig = summary["figures"].get(what, {})
    check(fig.get("panels") == panels, "%s: %r panels, expected %d"
          % (what, fig.get("panels"), panels))
    for fmt, magic in (("png", b"\x89PNG"), ("svg", b"<?xml"), ("pdf", b"%PDF")):
        path = os.path.join(out, "%s.%s" % (stem, fmt))
        if not check(os.path.isfile(path), "%s written" % path):
            continue
        with open(path, "rb") as f:
            head = f.read(5)
        check(head.startswith(magic), "%s starts with %r: %r" % (path, magic, head))
        check(os.path.getsize(path) > 5000, "%s: %d bytes" % (path, os.path.getsize(path)))
    png = os.path.join(out, stem + ".png")
    size = png_size(png)
    check(size is not None and 1000 <= size[0] <= 4000 and 500 <= size[1] <= 3000,
          "%s: PNG size %r" % (png, size))
    img = mpimg.imread(png)
    check(img.ndim == 3 and img.shape[:2] == (size[1], size[0]),
          "%s: imread shape %r vs IHDR %r" % (png, img.shape, size))
    check(float(img[:, :, :3].std()) > 0.1, "%s: not blank (std %.3f)"
          % (png, float(img[:, :, :3].std())))
    distinct = len(np.unique((img[:, :, :3] * 255).round().astype(np.uint8).reshape(-1, 3),
                             axis=0))
    check(distinct >= 20, "%s: %d distinct colours" % (png, distinct))

# The maps' colours: viridis' ends on the stability map (p = 0 and p = 1
# both occur); on the outcome map exactly the dominant outcomes of the
# fixture -- converged, diverged, saturated, slow -- and not dead (the
# normal cells with 2 dead + 2 diverged are ties, which go to diverged) nor
# stalled.
img = mpimg.imread(os.path.join(out, "stability.png"))
viridis = plt.get_cmap("viridis")
for p_value in (0.0, 1.0):
    n = colour_count(img, viridis(p_value))
    check(n > 10000, "stability.png: %d pixels of P = %g" % (n, p_value))
img = mpimg.imread(os.path.join(out, "outcomes.png"))
for o in ("converged", "diverged", "saturated", "slow"):
    n = colour_count(img, plot.OUTCOME_COLOURS[o])
    check(n > 2000, "outcomes.png: %d pixels of %s" % (n, o))
for o in ("dead", "stalled"):
    n = colour_count(img, plot.OUTCOME_COLOURS[o])
    check(n < 50, "outcomes.png: %d pixels of absent outcome %s" % (n, o))

# --dpi scales the PNG
out_lo = scratch("dpi")
run(plot_cmd(FIXTURE, "--out", out_lo, "--which", "stability", "--dpi", "100"))
size_lo = png_size(os.path.join(out_lo, "stability.png"))
size_hi = png_size(os.path.join(out, "stability.png"))
check_near(size_lo[0] / size_hi[0], 0.5, 0.02, "PNG width at dpi 100 / dpi 200")
check(sorted(os.listdir(out_lo)) == ["stability.png"], "--which stability: %r"
      % os.listdir(out_lo))

# default --out is OUTDIR/plots
d = copy_fixture("default_out")
run(plot_cmd(d, "--which", "law"))
check(os.path.isfile(os.path.join(d, "plots", "law.png")), "OUTDIR/plots/law.png")

# ---- the drawn content against the known values -----------------------------------------
res = plot.load_results(FIXTURE)
check(res.name == "plot-fixture", "spec name: %r" % res.name)
layout = plot.choose_layout(res)

fig, axes = plot.build_stability(res, layout)
check(len(axes) == 2, "stability: %d panels" % len(axes))
check(len(fig.axes) == 3, "stability: 2 panels + colour bar, got %d axes" % len(fig.axes))
check([a.get_title() for a in axes] == ["init.dist = normal", "init.dist = uniform"],
      "panel titles %r" % [a.get_title() for a in axes])
check(fig.axes[2].get_ylabel() == "P(converged): fraction of seeds",
      "colour bar label %r" % fig.axes[2].get_ylabel())
check(axes[0].get_ylabel() == "learning rate" and axes[0].get_xlabel() == "init scale (gain)",
      "axis labels %r, %r" % (axes[0].get_ylabel(), axes[0].get_xlabel()))
check(axes[0].get_xscale() == "log" and axes[0].get_yscale() == "log", "log-log map")
for ax, dist in zip(axes, ("normal", "uniform")):
    meshes = [c for c in ax.collections if isinstance(c, QuadMesh)]
    check(len(meshes) == 4, "%s: one mesh per init.scale column, got %d" % (dist, len(meshes)))
    cells = sum(m.get_array().size for m in meshes)
    check(cells == 24, "%s: %d cells drawn, expected 4 x 6" % (dist, cells))
    # the boundary line: lr_boundary = C s^-4 at every scale
    lines = [l for l in ax.get_lines() if l.get_marker() == "o"]
    if check(len(lines) == 1, "%s: one boundary line, got %d" % (dist, len(lines))):
        x, y = lines[0].get_xdata(), lines[0].get_ydata()
        for xi, yi, s in zip(x, y, SCALES):
            check_near(xi, s, 1e-9, "%s boundary x" % dist)
            check_near(math.log(yi), math.log(C[dist] * s ** -4), 1e-9,
                       "%s boundary at s = %g" % (dist, s))
    # the divergence edge: normal at s^-4 (the tie cell's lr); uniform not in
    # range at s = 1 (a gap), then 10^(1/3 + 1 - j)
    lines = [l for l in ax.get_lines() if l.get_marker() == "v"]
    if check(len(lines) == 1, "%s: one divergence line" % dist):
        y = np.asarray(lines[0].get_ydata(), float)
        want = ([s ** -4 for s in SCALES] if dist == "normal" else
                [math.nan] + [10 ** (1 / 3 + 1 - j) for j in (1, 2, 3)])
        for yi, wi in zip(y, want):
            check((math.isnan(wi) and math.isnan(yi)) or
                  abs(math.log(yi) - math.log(wi)) < 1e-9,
                  "%s divergence edge %r, expected %r" % (dist, yi, wi))
plt.close(fig)

fig, axes = plot.build_outcomes(res, layout)
check(len(axes) == 2, "outcomes: %d panels" % len(axes))
codes = []
for ax in axes:
    vals = np.concatenate([np.ma.filled(c.get_array(), -1).ravel() for c in ax.collections
                           if isinstance(c, QuadMesh)])
    codes.append(sorted({plot.OUTCOMES[int(v)] for v in vals}))
check(codes[0] == ["converged", "diverged"], "normal panel outcomes %r" % codes[0])
check(codes[1] == ["converged", "diverged", "saturated", "slow"],
      "uniform panel outcomes %r" % codes[1])
legend = [t.get_text() for t in axes[1].get_legend().get_texts()]
check(legend == ["converged", "diverged", "saturated", "slow"], "outcome legend %r" % legend)
plt.close(fig)
row = {o: "0" for o in plot.OUTCOMES}
row.update(dead="2", diverged="2")
check(plot.dominant_outcome(row) == 1.0, "tie dead/diverged -> diverged")
row.update(dead="0", diverged="0", slow="3", stalled="3", saturated="1")
check(plot.dominant_outcome(row) == 4.0, "tie stalled/slow -> stalled")
check(math.isnan(plot.dominant_outcome({o: "0" for o in plot.OUTCOMES})), "no runs -> NaN")

fig, axes = plot.build_law(res, layout)
ax = axes[0]
check(ax.get_xscale() == "log" and ax.get_yscale() == "log", "law: log-log")
labels = [t.get_text() for t in ax.get_legend().get_texts()]
for want in ("normal, boundary: slope \u22124.00 \u00b1 0.00 (n = 4)",
             "uniform, divergence: slope \u22124.00 \u00b1 0.00 (n = 3)",
             "reference slope \u22124.00 (homogeneous, L = 3)"):
    check(want in labels, "law legend has %r: %r" % (want, labels))
refs = [l for l in ax.get_lines() if l.get_linestyle() not in ("-", ":", "None")]
fits = [l for l in ax.get_lines() if l.get_linestyle() in ("-", ":") and len(l.get_xdata()) > 2]
check(len(refs) == 2, "one reference line per series, got %d" % len(refs))
check(len(fits) == 4, "a fitted line per series and edge, got %d" % len(fits))
for l in refs + fits:
    check_near(loglog_slope(l), -4.0, 1e-6, "law line slope")
plt.close(fig)

# ---- the reference slope is omitted with the reason -------------------------------------
for old, new, reason in (("bias: false", "bias: true", "model.bias is true"),
                         ("activation: relu", "activation: tanh",
                          "activation tanh is not homogeneous"),
                         ("output: linear", "output: sigmoid", "output sigmoid is not linear")):
    d = copy_fixture("noref")
    edit(os.path.join(d, "spec.yaml"), "  " + old, "  " + new)
    r = plot.load_results(d, ("law",))
    fig, axes = plot.build_law(r, plot.choose_layout(r))
    title = axes[0].get_title()
    check("no reference slope: " + reason in title, "title %r names %r" % (title, reason))
    check(not any(l.get_linestyle() not in ("-", ":", "None") for l in axes[0].get_lines()),
          "%s: no reference line" % reason)
    plt.close(fig)
# no hidden layer: L = 1, slope 0 (the linear model's stable lr does not
# depend on the weights), whatever the activation
d = copy_fixture("linear")
edit(os.path.join(d, "spec.yaml"), "hidden: [16, 16]", "hidden: []")
edit(os.path.join(d, "spec.yaml"), "activation: relu", "activation: sigmoid")
r = plot.load_results(d, ("law",))
slope, why = plot.reference_slope(r, r.boundary.rows[0])
check(slope == 0.0 and why == "homogeneous, L = 1", "linear model reference %r %r"
      % (slope, why))
# an axis overrides the spec: model.hidden as a column of the row
slope, why = plot.reference_slope(res, {"model.hidden": "[8, 8, 8]"})
check(slope == -6.0, "model.hidden axis [8, 8, 8] -> slope %r" % slope)

# ---- layout options ------------------------------------------------------------------------
p = run(plot_cmd(FIXTURE, "--out", scratch("nopanel"), "--panel", "none", "--json",
                 "--which", "stability,outcome"))
s = json.loads(p.stdout)
check(s["figures"]["stability"]["panels"] == 1 and s["figures"]["outcome"]["panels"] == 1,
      "--panel none: %r" % s["figures"])
check(s["figures"]["stability"]["fixed"] == {"init.dist": "normal"},
      "--panel none fixes init.dist: %r" % s["figures"]["stability"]["fixed"])
# a non-numeric x: categorical columns; init.scale is then fixed (here by --fix)
p = run(plot_cmd(FIXTURE, "--out", scratch("catx"), "--x", "init.dist", "--fix",
                 "init.scale=3.16227766017", "--json", "--which", "stability"))
s = json.loads(p.stdout)
check(s["panel"] is None and s["figures"]["stability"]["fixed"] == {
      "init.scale": "3.16227766017"}, "--x init.dist: %r" % s)
r = plot.load_results(FIXTURE, ("stability",))
lay = plot.choose_layout(r, x="init.dist", fix={"init.scale": "3.16227766017"})
fig, axes = plot.build_stability(r, lay)
check([t.get_text() for t in axes[0].get_xticklabels()] == ["normal", "uniform"],
      "categorical x ticks %r" % [t.get_text() for t in axes[0].get_xticklabels()])
check("init.scale = 3.16227766017" in fig._suptitle.get_text(),
      "fixed axis noted in title: %r" % fig._suptitle.get_text())
plt.close(fig)

# refinement: extra lr points in one column only -> that column has more
# cells, its own edges, and still spans the panel (no gap where its mirrored
# outer edge would differ from the other columns')
d = copy_fixture("refined")
with open(os.path.join(d, "cells.csv")) as f:
    lines = f.read().splitlines()
extra = [l for l in lines if l.startswith("normal,1,0.1,")][0]
lines += [extra.replace("normal,1,0.1,", "normal,1,%s," % lr) for lr in ("0.15", "5")]
with open(os.path.join(d, "cells.csv"), "w") as f:
    f.write("\n".join(lines) + "\n")
r = plot.load_results(d, ("stability",))
fig, axes = plot.build_stability(r, plot.choose_layout(r))
sizes = [c.get_array().size for c in axes[0].collections if isinstance(c, QuadMesh)]
check(sizes == [8, 6, 6, 6], "refined column cells %r" % sizes)
mesh = [c for c in axes[0].collections if isinstance(c, QuadMesh)][0]
ys = np.unique(np.round(mesh.get_coordinates()[:, 0, 1], 12))
check(len(ys) == 9 and np.all(np.diff(np.log(ys)) > 0), "refined column edges %r" % ys)
check_near(ys[4], math.sqrt(0.1 * 0.15), 1e-12, "edge between 0.1 and 0.15 (geometric)")
for m in [c for c in axes[0].collections if isinstance(c, QuadMesh)]:
    y = m.get_coordinates()[:, 0, 1]
    check(np.allclose((y[0], y[-1]), axes[0].get_ylim(), rtol=1e-12),
          "column spans the panel: %r vs ylim %r" % ((y[0], y[-1]), axes[0].get_ylim()))
plt.close(fig)

# a sweep without init.scale: the law plot is left out by default, an error
# when asked for
d = scratch("no_scale")
for f in ("spec.yaml", "cells.csv", "boundary.csv", "fit.csv"):
    with open(os.path.join(FIXTURE, f)) as src:
        lines = src.read().splitlines()
    if f in ("cells.csv", "boundary.csv"):
        lines = [lines[0].replace("init.scale,", "")] + [
            l.replace(",1,", ",", 1) for l in lines[1:] if l.split(",")[1] == "1"]
    elif f == "fit.csv":
        lines = [lines[0]]   # what the program writes without init.scale
    with open(os.path.join(d, f), "w") as dst:
        dst.write("\n".join(lines) + "\n")
p = run(plot_cmd(d, "--json"))
check(sorted(json.loads(p.stdout)["figures"]) == ["outcome", "stability"],
      "no init.scale: maps only, %r" % p.stdout)
check("no law plot" in p.stderr, "no init.scale: note on stderr %r" % p.stderr)
check(json.loads(p.stdout)["x"] is None, "no numeric axis: one column")
p = run(plot_cmd(d, "--which", "law"), expect=2)
check(os.path.join(d, "boundary.csv") in p.stderr and "init.scale" in p.stderr,
      "--which law without init.scale: %r" % p.stderr)

# ---- end to end: what the program writes now plots (and matches the fixture's columns) ---
d = scratch("e2e")
make_fixture.write_inputs(d)
run([EXE, "summarize", d])
for f in ("cells.csv", "boundary.csv", "fit.csv"):
    with open(os.path.join(d, f)) as a, open(os.path.join(FIXTURE, f)) as b:
        check(a.readline() == b.readline(), "%s header matches the fixture's (regenerate "
              "with tests/data/results/make_fixture.py)" % f)
p = run(plot_cmd(d, "--json"))
check(len(json.loads(p.stdout)["figures"]) == 3, "end to end: three figures")

# ---- errors: exit 2, the path in the message ---------------------------------------------
def expect_error(cmd, path, text, what):
    p = run(cmd, expect=2)
    check(path in p.stderr and text in p.stderr, "%s: stderr %r should name %r and say %r"
          % (what, p.stderr, path, text))


missing = os.path.join(scratch("missing"), "no-such-dir")
expect_error(plot_cmd(missing), missing, "no such results directory", "missing OUTDIR")
d = copy_fixture("empty_cells")
with open(os.path.join(d, "cells.csv")) as f:
    header = f.readline()
with open(os.path.join(d, "cells.csv"), "w") as f:
    f.write(header)
expect_error(plot_cmd(d), os.path.join(d, "cells.csv"), "no runs yet", "header-only cells.csv")
open(os.path.join(d, "cells.csv"), "w").close()
expect_error(plot_cmd(d), os.path.join(d, "cells.csv"), "empty file", "empty cells.csv")
d = copy_fixture("no_fit")
os.remove(os.path.join(d, "fit.csv"))
expect_error(plot_cmd(d), os.path.join(d, "fit.csv"), "no such file", "missing fit.csv")
run(plot_cmd(d, "--which", "stability,outcome"))   # fit.csv not needed for the maps
d = copy_fixture("no_column")
edit(os.path.join(d, "boundary.csv"), ",lr_boundary_hi,", ",lr_boundary_top,")
expect_error(plot_cmd(d), os.path.join(d, "boundary.csv"), "missing column lr_boundary_hi",
             "missing column")
expect_error(plot_cmd(FIXTURE, "--out", scratch("badx"), "--x", "train.momentum"),
             os.path.join(FIXTURE, "cells.csv"), "'train.momentum' is not an axis", "bad --x")
expect_error(plot_cmd(FIXTURE, "--out", scratch("badfix"), "--fix", "init.scale=7"),
             os.path.join(FIXTURE, "cells.csv"), "no such value", "bad --fix value")
run(plot_cmd(FIXTURE, "--format", "gif"), expect=2)

done()
