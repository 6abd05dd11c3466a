#!/usr/bin/env python3
"""One self-contained HTML page of an initsweep OUTDIR: OUTDIR/report.html.

    /usr/bin/python3 analysis/report.py OUTDIR [--out FILE] [--dpi N]
    initsweep report OUTDIR          (the same, from the binary)

What was swept (axes, grid, refinement), run counts and time, the outcome
legend and the rules with the spec's values, the stability and outcome maps
and the law plot for every combination of the axes a figure holds fixed
(up to MAX_COMBOS of them), the boundary and fit tables, refinement and
crossing counts, provenance (version, git revision, ranks, hosts, BLAS
kernels per rank, from journal.meta) and the resolved spec.  Figures are
PNGs inside the page (data: URIs) and the styles inline: the file opens
from anywhere, with no network and no other file.  It is written
atomically (a temp file renamed), so a failed report never leaves half a
page.  Needs numpy and matplotlib (Debian: python3-matplotlib).
"""
import argparse
import base64
import datetime
import html
import io
import itertools
import os
import platform
import re
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import initsweep_results as ir  # noqa: E402
import plot  # noqa: E402  (the figures; it sets the Agg backend)

import matplotlib  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

MAX_COMBOS = 16        # figure sets per report; the rest are named, not drawn
MAX_TABLE_ROWS = 400   # rows of boundary.csv shown; the file has them all

CSS = """
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1d1d1d;
background:#fafafa}
header{background:#20303f;color:#fff;padding:18px 28px}header h1{margin:0 0 4px;font-size:22px}
header p{margin:0;color:#c9d3dc}nav{background:#fff;border-bottom:1px solid #ddd;padding:8px 28px;
position:sticky;top:0}nav a{margin-right:16px;color:#20506f;text-decoration:none}
main{padding:8px 28px 40px;max-width:1500px}section{background:#fff;border:1px solid #e3e3e3;
border-radius:6px;padding:12px 20px;margin:18px 0}h2{font-size:18px;margin:6px 0 10px}
h3{font-size:15px;margin:14px 0 6px}table{border-collapse:collapse;font-size:13px;margin:6px 0}
td,th{border:1px solid #ddd;padding:3px 8px;text-align:right}th{background:#f0f3f6}
td.t,th.t{text-align:left}figure{margin:10px 0}figure img{max-width:100%;height:auto;
border:1px solid #eee}figcaption{font-size:13px;color:#555}pre{background:#f5f5f5;padding:10px;
overflow-x:auto;font-size:12.5px}.sw{display:inline-block;width:13px;height:13px;
border:1px solid #555;vertical-align:-2px;margin-right:6px}.note{color:#666;font-size:13px}
.scroll{overflow-x:auto}
"""


def esc(text):
    return html.escape(str(text), quote=True)


def fmt(v):
    """A table cell: 4 significant digits for numbers, '' for NaN."""
    if isinstance(v, (float, np.floating)):
        if np.isnan(v):
            return ""
        if np.isinf(v):
            return "inf" if v > 0 else "-inf"
        return "%.4g" % v
    return str(v)


def table(headers, rows, text_cols=()):
    out = ['<div class="scroll"><table><tr>']
    for i, h in enumerate(headers):
        out.append('<th class="t">%s</th>' % esc(h) if i in text_cols else "<th>%s</th>" % esc(h))
    out.append("</tr>")
    for r in rows:
        out.append("<tr>")
        for i, v in enumerate(r):
            cls = ' class="t"' if i in text_cols else ""
            out.append("<td%s>%s</td>" % (cls, esc(fmt(v))))
        out.append("</tr>")
    out.append("</table></div>")
    return "".join(out)


def figure_html(fig, caption, dpi):
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight",
                metadata={"Software": "initsweep analysis/report.py"})
    plt.close(fig)
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    return ('<figure><img alt="%s" src="data:image/png;base64,%s"><figcaption>%s</figcaption>'
            "</figure>" % (esc(caption), data, esc(caption)))


