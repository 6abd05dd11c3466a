"""`initsweep explain` names the mechanism with its numbers and finds the
fixes, on the seeds' two cases and on a diverging, a dead and a healthy run:

- 784-15-10 sigmoid, mse, U[0,1) weights and biases on Fashion-MNIST
  (sweeps/fmnist_sigmoid_train.yaml): saturated units, every pre-activation
  of layer 1 near +112 = 784 x mean pixel x 1/2, the output constant over
  the samples and the loss at the best constant output's 1/2 (1 - sum p^2)
  = 0.45; the symmetric init (and a fan-based one) fix it;
- 784-64x3-10 ReLU + softmax + mse with U[-1,1] at lr 1e-3
  (sweeps/relu_softmax_mse.yaml): the saturated softmax (95 % of samples at
  init), cross-entropy (or He) fix it, a smaller lr does not, and explain
  says a report that it does implies cross-entropy;
- least squares at lr 1 (sweeps/least_squares.yaml): diverged, lr lambda_0
  = 1 x 2/0.53486 = 3.739 (the exact threshold's inverse), lr / 10 fixes it;
- the quickstart net at lr 3: dead ReLUs, alive at init, lr / 10 fixes it;
- the quickstart itself: healthy;
- 784-256x4-10 sigmoid with U[+-1/sqrt(n)] (sweeps/glorot_sigmoid.yaml): the
  top hidden layer collapses to 0 after epoch 1, tanh fixes it.
The JSON output is checked field by field; under mpirun -np 2 the report
is the same as on one process.  Bad options exit 2."""
import json
import os
import re

from common import EXE, SRC, check, check_near, done, mpi_cmd, run

SANITIZED = os.environ.get("ISW_SANITIZE", "").upper() in ("ON", "1", "TRUE", "YES")
ENV = dict(os.environ, ASAN_OPTIONS="detect_leaks=0")


def spec(name):
    return os.path.join(SRC, "sweeps", name)


def explain(name, *sets, mpi=0):
    args = ["explain", spec(name), "--format", "json"]
    for s in sets:
        args += ["--set", s]
    p = run(mpi_cmd(mpi, *args) if mpi else [EXE] + args, env=ENV)
    return json.loads(p.stdout), p.stdout


def mech(report, name):
    return next((m for m in report["mechanisms"] if m["name"] == name), None)


def cf(report, prefix):
    return next((c for c in report["counterfactuals"] if c["set"].startswith(prefix)), None)


# ---- seed 2: saturated sigmoids, the constant-output plateau
small = ["data.limit=2000"] if SANITIZED else []
r, _ = explain("fmnist_sigmoid_train.yaml", *small)
m = mech(r, "saturated_units")
check(m is not None, "seed 2: saturated units named: %s" % [x["name"] for x in r["mechanisms"]])
layer = r["layers"][0]
check(layer["z_mean"] > 80 and layer["flat_share"] > 0.99,
      "seed 2: layer 1 pre-activations ~ +112, all saturated: %s" % layer)
check_near(r["constant_output_loss"], 0.45, 0.01, "seed 2: 1/2 (1 - sum p^2)")
check(r["output_spread_initial"] < 1e-3, "seed 2: the output is constant over the samples")
check(m and re.search(r"784 x 0\.2[0-9]+ x 0\.5 = 1[01][0-9]", m["text"]) and
      "positive" in m["text"],
      "seed 2: the cause, positive inputs times positive weights: %s" % (m or {}).get("text"))
if not SANITIZED:      # 2,000 samples' 2,000 steps do not reach the plateau yet
    check_near(r["loss_final"], r["constant_output_loss"], 0.01,
               "seed 2: the run ends at the constant-output plateau")
if not SANITIZED:
    sym = cf(r, "init.dist=uniform")
    check(sym and sym["fixes"], "seed 2: the symmetric init fixes it: %s" % sym)
    fan = cf(r, "init.dist=xavier_uniform")
    check(fan and fan["fixes"], "seed 2: xavier_uniform fixes it: %s" % fan)
    check(not cf(r, "init.bias=zero")["fixes"] and not cf(r, "init.scale=0.5")["fixes"],
          "seed 2: zero biases or half the scale leave every unit saturated")
    check("Fixed by: init.dist=uniform" in r["note"], "seed 2 verdict: %s" % r["note"])

# ---- seed 1: ReLU + softmax + mse with U[-1, 1]
r, _ = explain("relu_softmax_mse.yaml", "train.lr=0.001", *small)
m = mech(r, "saturated_softmax_mse")
check(m is not None, "seed 1: the saturated softmax under mse named: %s"
      % [x["name"] for x in r["mechanisms"]])
check(r["output_saturated_initial"] > 0.9, "seed 1: softmax saturated on > 90 %% of samples "
      "at init: %s" % r["output_saturated_initial"])
