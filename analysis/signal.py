#!/usr/bin/python3
"""Signal propagation at init, measured against mean-field theory.

    /usr/bin/python3 analysis/signal.py OUTDIR [--axis KEY] [--plot FILE] [--depth-plot FILE]

Reads OUTDIR/runs.csv of a sweep run with `train.signal: true` and groups
its runs by every axis but the seed.  Per group it prints and writes
OUTDIR/signal.csv: the runs, the mean of chi1_measured (the fitted
per-layer factor of the squared backward signal at init) with its 95 %
interval over the seeds (Student t), the mean-field chi_1 of the same
init and their relative difference; signal_q against mf_q_star, signal_c
against mf_c_star, and log2 of signal_q_ratio (q of the last hidden layer
over the first's).

Along one numeric axis (--axis; default init.sigma_w2 when swept), it
locates the order-chaos
line: for every seed (and every setting of the other axes) the value where
ln chi1_measured first changes sign, linearly interpolated between the two
grid values around it; the mean over seeds with its 95 % interval, beside
the same interpolation of the mean-field chi_1.  --plot draws chi1_measured
(mean and interval) and mf_chi1 against that axis, with 1 and the located
line.

With init.sigma_w2 and model.depth both swept, it also prints per
sigma_w^2 the trainable depth to the grid -- between the deepest depth
whose runs converge in half or more (p_converged >= 0.5) and the next
depth, which does not -- beside 3, 6 and 12 xi_c (mf_xi_c); --depth-plot
draws p_converged over sigma_w^2 x depth with those curves (Schoenholz et
al. 2017, figure 6).

Bad input (no such directory, a runs.csv without the train.signal columns,
an axis that is not swept) is one line on stderr and exit status 2;
signal.csv is replaced whole or not at all.
"""
import argparse
import math
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import initsweep_results as ir  # noqa: E402

COLUMNS = ("chi1_measured", "mf_chi1", "signal_q", "mf_q_star", "signal_c", "mf_c_star",
           "signal_q_ratio")


def t95(n):
    """Two-sided 95 % Student t quantile for n - 1 degrees of freedom."""
    if n < 2:
        return math.nan
    try:
        from scipy import stats
        return float(stats.t.ppf(0.975, n - 1))
    except ImportError:
        # table for small n, normal beyond (differs from t by < 1 % past 60)
        table = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365,
                 8: 2.306, 9: 2.262, 10: 2.228, 12: 2.179, 15: 2.131, 20: 2.086, 30: 2.042,
                 60: 2.000}
        df = n - 1
        keys = sorted(table)
        for k in keys:
            if df <= k:
                return table[k]
        return 1.960


def mean_ci(x):
    """(mean, half-width of the 95 % interval, n) of the finite values of x."""
    x = np.asarray([v for v in x if np.isfinite(v)], dtype=float)
    if len(x) == 0:
        return math.nan, math.nan, 0
    if len(x) == 1:
        return float(x[0]), math.nan, 1
    return float(x.mean()), t95(len(x)) * float(x.std(ddof=1)) / math.sqrt(len(x)), len(x)


def first_crossing(xs, ys):
    """Where ln y first changes sign along increasing x, by linear
    interpolation of ln y; NaN when it never does."""
    pts = [(x, math.log(y)) for x, y in zip(xs, ys) if np.isfinite(y) and y > 0]
    pts.sort()
    for (x0, y0), (x1, y1) in zip(pts, pts[1:]):
        if y0 == 0:
            return x0
        if (y0 < 0) != (y1 < 0) or y1 == 0:
            return x0 + (x1 - x0) * (-y0) / (y1 - y0)
    return math.nan


