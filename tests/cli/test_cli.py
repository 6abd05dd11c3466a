"""The commands as a user meets them: --help/--version, train's epoch lines
and record, plan's figures, summarize's errors, bad options."""
import os
import re

from common import EXE, SRC, check, done, run, scratch, write

work = scratch("cli")
p = run([EXE, "--help"])
for word in ("run", "plan", "train", "summarize", "--set", "--fresh", "exit status"):
    check(word in p.stdout, "--help mentions %s" % word)
p = run([EXE, "--help-keys"])
keys = {l.split()[0]: l for l in p.stdout.splitlines()[1:] if l.strip()}
check(len(keys) >= 40, "--help-keys lists every key: %d" % len(keys))
check("0.1" in keys.get("train.lr", "") and "positive" in keys.get("train.lr", ""),
      "--help-keys gives train.lr's default and range: %s" % keys.get("train.lr"))
check("he_normal" in keys.get("init.dist", "") and "xavier_uniform" in keys.get("init.dist", ""),
      "--help-keys gives init.dist's default and names: %s" % keys.get("init.dist"))
p = run([EXE, "plan", "x.yaml", "--quiet"], expect=2)
check("--quiet does not apply to plan" in p.stderr, p.stderr)
p = run([EXE, "--version"])
check(p.stdout.startswith("initsweep "), "--version: %s" % p.stdout)

spec = write(os.path.join(work, "xor.yaml"), """\
name: xor
seed: 3
data: {kind: synthetic, generator: xor, samples: 200, noise: 0.2}
model: {hidden: [8], activation: tanh}
train: {lr: 0.5, epochs: 40, batch: 20}
criteria: {target_accuracy: 0.95}
sweep:
  train.lr: {logspace: [0.01, 100, 5]}
  seed: {range: [0, 3]}
""")
p = run([EXE, "train", spec])
lines = [l for l in p.stdout.splitlines() if l.startswith("epoch")]
check(len(lines) >= 2 and lines[0].startswith("epoch    0"), "train prints epoch lines")
check("outcome" in p.stdout and "loss_initial" in p.stdout, "train prints the record")
p = run([EXE, "train", spec, "--set", "train.sharpness=true", "--set", "train.epochs=1"])
check("sharpness_initial" in p.stdout and "lr_times_sharpness_over_2" in p.stdout,
      "sharpness is reported: %s" % p.stdout[-400:])

p = run([EXE, "plan", spec, "--ranks", "4"])
check("runs       15" in p.stdout, "plan counts 5 x 3 runs: %s" % p.stdout)
check("estimate" in p.stdout and "4 ranks" in p.stdout, "plan estimates time for 4 ranks")
check("train.lr" in p.stdout and "logspace" in p.stdout, "plan lists the axes")

# plan's mean-field line: tanh at sigma_w^2 = 64 x 0.165831^2 = 1.76, sigma_b^2 = 0.05,
# the order-chaos line (chi_1 = 1; meanfield.h, tests/unit/test_meanfield.c)
mf = write(os.path.join(work, "mf.yaml"), """\
name: mf
data: {kind: synthetic, generator: blobs, samples: 200, inputs: 8, classes: 3}
model: {hidden: [64, 64, 64], activation: tanh}
init: {dist: normal, scale: 0.165831, bias: normal, bias_scale: 0.223607}
""")
p = run([EXE, "plan", mf])
line = next((l for l in p.stdout.splitlines() if l.startswith("mean field")), "")
nums = dict(re.findall(r"(q\*|chi_1) ([0-9.e+-]+)", line))
check("sigma_w^2 1.76, sigma_b^2 0.05 (tanh, fan-in 64)" in line and
      "(at the order-chaos line)" in line and abs(float(nums.get("chi_1", "nan")) - 1) < 0.002
      and abs(float(nums.get("q*", "nan")) - 0.570) < 0.003, "plan's mean-field line: %s" % line)
p = run([EXE, "plan", mf, "--set", "init.scale=0.125"])
line = next((l for l in p.stdout.splitlines() if l.startswith("mean field")), "")
check("sigma_w^2 1, " in line and "chi_1 0.759" in line and "ordered" in line,
      "sigma_w^2 = 1: chi_1 = 0.759, ordered: %s" % line)

# errors
p = run([EXE, "frobnicate", spec], expect=2)
check("unknown command" in p.stderr, p.stderr)
p = run([EXE, "run", spec, "--bogus"], expect=2)
check("unknown option" in p.stderr, p.stderr)
p = run([EXE, "summarize", os.path.join(work, "nothing-here")], expect=2)
check("nothing-here" in p.stderr, "summarize names the missing dir: %s" % p.stderr)
p = run([EXE, "train", os.path.join(work, "missing.yaml")], expect=2)
check("missing.yaml" in p.stderr, p.stderr)
missing_data = write(os.path.join(work, "md.yaml"), """\
data: {kind: csv, path: no-such.csv, target: y}
model: {hidden: [4]}
""")
p = run([EXE, "train", missing_data], expect=2)
check("no-such.csv" in p.stderr, "a missing data file is named: %s" % p.stderr)

# --resume insists on a journal; plan and run agree on the grid size
out = os.path.join(work, "out")
p = run([EXE, "run", spec, "-o", out, "--quiet", "--resume"], expect=2)
check("--resume" in p.stderr and not os.path.exists(out), "--resume without a journal: %s"
      % p.stderr)
run([EXE, "run", spec, "-o", out, "--quiet"])
run([EXE, "run", spec, "-o", out, "--quiet", "--resume"])
with open(os.path.join(out, "runs.csv")) as f:
    check(len(f.read().splitlines()) == 16, "run wrote 15 records")
done()