check(r["outcome"] != "converged", "seed 1: U[-1,1] mse does not train: %s" % r["outcome"])
if not SANITIZED:
    ce, he = cf(r, "model.loss=cross_entropy"), cf(r, "init.dist=he_normal")
    check((ce and ce["fixes"]) or (he and he["fixes"]),
          "seed 1: cross-entropy or a fan-based init fixes it: %s %s" % (ce, he))
    smaller = cf(r, "train.lr=0.0001")
    check(smaller and not smaller["fixes"], "seed 1: lr 1e-4 does not rescue mse: %s" % smaller)
    if ce and ce["fixes"]:
        check("implies cross-entropy" in r["note"], "seed 1: which loss the claim implies: %s"
              % r["note"])
    check("Halving the init scale changes lambda_0" in r["note"],
          "seed 1: the curvature moves with the scale: %s" % r["note"])
    if r["outcome"] == "slow":
        check("saturated crawl" in r["note"], "seed 1: the slow label seen through: %s"
              % r["note"])

# ---- a diverging run: least squares past 2 / lambda_max
r, _ = explain("least_squares.yaml", "train.lr=1")
check(r["outcome"] == "diverged" and mech(r, "curvature"), "least squares at lr 1 diverges: "
      "curvature named (%s, %s)" % (r["outcome"], [x["name"] for x in r["mechanisms"]]))
check_near(r["lr_lambda_0"], 2 / 0.53486, 0.002 * 2 / 0.53486,
           "least squares: lr lambda_0 = lr x lambda_max(X^T X / N)")
fix = cf(r, "train.lr=0.1")
check(fix and fix["fixes"], "least squares: lr / 10 fixes it: %s" % fix)

# ---- a dead run: the quickstart net at lr 3
r, _ = explain("quickstart.yaml", "train.lr=3")
m = mech(r, "dead_relu")
check(r["outcome"] == "dead" and m, "quickstart at lr 3: dead ReLUs named (%s)" % r["outcome"])
check(m and "alive at init" in m["text"], "they were alive at init: %s" % (m or {}).get("text"))
fix = cf(r, "train.lr=0.3")
check(fix and fix["fixes"], "lr / 10 fixes it: %s" % fix)

# ---- a tiny init at a tiny lr: `stalled` by the rules, only too slow
r, _ = explain("quickstart.yaml", "init.scale=0.01", "train.lr=0.001", "train.epochs=30")
m = mech(r, "slow")
check(r["outcome"] == "stalled" and m and "steps are tiny" in m["text"],
      "tiny init: stalled, its steps tiny (%s, %s)" % (r["outcome"], (m or {}).get("text")))
check("only too slow" in r["note"], "the stalled label seen through: %s" % r["note"])
check(cf(r, "init.scale=1") is not None and cf(r, "train.lr=0.01") is not None,
      "the family's own scale and a larger lr tried: %s" % [c["set"] for c in
                                                           r["counterfactuals"]])

# ---- the Glorot collapse: the top sigmoid layer driven to 0 (run under
# mpirun -np 2: the counterfactuals of this 400k-parameter net share out)
if not SANITIZED:
    r, _ = explain("glorot_sigmoid.yaml", "train.epochs=3", mpi=2)
    m = mech(r, "collapsed_layer")
    check(m is not None and "hidden layer 4's mean sigmoid activation went from 0.5" in m["text"]
          and re.search(r"to 0\.0[0-9]+ after epoch 1", m["text"]),
          "glorot: the top layer's collapse named: %s" % (m or {}).get("text"))
    check("saturated crawl" in r["note"], "glorot: slow seen through: %s" % r["note"])
    t = cf(r, "model.activation=tanh")
    check(t is not None and t["outcome"] == "converged",
          "glorot: tanh tried and fixes it: %s" % t)

# ---- healthy; and the same report under mpirun -np 2
r, out1 = explain("quickstart.yaml")
check(r["outcome"] == "converged" and [x["name"] for x in r["mechanisms"]] == ["healthy"],
      "the quickstart run is healthy: %s" % r["mechanisms"])
check(len(r["counterfactuals"]) >= 3 and all("outcome" in c for c in r["counterfactuals"]),
      "its margins were tried: %s" % r["counterfactuals"])
_, out2 = explain("quickstart.yaml", mpi=2)
check(out1 == out2, "mpirun -np 2 gives the same report")
p = run([EXE, "explain", spec("quickstart.yaml")], env=ENV)
for head in ("run ", "outcome ", "mechanism ", "counterfactuals (one change each)"):
    check(head in p.stdout, "the text report has %r" % head)

# ---- bad input
p = run([EXE, "explain", spec("quickstart.yaml"), "--format", "yaml"], expect=2)
check("--format: found \"yaml\", expected text or json" in p.stderr, p.stderr)
p = run([EXE, "explain", spec("quickstart.yaml"), "--set", "sweep.seed=[1]"], expect=2)
check("explain runs the spec's base run" in p.stderr, p.stderr)
p = run([EXE, "explain", os.path.join(SRC, "no-such.yaml")], expect=2)
check("no-such.yaml" in p.stderr, p.stderr)
done()