def trainable_depth(runs, plot_path):
    """Per sigma_w^2: the grid bracket of the largest trainable depth
    against 3, 6, 12 xi_c; the map with those curves when plot_path."""
    sws = sorted(set(float(v) for v in runs["init.sigma_w2"]))
    depths = sorted(set(int(v) for v in runs["model.depth"]))
    p = np.full((len(depths), len(sws)), np.nan)
    xi = []
    print("trainable depth (p_converged >= 0.5) against xi_c:")
    for j, sw in enumerate(sws):
        sub = runs[runs["init.sigma_w2"] == sw]
        xi.append(float(np.nanmean(sub["mf_xi_c"])))
        for i, d in enumerate(depths):
            dd = sub[sub["model.depth"] == d]
            if len(dd):
                p[i, j] = float(np.mean(dd["outcome"] == "converged"))
        ok = [d for i, d in enumerate(depths) if p[i, j] >= 0.5]
        last = max(ok) if ok else 0
        nxt = [d for d in depths if d > last]
        hi = nxt[0] if nxt else math.inf
        lo3, hi12 = 3 * xi[-1], 12 * xi[-1]
        overlap = last <= hi12 and hi >= lo3
        print("  sigma_w^2 %-6g xi_c %-8s trainable to [%s, %s)  3 xi_c %-8s 12 xi_c %-8s %s"
              % (sw, fmt(xi[-1]), last, "inf" if math.isinf(hi) else hi, fmt(lo3), fmt(hi12),
                 "overlaps" if overlap else "outside"))
    if not plot_path:
        return
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(6, 4), layout="constrained")
    x = np.arange(len(sws))
    y = np.arange(len(depths))
    im = ax.imshow(p, origin="lower", aspect="auto", cmap="viridis", vmin=0, vmax=1,
                   extent=(-0.5, len(sws) - 0.5, -0.5, len(depths) - 0.5))
    fig.colorbar(im, ax=ax, label="p_converged")
    ax.set_xticks(x, ["%g" % v for v in sws])
    ax.set_yticks(y, [str(d) for d in depths])
    # depth -> row position: log-linear between grid rows
    ld = np.log(depths)

    def row(dep):
        return np.interp(np.log(dep), ld, y, left=-0.5, right=len(depths) - 0.5)
    for k, style in ((3, ":"), (6, "--"), (12, "-.")):
        ys = [row(k * v) if np.isfinite(v) else len(depths) - 0.5 for v in xi]
        ax.plot(x, ys, style, color="w", lw=1.5, label="%d xi_c" % k)
    ax.set_xlabel("init.sigma_w2")
    ax.set_ylabel("model.depth")
    ax.set_title("trainable depth against the mean-field depth scale")
    ax.legend(fontsize=8, loc="upper right")
    fig.savefig(plot_path, dpi=100)
    print("wrote %s" % plot_path)


