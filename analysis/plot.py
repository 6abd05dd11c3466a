#!/usr/bin/env python3
"""Plots of an initsweep results directory (OUTDIR).

Reads only the summary files of OUTDIR -- cells.csv, boundary.csv, fit.csv
and, for titles and the reference slope, spec.yaml -- so it runs on a laptop
against results copied from a cluster.  Needs Python 3, numpy and matplotlib
(Debian's python3-matplotlib); nothing else.

    /usr/bin/python3 analysis/plot.py OUTDIR [--out DIR] [--format png,svg,pdf]
        [--which stability,outcome,law] [--x AXIS] [--panel AXIS|none]
        [--fix AXIS=VALUE]... [--dpi N] [--json]

Writes DIR/stability.<fmt>, DIR/outcomes.<fmt> and DIR/law.<fmt> (DIR
defaults to OUTDIR/plots).  Exit status 0 done, 2 bad input (missing OUTDIR,
missing or empty CSV file, missing column, unknown axis), with a message on
stderr that names the path.  See analysis/README.md for how to read the plots.

The figure builders (build_stability, build_outcomes, build_law) take a
Results and a Layout and return (figure, panel axes), for tests and notebooks:

    import plot
    res = plot.load_results("results/my-sweep")
    lay = plot.choose_layout(res)
    fig, panels = plot.build_stability(res, lay)
"""
import argparse
import csv
import json
import math
import os
import sys

import matplotlib

matplotlib.use("Agg")  # no display: runs on cluster login nodes and in ctest
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib import colors as mcolors  # noqa: E402
from matplotlib import patheffects  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import initsweep_results as ir  # noqa: E402  (the shared readers, the schema)

# ---- the files' contract: schema.json beside this script, written by -------------------
# `initsweep --schema` from the tables that write the files (a ctest keeps it equal)


def _load_schema():
    files = ir.SCHEMA["files"]
    return (ir.OUTCOMES,
            tuple(c["name"] for c in files["runs.csv"]["columns"]),
            tuple(files["cells.csv"]["columns"]),
            tuple(files["boundary.csv"]["columns"]),
            tuple(files["fit.csv"]["columns"]))


OUTCOMES, RUN_COLUMNS, CELL_STATS, BOUNDARY_STATS, FIT_STATS = _load_schema()
LR = "train.lr"
SCALE = "init.scale"
PLOTS = ("stability", "outcome", "law")
FILE_STEM = {"stability": "stability", "outcome": "outcomes", "law": "law"}

# Okabe & Ito (2008), "Color Universal Design": distinguishable under the
# common colour-vision deficiencies.  Outcomes keep their colour in every plot.
OKABE_ITO = {
    "orange": "#E69F00", "sky_blue": "#56B4E9", "bluish_green": "#009E73",
    "yellow": "#F0E442", "blue": "#0072B2", "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7", "black": "#000000"}
OUTCOME_COLOURS = {
    "converged": OKABE_ITO["bluish_green"],
    "diverged": OKABE_ITO["vermillion"],
    "dead": OKABE_ITO["reddish_purple"],
    "saturated": OKABE_ITO["orange"],
    "stalled": OKABE_ITO["sky_blue"],
    "slow": OKABE_ITO["yellow"]}
SERIES_COLOURS = [OKABE_ITO[k] for k in
                  ("blue", "vermillion", "bluish_green", "reddish_purple",
                   "orange", "sky_blue", "black", "yellow")]
BOUNDARY_COLOUR = "white"   # on the viridis map: dark line edge + light stroke
BAND_COLOUR = "#9a9a9a"    # the boundary's bracket, grey: readable on any map colour
DIVERGE_COLOUR = OKABE_ITO["vermillion"]
CATAPULT_COLOUR = OKABE_ITO["orange"]   # the catapult band's hatching
UNDEFINED_COLOUR = "#d9d9d9"  # cells with no runs / p not defined

LR_IN_C = "c = lr · λ₀ (learning rate × initial sharpness)"
AXIS_LABELS = {
    LR: "learning rate",
    SCALE: "init scale (gain)",
    "init.dist": "init distribution",
    "train.momentum": "momentum",
    "train.batch": "batch size",
    "train.epochs": "epochs",
    "model.hidden": "hidden widths",
    "model.width": "width",
    "model.depth": "depth (hidden layers)",
    "model.activation": "activation",
}

STYLE = {
    "font.size": 10, "axes.titlesize": 10.5, "axes.labelsize": 10.5,
    "xtick.labelsize": 9, "ytick.labelsize": 9, "legend.fontsize": 8.5,
    "figure.titlesize": 12, "axes.linewidth": 0.8,
    "svg.hashsalt": "initsweep",  # stable SVG ids: reruns give identical files
}


# Bad input: reported as 'plot.py: PATH: MESSAGE', exit status 2.
PlotError = ir.ResultsError


# ---- reading ------------------------------------------------------------------------------

num, is_number = ir.num, ir.is_number


class Table:
    """One summary CSV: its axis columns (everything before the first
    statistics column, in file order) and its rows as dicts of strings."""

    def __init__(self, path, axes, rows):
        self.path, self.axes, self.rows = path, axes, rows

    def values(self, axis):
        """Distinct values of an axis column, in order of first appearance
        (the grid's order: the files are ordered by task id)."""
        seen = []
        for r in self.rows:
            if r[axis] not in seen:
                seen.append(r[axis])
        return seen


