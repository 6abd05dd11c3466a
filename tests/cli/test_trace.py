"""`initsweep train --task N --trace FILE` and analysis/plot_trace.py: the
trajectory of one grid task of sweeps/catapult_uv.yaml, whose catapult has
a known shape (the loss rises and comes back, lr * lambda_t / 2 starts at
c / 2 and ends below 1), the task's record equal to the sweep's, the plot
rendered and not blank, and the errors."""
import csv
import os

from common import EXE, SRC, check, check_near, done, read_csv, run, scratch

work = scratch("trace")
spec = os.path.join(SRC, "sweeps", "catapult_uv.yaml")
# the grid: model.hidden (3) x train.lr (36: c = 1, 1.1, ..., 4.5) x seed
# (3), first slowest: task 168 is width 512, c = 3.0, seed 0
TASK, C = 168, 3.0
trace = os.path.join(work, "uv.csv")
p = run([EXE, "train", spec, "--task", str(TASK), "--trace", trace,
         "--set", "train.sharpness_every=1", "--set", "train.epochs=300"])
check("lr 3," in p.stdout.splitlines()[0], "the task's c: %s" % p.stdout.splitlines()[0])
rows = read_csv(trace)
check(len(rows) == 301, "one row per evaluation: %d" % len(rows))
check(rows and "grad_norm_0" in rows[0] and "grad_norm_1" in rows[0],
      "per-layer gradient norms: %s" % (list(rows[0]) if rows else None))
# the uv model is one linear hidden layer: its per-layer columns, with q_0
# its mean squared pre-activation and nothing flat (linear never saturates)
check(rows and all(c in rows[0] for c in ("act_mean_0", "q_0", "flat_share_0")) and
      "q_1" not in rows[0], "per-hidden-layer columns: %s" % (list(rows[0]) if rows else None))
check(all(float(r["q_0"]) > 0 and float(r["flat_share_0"]) == 0 for r in rows),
      "q_0 positive, flat_share_0 zero for a linear layer")
ratio = [float(r["loss_ratio"]) for r in rows]
edge = [float(r["lr_times_sharpness_over_2"]) for r in rows]
peak = max(range(len(ratio)), key=lambda i: ratio[i])
check(ratio[0] == 1.0 and ratio[peak] > 10 and 0 < peak <= 20,
      "the loss catapults early: peak %.3g at step %d" % (ratio[peak], peak))
check(ratio[-1] < 1e-6, "and converges: loss ratio %.3g at the end" % ratio[-1])
check_near(edge[0], C / 2, 1e-9, "lr lambda_0 / 2 = c / 2")
check(max(edge[:peak + 1]) > 1 and edge[-1] < 1,
      "the curvature falls below 2 / lr: %.3g -> %.3g" % (max(edge[:peak + 1]), edge[-1]))
check(all(float(r["lr"]) == float(rows[0]["lr"]) for r in rows), "one lr throughout")

# the task's record is the one the sweep journals for that task
out = os.path.join(work, "sweep")
run([EXE, "run", spec, "-o", out, "--quiet", "--set", "sweep.model.hidden=[[64], [512], [4096]]",
     "--set", "refine.enabled=false"])
sweep_row = [r for r in read_csv(os.path.join(out, "runs.csv")) if r["task"] == str(TASK)]
p = run([EXE, "train", spec, "--task", str(TASK)])
rec = dict(l.split(None, 1) for l in p.stdout.split("record:\n", 1)[1].splitlines()
           if len(l.split(None, 1)) == 2)
check(len(sweep_row) == 1 and sweep_row[0]["train.lr"] == "3", "the sweep has task %d" % TASK)
for col in ("outcome", "epochs", "catapult"):
    check(sweep_row and rec.get(col) == sweep_row[0][col],
          "task %d: %s %s in train, %s in the sweep" % (TASK, col, rec.get(col),
                                                        sweep_row[0][col] if sweep_row else None))
for col in ("loss_initial", "loss_max", "sharpness_initial", "lr_used"):
    check(sweep_row and abs(float(rec[col]) - float(sweep_row[0][col])) <=
          1e-8 * abs(float(sweep_row[0][col])), "task %d: %s" % (TASK, col))

# the plot
png = os.path.join(work, "uv.png")
p = run(["/usr/bin/python3", os.path.join(SRC, "analysis", "plot_trace.py"), trace, "--out", png,
         "--dpi", "60"])
check(os.path.getsize(png) > 5000, "plot_trace.py wrote a real image")
import matplotlib  # noqa: E402
matplotlib.use("Agg")
import matplotlib.image as mpimg  # noqa: E402
img = mpimg.imread(png)
check(img.std() > 0.05, "the trace plot is not blank (pixel std %.3g)" % img.std())

# errors: exit 2, a message that names what was wrong, no file written
bad = os.path.join(work, "bad.csv")
p = run([EXE, "train", spec, "--task", "9999", "--trace", bad], expect=2)
check("--task: found 9999, expected a grid task 0..323" in p.stderr, p.stderr)
check(not os.path.exists(bad), "no trace after a refused task")
p = run([EXE, "train", spec, "--trace", os.path.join(work, "missing", "t.csv")], expect=2)
check("found no directory" in p.stderr, p.stderr)
p = run([EXE, "train", spec, "--trace", work], expect=2)
check("found a directory or special file" in p.stderr, p.stderr)
p = run([EXE, "train", spec, "--task", "-1"], expect=2)
check("--task: found \"-1\"" in p.stderr, p.stderr)
p = run([EXE, "run", spec, "--task", "3"], expect=2)
check("--task does not apply to run" in p.stderr, p.stderr)
with open(bad, "w", newline="") as f:
    csv.writer(f).writerow(["task", "outcome"])
p = run(["/usr/bin/python3", os.path.join(SRC, "analysis", "plot_trace.py"), bad], expect=2)
check("plot_trace.py: %s: missing columns" % bad in p.stderr, p.stderr)
done()