# ---- what the files say -------------------------------------------------------------------

def read_meta(outdir):
    """journal.meta's platform facts, per journal: [(label, {key: value})]
    (a job array's OUTDIR has one per shard)."""
    paths = []
    if os.path.isfile(os.path.join(outdir, "journal.meta")):
        paths.append(("", os.path.join(outdir, "journal.meta")))
    else:
        for d in sorted(os.listdir(outdir)):
            p = os.path.join(outdir, d, "journal.meta")
            if d.startswith("shard-") and os.path.isfile(p):
                paths.append((d, p))
    out = []
    for label, path in paths:
        facts = {}
        try:
            with open(path) as f:
                for line in f:
                    key, _, rest = line.rstrip("\n").partition(" ")
                    if key == "platform":
                        k, _, v = rest.partition(" ")
                        facts[k] = v
                    elif key in ("spec_hash", "data"):
                        facts.setdefault(key, [])
                        facts[key].append(rest)
        except (OSError, UnicodeDecodeError) as e:
            raise ir.ResultsError(path, "cannot read: %s" % e)
        out.append((label, facts))
    return out


AXIS_FORM = re.compile(r"^\{\s*(linspace|logspace|range)\s*:\s*\[([^\]]*)\]\s*\}$")


def sweep_axes(spec_text):
    """[(key, form text, number of values)] from spec.yaml's sweep section."""
    axes, inside = [], False
    for line in spec_text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if not line.startswith(" "):
            inside = line.split(":")[0].strip() == "sweep"
            continue
        if not inside:
            continue
        key, _, value = line.strip().partition(": ")
        value = value.strip()
        m = AXIS_FORM.match(value)
        if m:
            args = [a.strip() for a in m.group(2).split(",")]
            if m.group(1) == "range":
                start, stop = int(args[0]), int(args[1])
                step = int(args[2]) if len(args) > 2 else 1
                n = max(0, -(-(stop - start) // step))
            else:
                n = int(args[2])
        else:
            n = value.count("[") - 1 if value.startswith("[[") else \
                len([v for v in value.strip("[]").split(",") if v.strip()])
        axes.append((key, value, n))
    return axes


def counts(array, column):
    vals, n = np.unique(array[column], return_counts=True)
    return dict(zip(vals.tolist(), n.tolist()))


# ---- the page -----------------------------------------------------------------------------

def combos(res_plot, layout):
    """The values of the axes a figure holds fixed that vary in the data, as
    --fix dicts in grid order; (shown, total)."""
    held = [a for a in layout.fixed if a in layout.varied and a != layout.x]
    table_ = plot._axis_table(res_plot)
    values = [table_.values(a) for a in held]
    every = [dict(zip(held, c)) for c in itertools.product(*values)]
    return every[:MAX_COMBOS], len(every)


def section(sid, title, body):
    return '<section id="%s"><h2>%s</h2>%s</section>' % (sid, esc(title), body)


def build(outdir, dpi):
    res = ir.load(outdir)
    spec = res.spec
    with open(os.path.join(outdir, "spec.yaml")) as f:
        spec_text = f.read()
    meta = read_meta(outdir)
    name = spec.get("name") or os.path.basename(os.path.normpath(outdir))
    runs, cells, bnd, fit = res.runs, res.cells, res.boundary, res.fit
    axes = sweep_axes(spec_text)
    grid = int(np.prod([n for _, _, n in axes])) if axes else 1
    probes = int((runs["task"] >= grid).sum())
    seconds = float(np.nansum(runs["seconds"])) if "seconds" in runs.dtype.names else float("nan")
    ranks = next((int(f["ranks"]) for _, f in meta if f.get("ranks", "").isdigit()), None)
    parts = []

    # ---- summary
    oc = counts(runs, "outcome")
    rows = [(o, oc.get(o, 0), "%.1f %%" % (100.0 * oc.get(o, 0) / max(len(runs), 1)))
            for o in ir.OUTCOMES]
    body = ["<p>%d runs: %d grid runs over %d axes and %d refinement probes; %.1f core-seconds "
            "of training%s.</p>" % (len(runs), len(runs) - probes, len(axes), probes, seconds,
                                    " (about %.1f s on %d ranks)" % (seconds / ranks, ranks)
                                    if ranks else "")]
    body.append("<h3>What was swept</h3>")
    body.append(table(["axis", "values", "n"], [(k, v, n) for k, v, n in axes], (0, 1)))
    body.append("<p>grid: %d runs%s.</p>" % (
        grid, "; refinement along %s to a relative bracket of %s in at most %s rounds per edge"
        % (spec.get("refine.axis"), spec.get("refine.tolerance"), spec.get("refine.rounds"))
        if spec.get("refine.axis") else "; no refinement"))
    body.append("<h3>Runs by outcome</h3>")
    swatch = ['<span class="sw" style="background:%s"></span>%s'
              % (plot.OUTCOME_COLOURS.get(o, "#fff"), esc(o)) for o, _, _ in rows]
    body.append("<table><tr><th class='t'>outcome</th><th>runs</th><th>share</th></tr>" +
                "".join("<tr><td class='t'>%s</td><td>%d</td><td>%s</td></tr>" % (s, n, p)
                        for s, (_, n, p) in zip(swatch, rows)) + "</table>")
    parts.append(section("summary", "Summary", "".join(body)))

    # ---- outcomes and their rules
    rule = spec.get("criteria.rule", "target")
    body = ["<p>Each run gets the first outcome whose rule holds, in this order%s.</p>"
            % (" (but this sweep uses criteria.rule: bounded, below)" if rule == "bounded"
               else "")]
    rows = []
    for r in ir.SCHEMA.get("outcome_rules", []):
        text = r["rule"]
        keys = sorted(set(re.findall(r"criteria\.[a-z_]+", text)))
        # an unset target is simply absent from the resolved spec
        vals = "; ".join("%s = %s" % (k.split(".", 1)[1], spec[k]) for k in keys if k in spec)
        rows.append('<tr><td class="t"><span class="sw" style="background:%s"></span>%s</td>'
                    '<td class="t">%s</td><td class="t">%s</td></tr>'
                    % (plot.OUTCOME_COLOURS.get(r["outcome"], "#fff"), esc(r["outcome"]),
                       esc(text), esc(vals)))
    body.append("<table><tr><th class='t'>outcome</th><th class='t'>rule</th>"
                "<th class='t'>this spec</th></tr>%s</table>" % "".join(rows))
    flat = ir.SCHEMA.get("flat_rule", "")
    body.append("<p>%s (patience = %s, min_improvement = %s).</p>"
                % (esc(flat), esc(spec.get("criteria.patience", "?")),
                   esc(spec.get("criteria.min_improvement", "?"))))
    body.append("<p>%s (bounded_window = %s).</p>" % (esc(ir.SCHEMA.get("bounded_rule", "")),
                                                       esc(spec.get("criteria.bounded_window",
                                                                    "?"))))
    parts.append(section("outcomes", "Outcomes and their rules", "".join(body)))

    # ---- maps and law, per combination of held axes
    which = ["stability", "outcome"]
    have_law = False
    if len(fit):
        law_axis = str(fit["axis"][0])
        have_law = law_axis in res.axes["boundary"]
    pres = plot.load_results(outdir, which + (["law"] if have_law else []))
    layout = plot.choose_layout(pres)
    shown, total = combos(pres, layout)
    maps, laws = [], []
    with plt.rc_context(plot.STYLE):
        for fix in shown:
            lay = plot.choose_layout(pres, fix=fix)
            note = ", ".join("%s = %s" % kv for kv in fix.items()) or "every run"
            fig, _ = plot.build_stability(pres, lay)
            maps.append(figure_html(fig, "stability map (%s)" % note, dpi))
            fig, _ = plot.build_outcomes(pres, lay)
            maps.append(figure_html(fig, "outcome map (%s)" % note, dpi))
            if have_law:
                fig, _ = plot.build_law(pres, lay)
                laws.append(figure_html(fig, "edges against %s (%s)" % (pres.law_axis, note), dpi))
    more = ("<p class='note'>%d more combinations of the fixed axes are not drawn: "
            "analysis/plot.py OUTDIR --fix AXIS=VALUE draws any of them.</p>"
            % (total - len(shown)) if total > len(shown) else "")
    parts.append(section("maps", "Stability and outcome maps", "".join(maps) + more))
    parts.append(section("law", "Edges against %s" % (pres.law_axis if have_law else "scale"),
                         "".join(laws) + more if laws else
                         "<p>No fit axis (init.scale, model.width, model.depth or fit.axis) in "
                         "this sweep: no law plot.</p>"))

    # ---- tables
    ax_b = res.axes["boundary"]
    stats = ["lr_stable_min", "lr_stable_max", "lr_boundary", "lr_boundary_lo", "lr_boundary_hi",
             "lr_diverge", "lr_diverge_lo", "lr_diverge_hi", "crossings_boundary",
             "crossings_diverge", "n_lr"]
    stats += [c for c in ("c_loss", "c_sharp", "c_max") if np.isfinite(bnd[c]).any()]
    rows = [[r[a] for a in ax_b] + [r[c] for c in stats] for r in bnd[:MAX_TABLE_ROWS]]
    body = table(ax_b + stats, rows, range(len(ax_b)))
    if len(bnd) > MAX_TABLE_ROWS:
        body += "<p class='note'>first %d of %d rows; boundary.csv has them all.</p>" % (
            MAX_TABLE_ROWS, len(bnd))
    parts.append(section("boundary", "Learning-rate edges (boundary.csv)", body))
    ax_f = res.axes["fit"]
    fcols = ["axis", "edge", "model", "slope", "slope_se", "knee", "knee_lo", "knee_hi", "x_min",
             "x_max", "r2", "rmse", "n"]
    rows = [[r[a] for a in ax_f] + [r[c] for c in fcols] for r in fit]
    body = (table(ax_f + fcols, rows, range(len(ax_f) + 3)) if len(fit) else
            "<p>No fits: the sweep has no fit axis.</p>")
    body += ("<p class='note'>model: line (one power law), flat_power / power_flat (flat up to "
             "the knee, then a power law, or the mirror; knee_lo..knee_hi its 95 % interval), "
             "none (no power law fits). The law holds on x_min..x_max.</p>")
    parts.append(section("fits", "Power-law fits (fit.csv)", body))

    # ---- 2-D edge geometry (geometry.csv): one row per plane, its fit
    geo = res.geometry
    planes = {}
    for r in geo:
        planes.setdefault(tuple(str(r[a]) for a in res.axes["geometry"]) +
                          (str(r["axis_x"]), str(r["axis_y"])), r)
    ax_g = res.axes["geometry"]
    gcols = ["axis_x", "axis_y", "nx", "ny", "n_converged", "n_other", "dimension",
             "dimension_se", "dimension_1d_x", "dimension_1d_y"]
    if planes:
        rows = [[r[a] for a in ax_g] + [r[c] for c in gcols]
                for r in list(planes.values())[:MAX_TABLE_ROWS]]
        body = table(ax_g + gcols, rows, list(range(len(ax_g) + 2)))
        body += ("<p class='note'>The edge between trainable (p_converged ≥ 0.5) and not, "
                 "per plane of two numeric axes with 8 or more values (their own columns "
                 "empty): dimension is the box-counting dimension (1 a smooth curve, 2 noise) "
                 "fitted over box sides with enough boxes, dimension_1d_x/y that of the "
                 "outcome switches along 1-D slices; geometry.csv has every box scale. "
                 "analysis/plot_score.py draws a bounded-rule sweep's score.</p>")
    else:
        body = ("<p>No plane: the sweep has no two numeric axes with 8 or more values each "
                "(besides the seed), so geometry.csv has no rows.</p>")
    parts.append(section("geometry", "Edge geometry (geometry.csv)", body))

    # ---- refinement and crossings
    multi_b = int((bnd["crossings_boundary"] > 1).sum())
    multi_d = int((bnd["crossings_diverge"] > 1).sum())
    body = ["<p>%d slices; %d refinement probes; learning-rate points per slice: %s.</p>"
            % (len(bnd), probes, "min %d, median %d, max %d" % (
                bnd["n_lr"].min(), np.median(bnd["n_lr"]), bnd["n_lr"].max()) if len(bnd)
               else "none")]
    body.append(table(["edge", "slices with the edge in range", "with more than one crossing"],
                      [("boundary", int(np.isfinite(bnd["lr_boundary"]).sum()), multi_b),
                       ("divergence", int(np.isfinite(bnd["lr_diverge"]).sum()), multi_d)],
                      (0,)))
    body.append("<p class='note'>More than one crossing: the outcome switches more than once "
                "along the learning rate (e.g. converged, dead, diverged); the edges are the "
                "first crossings.</p>")
    parts.append(section("refinement", "Refinement and crossings", "".join(body)))

    # ---- provenance
    rows = []
    for label, f in meta:
        for key in ("program", "ranks", "hosts", "blas_core", "started"):
            rows.append(((label + " " if label else "") + key, f.get(key, "not recorded")))
        for d in f.get("data", []):
            rows.append(((label + " " if label else "") + "data", d))
    rows.append(("report", "made %s by %s on %s (Python %s, matplotlib %s, "
                           "numpy %s)" % (datetime.datetime.now(datetime.timezone.utc)
                                          .strftime("%Y-%m-%d %H:%M:%S UTC"),
                                          os.path.abspath(__file__), platform.node(),
                                          platform.python_version(), matplotlib.__version__,
                                          np.__version__)))
    parts.append(section("provenance", "Provenance", table(["", "value"], rows, (0, 1))))
    parts.append(section("spec", "The resolved spec (spec.yaml)",
                         "<pre>%s</pre>" % esc(spec_text)))

    nav = "".join('<a href="#%s">%s</a>' % (s, t) for s, t in (
        ("summary", "summary"), ("outcomes", "outcomes"), ("maps", "maps"), ("law", "law"),
        ("boundary", "edges"), ("fits", "fits"), ("geometry", "geometry"),
        ("refinement", "refinement"),
        ("provenance", "provenance"), ("spec", "spec")))
    return ('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            "<title>initsweep report: %s</title><style>%s</style></head><body>"
            "<header><h1>initsweep report: %s</h1><p>%s</p></header><nav>%s</nav><main>%s"
            "</main></body></html>\n"
            % (esc(name), CSS, esc(name), esc(os.path.abspath(outdir)), nav, "".join(parts)))


def main(argv=None):
    p = argparse.ArgumentParser(prog="report.py", description="OUTDIR/report.html: one "
                                "self-contained page of an initsweep results directory")
    p.add_argument("outdir")
    p.add_argument("--out", help="the HTML file (default OUTDIR/report.html)")
    p.add_argument("--dpi", type=int, default=110, help="figure resolution (default 110)")
    a = p.parse_args(sys.argv[1:] if argv is None else argv)
    if a.dpi <= 0:
        p.error("--dpi must be positive")
    out = a.out or os.path.join(a.outdir, "report.html")
    try:
        page = build(a.outdir, a.dpi)
        d = os.path.dirname(os.path.abspath(out))
        fd, tmp = tempfile.mkstemp(prefix=".report.html.", dir=d)
        umask = os.umask(0)
        os.umask(umask)
        try:
            os.fchmod(fd, 0o666 & ~umask)     # mkstemp's 0600 would hide it from the group
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(page)
            os.replace(tmp, out)
        except BaseException:
            os.unlink(tmp)
            raise
    except ir.ResultsError as e:
        sys.stderr.write("report.py: %s\n" % e)
        return 2
    except OSError as e:
        sys.stderr.write("report.py: %s: %s\n" % (out, e.strerror or e))
        return 1
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