def read_table(path, stats, allow_no_rows=False):
    """Reads a summary CSV whose statistics columns are `stats` (in order,
    the first one ending the axis columns).  PlotError when the file is
    missing, empty, header-only ("no runs yet", unless allow_no_rows) or
    lacks a column."""
    header, body = ir.read_csv_rows(path)
    missing = [c for c in stats if c not in header]
    if missing:
        raise PlotError(path, "missing column%s %s (expected %s after the axis columns)"
                        % ("s" if len(missing) > 1 else "", ", ".join(missing),
                           ",".join(stats)))
    if not body and not allow_no_rows:
        raise PlotError(path, "no rows: no runs yet")
    axes = header[:header.index(stats[0])]
    return Table(path, axes, [dict(zip(header, r)) for r in body])


parse_scalar, read_spec = ir.parse_scalar, ir.read_spec


class Results:
    """The summary files of one OUTDIR; a table is None when not loaded."""

    def __init__(self, outdir, spec, cells, boundary, fit, law_axis=SCALE):
        self.outdir, self.spec = outdir, spec
        self.cells, self.boundary, self.fit = cells, boundary, fit
        self.law_axis = law_axis   # fit.csv's `axis`: what the edges are fitted against

    @property
    def lr_in_c(self):
        """train.lr is c = lr * lambda_0 (train.lr_unit: sharpness)."""
        return self.spec.get("train.lr_unit") == "sharpness"

    @property
    def name(self):
        name = self.spec.get("name")
        return name if isinstance(name, str) and name else os.path.basename(
            os.path.normpath(self.outdir))


def load_results(outdir, plots=PLOTS):
    """Reads what `plots` need: cells.csv (maps), boundary.csv (maps' edge
    lines, law), fit.csv (law).  PlotError naming the path on bad input."""
    if not os.path.isdir(outdir):
        raise PlotError(outdir, "no such results directory")
    spec = read_spec(os.path.join(outdir, "spec.yaml"))
    maps = "stability" in plots or "outcome" in plots
    cells = read_table(os.path.join(outdir, "cells.csv"), CELL_STATS) if maps else None
    # without a train.lr axis boundary.csv is header-only by design: the maps
    # then have no edges to draw, which is not an error
    boundary = read_table(os.path.join(outdir, "boundary.csv"), BOUNDARY_STATS,
                          allow_no_rows=cells is not None and LR not in cells.axes)
    fit = read_table(os.path.join(outdir, "fit.csv"), FIT_STATS,
                     allow_no_rows=True) if "law" in plots else None
    law_axis = law_axis_of(fit) if fit is not None else SCALE
    if "law" in plots and law_axis not in boundary.axes:
        raise PlotError(boundary.path, "no %s column: the law plot needs the axis the "
                                       "edges are fitted against (use --which "
                                       "stability,outcome)" % law_axis)
    return Results(outdir, spec, cells, boundary, fit, law_axis)


def law_axis_of(fit):
    """The fit axis fit.csv names (every row names the same); init.scale
    when it has no rows."""
    axes = {r["axis"] for r in fit.rows}
    if len(axes) > 1:
        raise PlotError(fit.path, "rows name several fit axes (%s), expected one"
                        % ", ".join(sorted(axes)))
    return axes.pop() if axes else SCALE


# ---- which axis goes where ---------------------------------------------------------------

class Layout:
    """x: the map's horizontal axis (None: one column); panel: one panel per
    value (None: one panel); fixed: the value every other axis is held at."""

    def __init__(self, x, x_numeric, panel, panel_values, fixed, varied, y=LR):
        self.x, self.x_numeric = x, x_numeric
        self.y = y              # the maps' vertical axis: train.lr unless --y
        self.panel, self.panel_values = panel, panel_values
        self.fixed = fixed      # {axis: value} for every axis but train.lr and panel
        self.varied = varied    # axes with more than one value in the data
        self.lr_in_c = False    # train.lr is c = lr * lambda_0 (choose_layout sets it)

    def fixed_note(self, skip):
        """'model.hidden = [16]; train.momentum = 0' for the fixed axes that
        actually vary in the data (the others need no note)."""
        parts = ["%s = %s" % (a, v) for a, v in self.fixed.items()
                 if a not in skip and a in self.varied]
        return "; ".join(parts)


def _axis_table(res):
    return res.cells if res.cells is not None else res.boundary


