#!/usr/bin/env python3
"""The trajectory of one run, from `initsweep train ... --trace FILE`.

    /usr/bin/python3 analysis/plot_trace.py TRACE.csv [--out FILE.png] [--dpi N] [--title T]

Draws, against the evaluation index (the step, with full-batch training):
- loss_t / loss_0 on a log scale (a catapult is the hump above 1 that
  comes back down; divergence never comes back);
- with sharpness probes (train.sharpness_every), lr * lambda_t / 2 and the
  line at 1 where lambda_t = 2 / lr: below it the quadratic model is
  stable, the edge of stability (Cohen et al. 2021) hovers at it, a
  catapult ends once it is below it;
- the gradient norm of each weight layer on a log scale.
Writes FILE.png (default: TRACE.csv with .png).  Exit status 0 done, 2 bad
input (missing or unreadable file, no rows, a missing column), with a
message on stderr naming the path.  Needs numpy and matplotlib
(python3-matplotlib).
"""
import argparse
import math
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import plot  # noqa: E402  (its CSV reader and errors)

NEEDED = ("epoch", "loss_ratio", "grad_norm", "lr_times_sharpness_over_2")


def num(text):
    try:
        return float(text) if text not in ("", None) else math.nan
    except ValueError:
        return math.nan


def read_trace(path):
    """The trace's columns as {name: [float]}; plot.PlotError on bad input
    (plot.py's reader: a missing file or column, no rows, ragged lines)."""
    table = plot.read_table(path, NEEDED)
    names = list(table.rows[0]) if table.rows else []
    return {name: [num(r[name]) for r in table.rows] for name in names}


def positive(xs, ys):
    """The points with a finite positive y (for log axes)."""
    pts = [(x, y) for x, y in zip(xs, ys) if math.isfinite(y) and y > 0]
    return [p[0] for p in pts], [p[1] for p in pts]


def build(trace, title):
    """The figure: loss, curvature (when probed) and gradient panels."""
    ep = trace["epoch"]
    sharp = [(e, s) for e, s in zip(ep, trace["lr_times_sharpness_over_2"]) if math.isfinite(s)]
    layers = sorted((k for k in trace if k.startswith("grad_norm_")),
                    key=lambda k: int(k.rsplit("_", 1)[1]))
    n = 3 if sharp else 2
    fig, axes = plt.subplots(n, 1, figsize=(7.5, 2.4 * n + 0.6), sharex=True,
                             layout="constrained")
    ax = axes[0]
    x, y = positive(ep, trace["loss_ratio"])
    ax.plot(x, y, color="#0072B2", linewidth=1.4)
    ax.axhline(1.0, color="#999999", linewidth=0.8, linestyle=":")
    ax.set_yscale("log")
    ax.set_ylabel("loss / loss\u2080")
    if sharp:
        ax = axes[1]
        ax.plot([e for e, _ in sharp], [s for _, s in sharp], color="#D55E00", marker=".",
                markersize=3, linewidth=1.2)
        ax.axhline(1.0, color="black", linewidth=0.9, linestyle="--",
                   label="\u03bb\u209c = 2 / lr (edge of stability)")
        ax.set_ylabel("lr \u00b7 \u03bb\u209c / 2")
        ax.legend(loc="best", frameon=False, fontsize=8)
    ax = axes[-1]
    for i, k in enumerate(layers):
        x, y = positive(ep, trace[k])
        ax.plot(x, y, linewidth=1.1, label="layer %s" % k.rsplit("_", 1)[1],
                color=plt.get_cmap("viridis")(i / max(1, len(layers) - 1)))
    ax.set_yscale("log")
    ax.set_ylabel("|gradient|")
    ax.set_xlabel("evaluation (step, with full batch)")
    if layers:
        ax.legend(loc="best", frameon=False, fontsize=8, ncols=min(4, len(layers)))
    fig.suptitle(title)
    return fig


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("trace")
    p.add_argument("--out")
    p.add_argument("--dpi", type=int, default=120)
    p.add_argument("--title")
    a = p.parse_args(sys.argv[1:] if argv is None else argv)
    out = a.out or os.path.splitext(a.trace)[0] + ".png"
    try:
        trace = read_trace(a.trace)
        fig = build(trace, a.title or os.path.basename(a.trace))
        try:
            fig.savefig(out, dpi=a.dpi)
        except OSError as e:
            raise plot.PlotError(out, "cannot write: %s" % e.strerror)
    except plot.PlotError as e:
        sys.stderr.write("plot_trace.py: %s\n" % e)
        return 2
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
