#!/usr/bin/python3
"""The signed convergence score over two axes, drawn as the fractal paper
draws it (Sohl-Dickstein 2024).

    /usr/bin/python3 analysis/plot_score.py OUTDIR [--x KEY] [--y KEY] [--out FILE] [--dpi N]

Reads OUTDIR/runs.csv of a sweep with `criteria.rule: bounded`, whose
`bounded_score` is -sum of loss_t / loss_0 for a converged run and sum of
loss_0 / loss_t for a diverged one.  As the paper's notebook does, the
scores are mapped by rank: the converged runs' (negative) scores onto 1 ..
0.25 and the diverged runs' onto -0.25 .. -1, each side in the order of its
score (the slowest to converge at 1, the slowest to blow up at -1), so the
colour shows the boundary and, on either side, how fast a run converged or
blew up; then drawn with the Spectral colormap over -1..1 (converged blue,
diverged red).  With several seeds per point the mapped
values are averaged.  --x and --y name the axes (default: the two numeric
axes with the most values, the first on x); the other axes must have one
value each.  Writes OUTDIR/plots/score.png by default.

Bad input (no such directory, no bounded_score, axes that are not swept or
not numeric, more than one value of another axis) is one line on stderr
and exit status 2; the image is written whole or not at all.
"""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import initsweep_results as ir  # noqa: E402


def rank_map(score):
    """The notebook's mapping of the scores to [-1, 1]: each side ranked in
    ascending order of its score, converged (score < 0) onto 1 .. 0.25 (the
    most negative, largest summed loss, slowest to converge at 1), diverged
    (score >= 0) onto -0.25 .. -1 (the largest summed 1/v, slowest to blow
    up, at -1).  Runs near the edge are the slow ones on both sides, so the
    edge is where 1 meets -1."""
    out = np.full(score.shape, np.nan)
    for conv in (True, False):
        idx = np.nonzero((score < 0 if conv else score >= 0) & np.isfinite(score))[0]
        if len(idx) == 0:
            continue
        order = np.argsort(score[idx], kind="stable")
        t = np.empty(len(idx))
        t[order] = np.linspace(0, 1, len(idx)) if len(idx) > 1 else 0.5
        out[idx] = 1 - 0.75 * t if conv else -0.25 - 0.75 * t
    return out


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("outdir")
    ap.add_argument("--x")
    ap.add_argument("--y")
    ap.add_argument("--out")
    ap.add_argument("--dpi", type=int, default=120)
    a = ap.parse_args(argv)
    try:
        runs, axes = ir.read_table(a.outdir, "runs")
    except ir.ResultsError as e:
        print("plot_score.py: %s" % e, file=sys.stderr)
        return 2
    path = os.path.join(a.outdir, "runs.csv")
    score = np.asarray(runs["bounded_score"], dtype=float)
    if len(runs) == 0 or not np.isfinite(score).any():
        print("plot_score.py: %s: bounded_score is empty: expected a sweep with criteria.rule: "
              "bounded" % path, file=sys.stderr)
        return 2
    numeric = [k for k in axes if k != "seed" and runs[k].dtype.kind in "if"]
    counts = {k: len(set(runs[k])) for k in numeric}
    by_size = sorted(numeric, key=lambda k: -counts[k])
    x = a.x or (by_size[0] if by_size else None)
    y = a.y or next((k for k in by_size if k != x), None)
    for name, key in (("--x", x), ("--y", y)):
        if key is None or key not in numeric:
            print("plot_score.py: %s: %s: found %s, expected a numeric axis (%s)" %
                  (path, name, key, ", ".join(numeric) or "none"), file=sys.stderr)
            return 2
    if x == y:
        print("plot_score.py: %s: --x and --y are both %s" % (path, x), file=sys.stderr)
        return 2
    for k in axes:
        if k not in (x, y, "seed") and len(set(runs[k])) > 1:
            print("plot_score.py: %s: axis %s has %d values, expected one (draw one slice: "
                  "initsweep run --set to fix it)" % (path, k, len(set(runs[k]))), file=sys.stderr)
            return 2
    mapped = rank_map(score)
    xs = np.array(sorted(set(runs[x])))
    ys = np.array(sorted(set(runs[y])))
    total = np.zeros((len(ys), len(xs)))
    count = np.zeros((len(ys), len(xs)))
    ix = np.searchsorted(xs, runs[x])
    iy = np.searchsorted(ys, runs[y])
    ok = np.isfinite(mapped)
    np.add.at(total, (iy[ok], ix[ok]), mapped[ok])
    np.add.at(count, (iy[ok], ix[ok]), 1)
    img = np.where(count > 0, total / np.maximum(count, 1), np.nan)

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    out = a.out or os.path.join(a.outdir, "plots", "score.png")
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    fig, ax = plt.subplots(figsize=(6, 5), layout="constrained")
    logx = xs.min() > 0 and xs.max() / xs.min() > 20
    logy = ys.min() > 0 and ys.max() / ys.min() > 20
    ex = (np.log10(xs[0]), np.log10(xs[-1])) if logx else (xs[0], xs[-1])
    ey = (np.log10(ys[0]), np.log10(ys[-1])) if logy else (ys[0], ys[-1])
    im = ax.imshow(img, origin="lower", aspect="auto", cmap="Spectral", vmin=-1, vmax=1,
                   extent=(ex[0], ex[1], ey[0], ey[1]), interpolation="nearest")
    cb = fig.colorbar(im, ax=ax, ticks=[-1, -0.25, 0.25, 1])
    cb.ax.set_yticklabels(["diverged, slowest", "diverged, fastest", "converged, fastest",
                           "converged, slowest"])
    ax.set_xlabel(("log10 " if logx else "") + x)
    ax.set_ylabel(("log10 " if logy else "") + y)
    ax.set_title("convergence score (rank-mapped), %d runs" % len(runs))
    tmp = out + ".tmp.png"
    fig.savefig(tmp, dpi=a.dpi)
    os.replace(tmp, out)
    print("wrote %s" % out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