def choose_layout(res, x=None, panel=None, fix=None, y=None):
    """Picks the axes.  x: `x`, else init.scale, else the first numeric axis
    other than train.lr (axes in `fix` are never picked), else None.  panel: `panel` ('none' for a single
    panel), else init.dist, else the first non-numeric remaining axis, else
    None.  Every other axis is fixed at its first value in the file (the
    first grid value), or at fix[axis]."""
    table = _axis_table(res)
    numeric_all = {a: all(is_number(v) for v in table.values(a)) for a in table.axes}
    if y is not None:
        if y not in table.axes or not numeric_all[y]:
            raise PlotError(table.path, "--y %r is not a numeric axis; axes are: %s"
                            % (y, ", ".join(table.axes)))
    elif LR in table.axes:
        y = LR
    else:
        # no learning-rate axis (e.g. lr_layer.0 x lr_layer.1): the last
        # numeric axis goes up the page
        y = next((a for a in reversed(table.axes) if numeric_all[a] and a != x), None)
        if y is None and res.cells is not None:
            raise PlotError(table.path, "no %s column and no other numeric axis: the maps "
                                        "need a numeric vertical axis" % LR)
    axes = [a for a in table.axes if a != y]
    numeric = {a: numeric_all[a] for a in axes}
    fix = dict(fix or {})

    def need(axis, what):
        if axis not in axes:
            raise PlotError(table.path, "%s %r is not an axis; axes are: %s"
                            % (what, axis, ", ".join(axes) or "(none besides train.lr)"))

    if x is not None:
        need(x, "--x")
    elif SCALE in axes and SCALE not in fix:
        x = SCALE
    else:
        x = next((a for a in axes if numeric[a] and a not in fix and a != panel), None)
    if panel == "none":
        panel = None
    elif panel is not None:
        need(panel, "--panel")
        if panel == x:
            raise PlotError(table.path, "--panel and --x are both %r" % panel)
    else:
        rest = [a for a in axes if a != x and a not in fix]
        if "init.dist" in rest:
            panel = "init.dist"
        else:
            panel = next((a for a in rest if not numeric[a]), None)
    for a in fix:
        need(a, "--fix")
        if a == panel:
            raise PlotError(table.path, "--fix %s: that axis is the panel axis" % a)
    fixed = {}
    for a in axes:
        if a == panel:
            continue
        if a in fix:
            match = [v for v in table.values(a) if same_value(v, fix[a])]
            if not match:
                raise PlotError(table.path, "--fix %s=%s: no such value; values are: %s"
                                % (a, fix[a], ", ".join(table.values(a))))
            fixed[a] = match[0]
        else:
            fixed[a] = table.values(a)[0]
    panel_values = table.values(panel) if panel else [None]
    if panel and numeric[panel]:
        panel_values = sorted(panel_values, key=float)
    varied = {a for a in axes if len(table.values(a)) > 1}
    layout = Layout(x, bool(x and numeric[x]), panel, panel_values, fixed, varied, y=y or LR)
    layout.lr_in_c = res.lr_in_c    # axis labels: train.lr is c
    return layout


def same_value(a, b):
    if a == b:
        return True
    return is_number(a) and is_number(b) and float(a) == float(b)


def select(rows, layout, panel_value, skip):
    """Rows at panel_value with every fixed axis not in `skip` (and present
    in the rows) at its fixed value."""
    out = []
    for r in rows:
        if layout.panel and r[layout.panel] != panel_value:
            continue
        if all(r[a] == v for a, v in layout.fixed.items() if a not in skip and a in r):
            out.append(r)
    return out


def tick_text(v):
    """A grid value as a tick label: 3 significant digits (1.78, 0.25, 1e-05)."""
    return "%.3g" % v


def axis_label(axis, layout=None):
    if axis == LR and layout is not None and layout.lr_in_c:
        return LR_IN_C
    if axis in AXIS_LABELS:
        return AXIS_LABELS[axis]
    if axis.startswith("train.lr_layer."):
        return "lr multiplier of layer %s" % axis.rsplit(".", 1)[1]
    return axis


# ---- geometry -----------------------------------------------------------------------------

def cell_edges(centres, log):
    """Edges of cells around sorted distinct centres: midpoints between
    neighbours (geometric when log), the outer edges mirrored about the end
    centres.  One centre: a factor of 2 (log) or +-0.5 each side."""
    c = np.asarray(centres, dtype=float)
    if log:
        c = np.log(c)
    if len(c) == 1:
        half = math.log(2.0) if log else 0.5
        e = np.array([c[0] - half, c[0] + half])
    else:
        mid = 0.5 * (c[1:] + c[:-1])
        e = np.concatenate([[2 * c[0] - mid[0]], mid, [2 * c[-1] - mid[-1]]])
    return np.exp(e) if log else e


class Columns:
    """The map's columns for one panel: x positions and edges, and per
    column the rows sorted by lr (refinement leaves irregular lr values, so
    every column has its own lr edges)."""

    def __init__(self, rows, layout):
        x = layout.x
        Y = self.y = layout.y
        if x is None:
            keys = [None]
        else:
            keys = []
            for r in rows:
                if r[x] not in keys:
                    keys.append(r[x])
            if layout.x_numeric:
                keys.sort(key=float)
        self.keys = keys
        if x is not None and layout.x_numeric:
            pos = np.array([float(k) for k in keys])
            self.xlog = bool(np.all(pos > 0))
            self.pos = pos
        else:
            self.xlog = False
            self.pos = np.arange(len(keys), dtype=float)
        self.edges = cell_edges(self.pos, self.xlog) if len(keys) else np.array([])
        self.rows = []
        for k in keys:
            col = [r for r in rows if x is None or r[x] == k]
            col.sort(key=lambda r: num(r[Y]))
            self.rows.append(col)
        lrs = np.array([num(r[Y]) for r in rows])
        self.ylog = bool(len(lrs) and np.all(lrs > 0))

    def position(self, key):
        return self.pos[self.keys.index(key)] if key in self.keys else math.nan