def fmt(x, digits=4):
    if isinstance(x, float) and math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return "" if not np.isfinite(x) else "%.*g" % (digits, x)


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("outdir")
    ap.add_argument("--axis", help="the axis along which to locate chi_1 = 1")
    ap.add_argument("--plot", help="write the chi_1 plot to this file (.png, .pdf, .svg)")
    ap.add_argument("--depth-plot", help="write the trainable-depth map to this file")
    args = ap.parse_args(argv)
    try:
        runs, axes = ir.read_table(args.outdir, "runs")
    except ir.ResultsError as e:
        print("signal.py: %s" % e, file=sys.stderr)
        return 2
    path = os.path.join(args.outdir, "runs.csv")
    if len(runs) == 0 or not np.isfinite(runs["mf_chi1"]).any():
        print("signal.py: %s: no run has the train.signal columns (mf_chi1 is empty): expected "
              "a sweep run with train.signal: true" % path, file=sys.stderr)
        return 2
    numeric = [a for a in axes if a != "seed" and runs[a].dtype.kind in "if"]
    axis = args.axis
    if axis is None:
        axis = "init.sigma_w2" if "init.sigma_w2" in numeric else None
    elif axis not in numeric:
        print("signal.py: %s: found no numeric axis %s, expected one of %s" %
              (path, axis, ", ".join(numeric) or "(none)"), file=sys.stderr)
        return 2
    depth_map = "init.sigma_w2" in axes and "model.depth" in axes
    if args.depth_plot and not depth_map:
        print("signal.py: %s: --depth-plot needs init.sigma_w2 and model.depth swept, found "
              "axes %s" % (path, ", ".join(axes)), file=sys.stderr)
        return 2
    if args.plot and axis is None:
        print("signal.py: %s: --plot needs an axis to draw chi_1 along: init.sigma_w2 swept, "
              "or --axis KEY" % path, file=sys.stderr)
        return 2
    group_axes = [a for a in axes if a != "seed"]
    keys = sorted({tuple(r[a] for a in group_axes) for r in runs},
                  key=lambda k: tuple((0, v) if isinstance(v, (int, float, np.number))
                                      else (1, str(v)) for v in k))

    def rows_of(key):
        m = np.ones(len(runs), dtype=bool)
        for a, v in zip(group_axes, key):
            m &= runs[a] == v
        return runs[m]

    head = group_axes + ["n", "chi1_measured", "chi1_lo", "chi1_hi", "mf_chi1", "chi1_rel_diff",
                         "signal_q", "mf_q_star", "signal_c", "mf_c_star", "log2_q_ratio",
                         "log2_q_ratio_lo", "log2_q_ratio_hi"]
    table = []
    for key in keys:
        g = rows_of(key)
        c, ch, n = mean_ci(g["chi1_measured"])
        mf = float(np.nanmean(g["mf_chi1"])) if np.isfinite(g["mf_chi1"]).any() else math.nan
        q = mean_ci(g["signal_q"])[0]
        cc = mean_ci(g["signal_c"])[0]
        lr, lrh, _ = mean_ci(np.log2(np.where(g["signal_q_ratio"] > 0, g["signal_q_ratio"],
                                              np.nan)))
        table.append(list(key) + [len(g), c, c - ch, c + ch, mf, (c - mf) / mf if mf else math.nan,
                                  q, float(np.nanmean(g["mf_q_star"])), cc,
                                  float(np.nanmean(g["mf_c_star"])), lr, lr - lrh, lr + lrh])
    widths = [max(len(h), 8) for h in head]
    print("  ".join(h.rjust(w) for h, w in zip(head, widths)))
    for row in table:
        print("  ".join((fmt(v) if isinstance(v, float) else str(v)).rjust(w)
                        for v, w in zip(row, widths)))
    # signal.csv, whole or not at all
    tmp = os.path.join(args.outdir, ".signal.csv.tmp")
    with open(tmp, "w") as f:
        f.write(",".join(head) + "\n")
        for row in table:
            f.write(",".join(("%.17g" % v if np.isfinite(v) else "") if isinstance(v, float)
                             else str(v) for v in row) + "\n")
    os.replace(tmp, os.path.join(args.outdir, "signal.csv"))

    lines = []
    if axis is not None:
        others = [a for a in axes if a not in ("seed", axis)]
        for okey in sorted({tuple(r[a] for a in others) for r in runs}, key=str):
            m = np.ones(len(runs), dtype=bool)
            for a, v in zip(others, okey):
                m &= runs[a] == v
            sub = runs[m]
            seeds = sorted(set(sub["seed"])) if "seed" in axes else [None]
            per = []
            for s in seeds:
                ss = sub if s is None else sub[sub["seed"] == s]
                per.append(first_crossing(ss[axis], ss["chi1_measured"]))
            xs = sorted(set(sub[axis]))
            mfy = [float(np.nanmean(sub["mf_chi1"][sub[axis] == x])) for x in xs]
            mfx = first_crossing(xs, mfy)
            mean, half, n = mean_ci(per)
            where = ", ".join("%s=%s" % (a, v) for a, v in zip(others, okey))
            print("chi_1 = 1 along %s%s: measured %s +- %s (95 %%, %d of %d seeds cross), "
                  "mean field %s" % (axis, " (%s)" % where if where else "", fmt(mean),
                                     fmt(half, 2), n, len(per), fmt(mfx)))
            lines.append((okey, mean, half, mfx))
    if depth_map:
        trainable_depth(runs, args.depth_plot)
    if args.plot:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        fig, ax = plt.subplots(figsize=(6, 4), layout="constrained")
        ai = group_axes.index(axis)
        others = [i for i in range(len(group_axes)) if i != ai]
        for okey in sorted({tuple(r[i] for i in others) for r in table}, key=str):
            rows = sorted([r for r in table if tuple(r[i] for i in others) == okey],
                          key=lambda r: r[ai])
            x = [r[ai] for r in rows]
            k = len(group_axes) + 1
            y = np.array([r[k] for r in rows])
            lo = np.array([r[k + 1] for r in rows])
            hi = np.array([r[k + 2] for r in rows])
            label = ", ".join("%s=%s" % (group_axes[i], v) for i, v in zip(others, okey))
            err = np.vstack([np.nan_to_num(y - lo), np.nan_to_num(hi - y)])
            ax.errorbar(x, y, yerr=err, fmt="o", capsize=3,
                        label="measured" + (" (%s)" % label if label else ""))
            ax.plot(x, [r[k + 3] for r in rows], "-", label="mean field" +
                    (" (%s)" % label if label else ""))
        ax.axhline(1.0, color="0.5", lw=0.8, ls=":")
        for okey, mean, half, mfx in lines:
            if np.isfinite(mean):
                ax.axvline(mean, color="C3", lw=0.8, ls="--")
        ax.set_xlabel(axis)
        ax.set_ylabel("chi_1 (per-layer factor of the squared gradient)")
        ax.set_title("signal propagation at init")
        ax.legend(fontsize=8)
        fig.savefig(args.plot, dpi=100)
        print("wrote %s" % args.plot)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