def draw_columns(ax, cols, values, cmap, norm):
    """pcolormesh per column, value(row) -> float (NaN = not defined).
    Returns the last mesh (for a colour bar) and the lr range drawn."""
    mesh, ylo, yhi = None, math.inf, -math.inf
    yedges = [cell_edges([num(r[cols.y]) for r in col], cols.ylog) if col else None
              for col in cols.rows]
    for e in yedges:
        if e is not None:
            ylo, yhi = min(ylo, e[0]), max(yhi, e[-1])
    for i, col in enumerate(cols.rows):
        if not col:
            continue
        # The outer edges are a guess (mirrored) anyway: stretch every
        # column's end cells to the common range so no column leaves a gap.
        e = yedges[i].copy()
        e[0], e[-1] = ylo, yhi
        z = np.ma.masked_invalid(np.array([[values(r)] for r in col], dtype=float))
        mesh = ax.pcolormesh(cols.edges[i:i + 2], e, z, cmap=cmap, norm=norm,
                             shading="flat", edgecolors="face", linewidth=0.0)
    return mesh, ylo, yhi


def panel_grid(n, width=3.6, height=3.2, extra_width=1.3):
    """Figure and axes for n panels, at most 3 a row, shared axes."""
    ncols = min(n, 3)
    nrows = int(math.ceil(n / ncols))
    fig, axs = plt.subplots(nrows, ncols, figsize=(width * ncols + extra_width,
                                                   height * nrows + 0.9),
                            sharex=True, sharey=True, squeeze=False,
                            layout="constrained")
    flat = list(axs.flat)
    for ax in flat[n:]:
        ax.remove()
    return fig, flat[:n]


def setup_axes(ax, cols, layout, ylo, yhi, first_col, last_row):
    if cols.ylog:
        ax.set_yscale("log")
    if cols.xlog:
        ax.set_xscale("log")
    if len(cols.edges):
        ax.set_xlim(cols.edges[0], cols.edges[-1])
    if math.isfinite(ylo):
        ax.set_ylim(ylo, yhi)
    if layout.x is None:
        ax.set_xticks([0.0])
        ax.set_xticklabels(["(all)"])
    elif len(cols.keys) <= 12:
        # label the grid values themselves: a log axis over 0.25..4 would
        # otherwise show a single decade label
        ax.set_xticks(cols.pos)
        ax.set_xticks([], minor=True)
        ax.set_xticklabels([tick_text(float(k)) for k in cols.keys]
                           if layout.x_numeric else cols.keys,
                           rotation=30 if len(cols.keys) > 6 else 0)
    elif not layout.x_numeric:
        ax.set_xticks(cols.pos)
        ax.set_xticklabels(cols.keys, rotation=30 if len(cols.keys) > 4 else 0)
    if last_row:
        # no panel below: show the tick labels sharex would hide
        ax.xaxis.set_tick_params(labelbottom=True)
        ax.set_xlabel(axis_label(layout.x, layout) if layout.x else "")
    if first_col:
        ax.set_ylabel(axis_label(layout.y, layout))
    ax.tick_params(which="both", direction="out")


def stroke(colour="black", width=2.6):
    return [patheffects.Stroke(linewidth=width, foreground=colour), patheffects.Normal()]


def draw_edges(ax, res, layout, panel_value, cols, band):
    """The boundary (lr_boundary, with its bracket as a band when `band`)
    and the divergence edge (lr_diverge) of the panel's slices against x."""
    if layout.y != LR:
        return              # boundary.csv's edges are along train.lr only
    rows = select(res.boundary.rows, layout, panel_value, skip={layout.x})
    pts = []
    for r in rows:
        key = r[layout.x] if layout.x else None
        p = cols.position(key)
        if math.isfinite(p):
            pts.append((p, r))
    pts.sort(key=lambda t: t[0])
    if not pts:
        return
    x = np.array([p for p, _ in pts])

    def col(name):
        return np.array([num(r[name]) for _, r in pts])

    b, blo, bhi, d = col("lr_boundary"), col("lr_boundary_lo"), col("lr_boundary_hi"), \
        col("lr_diverge")
    ok = np.isfinite(blo) & np.isfinite(bhi)
    # along a numeric x the edges are curves; between categories a line
    # would suggest values that do not exist: markers only, bracket as bars
    curve = layout.x is not None and layout.x_numeric
    if band and ok.any():
        if curve:
            ax.fill_between(x, np.where(ok, blo, np.nan), np.where(ok, bhi, np.nan),
                            facecolor=BAND_COLOUR, alpha=0.55, edgecolor="white",
                            linewidth=0.6, zorder=3)
        else:
            w = 0.12
            for xi, lo, hi in zip(x[ok], blo[ok], bhi[ok]):
                ax.fill_between([xi - w, xi + w], [lo, lo], [hi, hi], facecolor=BAND_COLOUR,
                                alpha=0.55, edgecolor="white", linewidth=0.6, zorder=3)
    # the catapult band: the loss rises early (c_loss) but training still
    # survives, up to the last non-diverging point (c_max)
    if "c_loss" in pts[0][1]:
        cl, cm = col("c_loss"), col("c_max")
        cat = np.isfinite(cl) & np.isfinite(cm) & (cl < cm)
        hatch = dict(facecolor="none", hatch="///", edgecolor=CATAPULT_COLOUR, linewidth=0.0,
                     zorder=4)
        if curve and cat.any():
            ax.fill_between(x, np.where(cat, cl, np.nan), np.where(cat, cm, np.nan), **hatch)
        elif cat.any():
            for xi, lo, hi in zip(x[cat], cl[cat], cm[cat]):
                ax.fill_between([xi - 0.3, xi + 0.3], [lo, lo], [hi, hi], **hatch)
    ax.plot(x, b, color=BOUNDARY_COLOUR, marker="o", markersize=4.5, linewidth=1.8,
            linestyle="-" if curve else "none", markeredgecolor="black",
            markeredgewidth=0.8, zorder=5, path_effects=stroke("black") if curve else None)
    ax.plot(x, d, color=DIVERGE_COLOUR, marker="v", markersize=5, linewidth=1.6,
            linestyle="--" if curve else "none", markeredgecolor="black",
            markeredgewidth=0.6, zorder=6, path_effects=stroke("white", 3.0) if curve else None)


def has_catapult_band(res):
    """Some slice has a catapult band (c_loss below c_max)."""
    return any("c_loss" in r and math.isfinite(num(r["c_loss"])) and
               math.isfinite(num(r["c_max"])) and num(r["c_loss"]) < num(r["c_max"])
               for r in res.boundary.rows)


def catapult_handle():
    return Patch(facecolor="none", hatch="///", edgecolor=CATAPULT_COLOUR, linewidth=0.0,
                 label="catapult band (c_loss .. c_max: the loss rises early, still trains)")


def edge_legend_handles():
    return [
        Line2D([], [], color=BOUNDARY_COLOUR, marker="o", markeredgecolor="black",
               markersize=4.5, linewidth=1.8, path_effects=stroke("black"),
               label="boundary (p_converged = 0.5)"),
        Patch(facecolor=BAND_COLOUR, alpha=0.55, edgecolor="white",
              label="boundary bracket (lo..hi)"),
        Line2D([], [], color=DIVERGE_COLOUR, marker="v", markeredgecolor="black",
               markersize=5, linewidth=1.6, linestyle="--",
               path_effects=stroke("white", 3.0), label="divergence edge (p_diverged = 0.5)"),
    ]


def panel_title(layout, value):
    return "%s = %s" % (layout.panel, value) if layout.panel else ""


def suptitle(fig, res, what, layout, skip):
    note = layout.fixed_note(skip)
    title = "%s: %s" % (res.name, what)
    if note:
        title += "\n(fixed: %s)" % note
    fig.suptitle(title)


def _map_figure(res, layout, values, cmap, norm, what, band):
    fig, axes = panel_grid(len(layout.panel_values))
    ncols = min(len(axes), 3)
    mesh = None
    for i, (ax, pv) in enumerate(zip(axes, layout.panel_values)):
        rows = select(res.cells.rows, layout, pv, skip={layout.x})
        cols = Columns(rows, layout)
        m, ylo, yhi = draw_columns(ax, cols, values, cmap, norm)
        if m is not None:
            mesh = m
        draw_edges(ax, res, layout, pv, cols, band)
        setup_axes(ax, cols, layout, ylo, yhi, i % ncols == 0,
                   i >= len(axes) - ncols)
        ax.set_title(panel_title(layout, pv))
        if not rows:
            ax.text(0.5, 0.5, "no cells", transform=ax.transAxes, ha="center")
    suptitle(fig, res, what, layout, skip={layout.x})
    return fig, axes, mesh


def build_stability(res, layout):
    """p_converged as a colour map over x and lr, one panel per panel value,
    the boundary and divergence edge on top.  Returns (fig, panel axes)."""
    cmap = plt.get_cmap("viridis").copy()
    cmap.set_bad(UNDEFINED_COLOUR)
    norm = mcolors.Normalize(0.0, 1.0)
    fig, axes, mesh = _map_figure(res, layout, lambda r: num(r["p_converged"]), cmap, norm,
                                  "probability of convergence", band=True)
    if mesh is not None:
        cb = fig.colorbar(mesh, ax=axes, shrink=0.9, pad=0.02, aspect=30)
        cb.set_label("P(converged): fraction of seeds")
    if layout.y == LR:
        handles = edge_legend_handles() + ([catapult_handle()] if has_catapult_band(res) else [])
        fig.legend(handles=handles, loc="lower center", ncols=len(handles), frameon=False,
                   bbox_to_anchor=(0.5, -0.01))
        fig.get_layout_engine().set(rect=(0, 0.06, 1, 0.94))
    return fig, axes


def dominant_outcome(row):
    """Index into OUTCOMES of the largest count; ties go to the earlier
    outcome in OUTCOMES (converged, diverged, dead, saturated, stalled,
    slow).  NaN when the cell has no runs."""
    counts = [num(row[o]) for o in OUTCOMES]
    if not any(c > 0 for c in counts):
        return math.nan
    return float(int(np.argmax(counts)))  # argmax returns the first maximum


def build_outcomes(res, layout):
    """The dominant outcome per cell, one panel per panel value, with the
    edges on top and a legend of the outcomes present.  Returns (fig, axes)."""
    cmap = mcolors.ListedColormap([OUTCOME_COLOURS[o] for o in OUTCOMES])
    cmap.set_bad(UNDEFINED_COLOUR)
    norm = mcolors.BoundaryNorm(np.arange(len(OUTCOMES) + 1) - 0.5, len(OUTCOMES))
    # no bracket band here: grey over a categorical colour would read as
    # another outcome
    fig, axes, _ = _map_figure(res, layout, dominant_outcome, cmap, norm,
                               "dominant outcome", band=False)
    present = set()
    for pv in layout.panel_values:
        for r in select(res.cells.rows, layout, pv, skip={layout.x}):
            d = dominant_outcome(r)
            if math.isfinite(d):
                present.add(OUTCOMES[int(d)])
    handles = [Patch(facecolor=OUTCOME_COLOURS[o], edgecolor="black", linewidth=0.5,
                     label=o) for o in OUTCOMES if o in present]
    # outcomes in a column at the right, where the stability map has its
    # colour bar; the edge lines at the bottom, as in the stability map
    ncols = min(len(axes), 3)
    axes[ncols - 1].legend(handles=handles, title="dominant outcome", loc="upper left",
                           bbox_to_anchor=(1.03, 1.0), borderaxespad=0.0, frameon=False)
    if layout.y == LR:
        handles = edge_legend_handles()[::2] + ([catapult_handle()] if has_catapult_band(res)
                                                else [])
        fig.legend(handles=handles, loc="lower center", ncols=len(handles),
                   frameon=False, bbox_to_anchor=(0.5, -0.01))
        fig.get_layout_engine().set(rect=(0, 0.06, 1, 0.94))
    return fig, axes


# ---- the boundary law -----------------------------------------------------------------------

def series_setting(res, row, key):
    """A model setting of a series: its axis value when it is an axis of the
    row, else spec.yaml's."""
    if key in row:
        return parse_scalar(row[key])
    return res.spec.get(key)


def reference_slope(res, row):
    """(slope, reason): the slope of ln lr_edge against ln init.scale
    expected where the network is positively homogeneous in its weights,
    -(2L-2) with L weight layers (scaling every weight by c scales the
    Hessian by c^(2L-2), so the stable lr by c^-(2L-2)); or (None, why not)."""
    hidden = series_setting(res, row, "model.hidden")
    if hidden is None:
        return None, "model.hidden unknown (no spec.yaml)"
    if isinstance(hidden, str):
        hidden = parse_scalar("[" + hidden.strip("[]") + "]")
    nlayers = len(hidden) + 1
    bias = str(series_setting(res, row, "model.bias")).lower()
    if bias not in ("false", "0", "no", "off"):
        return None, "model.bias is %s" % bias
    act = series_setting(res, row, "model.activation")
    if nlayers > 1 and act not in ("relu", "leaky_relu", "linear"):
        return None, "activation %s is not homogeneous" % act
    out = series_setting(res, row, "model.output")
    if out != "linear":
        return None, "output %s is not linear" % out
    return -(2.0 * nlayers - 2.0), "homogeneous, L = %d" % nlayers


def fmt_slope(v):
    return ("%.2f" % v).replace("-", "\u2212")


def fit_label(fit_row):
    """'slope -1.72 +- 0.12 (n = 5)', with 'above the knee 3.46 [2.75,
    5.66]' for a hinge, or 'no power law fits (n = 9)', from a fit.csv row."""
    if fit_row is None:
        return "no fit"
    slope, se, n = num(fit_row["slope"]), num(fit_row["slope_se"]), fit_row["n"]
    if not math.isfinite(slope):
        return ("no power law fits (n = %s)" % n if fit_row["model"] == "none" and int(n) >= 3
                else "no fit (n = %s)" % n)
    text = "slope %s" % fmt_slope(slope)
    if math.isfinite(se):
        text += " \u00b1 %.2f" % se
    if fit_row["model"] in ("flat_power", "power_flat"):
        text += " %s the knee %s [%s, %s]" % (
            "above" if fit_row["model"] == "flat_power" else "below",
            tick_text(num(fit_row["knee"])), tick_text(num(fit_row["knee_lo"])),
            tick_text(num(fit_row["knee_hi"])))
    return text + " (n = %s)" % n


def draw_fit(ax, f, xlo, xhi, colour, ls):
    """A fit.csv row's model on [xlo, xhi]: its power law over its own range
    [x_min, x_max] only, a hinge's flat part at the law's value at the knee
    (thinner) and the knee's interval as a bar on the axis."""
    slope, icept = num(f["slope"]), num(f["intercept"])
    if not math.isfinite(slope):
        return
    a, b = num(f["x_min"]), num(f["x_max"])
    if not (math.isfinite(a) and math.isfinite(b)):   # an older fit.csv: the data's range
        a, b = xlo, xhi
    xs = np.geomspace(a, b, 50)
    ax.plot(xs, np.exp(icept + slope * np.log(xs)), color=colour, linestyle=ls,
            linewidth=1.2, zorder=3)
    if f["model"] not in ("flat_power", "power_flat"):
        return
    knee = num(f["knee"])
    level = math.exp(icept + slope * math.log(knee))
    flat = (xlo, knee) if f["model"] == "flat_power" else (knee, xhi)
    ax.plot(flat, (level, level), color=colour, linestyle=ls, linewidth=0.8, zorder=3)
    ax.plot([knee], [level], marker="|", markersize=9, color=colour, zorder=4)
    ax.plot((num(f["knee_lo"]), num(f["knee_hi"])), (level, level), color=colour,
            linewidth=3.0, alpha=0.35, solid_capstyle="butt", zorder=2)


def build_law(res, layout):
    """lr_boundary (filled circles, bracket as error bars) and lr_diverge
    (open triangles) against the fit axis (init.scale unless fit.axis says
    otherwise) on log-log axes, one colour per panel value, each with its
    fit drawn over its own range (slope +- se and a hinge's knee in the
    legend) and, against init.scale, the homogeneous reference slope,
    dashed.  Returns (fig, [ax])."""
    law = res.law_axis
    if law not in res.boundary.axes:
        raise PlotError(res.boundary.path, "no %s column: the law plot needs that "
                                           "axis" % law)
    fig, ax = plt.subplots(figsize=(9.6, 4.8), layout="constrained")
    ax.set_xscale("log")
    ax.set_yscale("log")
    refs, reasons = {}, []
    xmin, xmax = math.inf, -math.inf
    # the maps' x axis, when it is not the fit axis, is a series of its own
    # per value (it is not among the layout's fixed axes)
    extra = layout.x if layout.x not in (None, law) else None
    series = [(pv, xv) for pv in layout.panel_values
              for xv in (res.boundary.values(extra) if extra else [None])]

    def pick(rows, pv, xv):
        return [r for r in select(rows, layout, pv, skip={law, extra})
                if extra is None or r.get(extra) == xv]

    for i, (pv, xv) in enumerate(series):
        colour = SERIES_COLOURS[i % len(SERIES_COLOURS)]
        rows = pick(res.boundary.rows, pv, xv)
        if not rows:
            continue
        rows.sort(key=lambda r: num(r[law]))
        s = np.array([num(r[law]) for r in rows])
        name = str(pv) if layout.panel else "all"
        if extra:
            name = ("%s, " % name if layout.panel else "") + "%s = %s" % (extra, xv)
        fits = {r["edge"]: r for r in pick(res.fit.rows, pv, xv)}
        for edge, marker, face, ls in (("boundary", "o", colour, "-"),
                                       ("diverge", "v", "white", ":")):
            y = np.array([num(r["lr_" + edge]) for r in rows])
            lo = np.array([num(r["lr_%s_lo" % edge]) for r in rows])
            hi = np.array([num(r["lr_%s_hi" % edge]) for r in rows])
            ok = np.isfinite(y) & (y > 0) & (s > 0)
            if not ok.any():
                continue
            # the bracket as error bars; an edge interpolated onto a bracket
            # end can sit an ulp outside it, hence the clip
            yerr = np.clip(np.vstack([np.where(np.isfinite(lo), y - lo, 0.0),
                                      np.where(np.isfinite(hi), hi - y, 0.0)]),
                           0.0, None)[:, ok]
            ax.errorbar(s[ok], y[ok], yerr=yerr, fmt=marker, color=colour,
                        markerfacecolor=face, markeredgecolor=colour, markersize=6,
                        elinewidth=0.9, capsize=2.5, zorder=4,
                        label="%s, %s: %s" % (name, "boundary" if edge == "boundary"
                                               else "divergence", fit_label(fits.get(edge))))
            xmin, xmax = min(xmin, s[ok].min()), max(xmax, s[ok].max())
            f = fits.get(edge)
            if f is not None:
                draw_fit(ax, f, s[ok].min(), s[ok].max(), colour, ls)
            if law == SCALE and (edge == "boundary" or i not in refs):
                slope, why = reference_slope(res, rows[0])
                if slope is None:
                    if why not in reasons:
                        reasons.append(why)
                else:
                    # anchored at the series' centroid in log-log, so the eye
                    # compares slopes, not offsets
                    refs[i] = (slope, why, np.log(s[ok]).mean(), np.log(y[ok]).mean(),
                               s[ok].min(), s[ok].max())
    for i, (slope, why, cx, cy, lo, hi) in refs.items():
        xs = np.geomspace(lo, hi, 50)
        # above the fits: where the law holds the two coincide
        ax.plot(xs, np.exp(cy + slope * (np.log(xs) - cx)), color="#333333",
                linestyle=(0, (4, 3)), linewidth=1.0, zorder=5)
    handles, labels = ax.get_legend_handles_labels()
    for slope, why in sorted({(v[0], v[1]) for v in refs.values()}):
        handles.append(Line2D([], [], color="#333333", linestyle=(0, (4, 3)), linewidth=1.0))
        labels.append("reference slope %s (%s)" % (fmt_slope(slope), why))
    handles.append(Line2D([], [], color="black", linestyle="-", linewidth=1.2))
    labels.append("fit of the boundary")
    handles.append(Line2D([], [], color="black", linestyle=":", linewidth=1.2))
    labels.append("fit of the divergence edge")
    ax.legend(handles, labels, loc="upper left", bbox_to_anchor=(1.02, 1.0),
              borderaxespad=0.0, frameon=False,
              title="fits of ln lr on ln %s (slope \u00b1 s.e.)" % axis_label(law))
    if math.isfinite(xmin):
        pad = (xmax / xmin) ** 0.06 if xmax > xmin else 1.5
        ax.set_xlim(xmin / pad, xmax * pad)
        scales = sorted({float(v) for v in res.boundary.values(law) if is_number(v)
                         and xmin <= float(v) <= xmax})
        if len(scales) <= 12:
            ax.set_xticks(scales)
            ax.set_xticks([], minor=True)
            # many ticks two octaves apart still collide (0.0625, 0.125)
            ax.set_xticklabels([tick_text(v) for v in scales],
                               rotation=30 if len(scales) > 6 else 0)
    ax.set_xlabel(axis_label(law))
    ax.set_ylabel("c = lr · λ₀ at the edge" if res.lr_in_c
                  else "learning rate at the edge")
    ax.grid(True, which="major", color="#dddddd", linewidth=0.6)
    ax.set_axisbelow(True)
    title = "%s: learning-rate edges against %s" % (res.name, axis_label(law))
    note = layout.fixed_note({law, extra})
    if note:
        title += "\n(fixed: %s)" % note
    if reasons:
        title += "\n(no reference slope: %s)" % "; ".join(reasons)
    ax.set_title(title)
    return fig, [ax]


# ---- command line ---------------------------------------------------------------------------

BUILDERS = {"stability": build_stability, "outcome": build_outcomes, "law": build_law}


def parse_args(argv):
    p = argparse.ArgumentParser(
        prog="plot.py", description="Plots of an initsweep results directory: stability "
        "map, outcome map, boundary law (see analysis/README.md).")
    p.add_argument("outdir", help="results directory (cells.csv, boundary.csv, fit.csv)")
    p.add_argument("--out", help="where to write the plots (default OUTDIR/plots)")
    p.add_argument("--format", default="png",
                   help="png, svg or pdf, or a comma-separated list (default png)")
    p.add_argument("--which", default=None,
                   help="comma-separated subset of stability,outcome,law (default all)")
    p.add_argument("--x", help="map x axis (default init.scale)")
    p.add_argument("--y", help="map y axis (default train.lr, else the last numeric axis); "
                   "the edge lines are drawn only along train.lr")
    p.add_argument("--panel", help="one panel per value of this axis; 'none' for one panel "
                   "(default init.dist, else the first non-numeric axis)")
    p.add_argument("--fix", action="append", default=[], metavar="AXIS=VALUE",
                   help="hold an axis at this value (default: its first value)")
    p.add_argument("--dpi", type=int, default=200, help="PNG resolution (default 200)")
    p.add_argument("--json", action="store_true",
                   help="print a JSON summary of what was drawn to stdout")
    a = p.parse_args(argv)
    formats = [f.strip().lower() for f in a.format.split(",") if f.strip()]
    bad = [f for f in formats if f not in ("png", "svg", "pdf")]
    if bad or not formats:
        p.error("--format: %s is not png, svg or pdf" % ",".join(bad or ["''"]))
    which = []
    for w in (a.which or ",".join(PLOTS)).split(","):
        w = w.strip().lower()
        w = "outcome" if w == "outcomes" else w
        if w not in PLOTS:
            p.error("--which: %r is not one of %s" % (w, ",".join(PLOTS)))
        if w not in which:
            which.append(w)
    fix = {}
    for f in a.fix:
        k, sep, v = f.partition("=")
        if not sep or not k:
            p.error("--fix %r: expected AXIS=VALUE" % f)
        fix[k.strip()] = v.strip()
    if a.dpi <= 0:
        p.error("--dpi must be positive")
    a.formats, a.plots, a.fixmap = formats, which, fix
    return a


def main(argv=None):
    a = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        if a.which is None and os.path.isfile(os.path.join(a.outdir, "boundary.csv")):
            # by default, leave out the law when the sweep has no fit axis
            # (asked for with --which, that is an error)
            try:
                with open(os.path.join(a.outdir, "boundary.csv"), newline="") as f:
                    header = next(csv.reader(f), [])
                with open(os.path.join(a.outdir, "fit.csv"), newline="") as f:
                    fit = next(csv.DictReader(f), None)
                axis = fit["axis"] if fit and fit.get("axis") else SCALE
            except (OSError, UnicodeDecodeError, csv.Error):
                header, axis = [SCALE], SCALE   # read_table reports it
            if axis not in header:
                sys.stderr.write("plot.py: no %s axis in %s: no law plot\n"
                                 % (axis, os.path.join(a.outdir, "boundary.csv")))
                a.plots = [w for w in a.plots if w != "law"]
        res = load_results(a.outdir, a.plots)
        layout = choose_layout(res, x=a.x, panel=a.panel, fix=a.fixmap, y=a.y)
        outdir = a.out or os.path.join(a.outdir, "plots")
        try:
            os.makedirs(outdir, exist_ok=True)
        except OSError as e:
            raise PlotError(outdir, "cannot create: %s" % e.strerror)
        summary = {"outdir": a.outdir, "x": layout.x, "y": layout.y, "panel": layout.panel,
                   "panel_values": layout.panel_values, "figures": {}}
        with plt.rc_context(STYLE):
            for what in a.plots:
                fig, axes = BUILDERS[what](res, layout)
                files = []
                for fmt in a.formats:
                    path = os.path.join(outdir, "%s.%s" % (FILE_STEM[what], fmt))
                    try:
                        fig.savefig(path, dpi=a.dpi, bbox_inches="tight",
                                    metadata={"Software": "initsweep analysis/plot.py"}
                                    if fmt == "png" else None)
                    except OSError as e:
                        raise PlotError(path, "cannot write: %s" % e.strerror)
                    files.append(path)
                swept = res.law_axis if what == "law" else layout.x
                summary["figures"][what] = {
                    "panels": len(axes), "files": files,
                    "fixed": {k: v for k, v in layout.fixed.items() if k != swept}}
                plt.close(fig)
    except PlotError as e:
        sys.stderr.write("plot.py: %s\n" % e)
        return 2
    if a.json:
        json.dump(summary, sys.stdout, indent=1)
        sys.stdout.write("\n")
    else:
        for what, f in summary["figures"].items():
            for path in f["files"]:
                print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
