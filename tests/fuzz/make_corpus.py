#!/usr/bin/env python3
"""Writes the seed corpus of the fuzz harnesses, tests/fuzz/corpus/<name>/seed-*.

    /usr/bin/python3 tests/fuzz/make_corpus.py

Seeds are small valid (and a few nearly valid) inputs in each harness's input
format (see the comment at the top of each fuzz_<name>.c): the sweeps and
test specs with `--set` overrides, tiny IDX pairs plain / gzip / corrupt
gzip, the test CSV files under several options, and small runs.csv files.
The fuzzers add what they find to their own corpus directories; inputs that
once crashed are kept beside the seeds as regress-* files and replayed by
run.sh (and by every fuzzing run, as part of the corpus).
"""
import glob
import gzip
import json
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def put(name, seed, data):
    d = os.path.join(HERE, "corpus", name)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, "seed-" + seed), "wb") as f:
        f.write(data)


def read(path):
    with open(path, "rb") as f:
        return f.read()


def spec_seeds():
    for p in sorted(glob.glob(os.path.join(ROOT, "sweeps", "*.yaml"))):
        put("spec", "sweep-" + os.path.basename(p)[:-5], read(p))
    for p in sorted(glob.glob(os.path.join(ROOT, "tests/specs/invalid/*/spec.yaml"))):
        case = os.path.basename(os.path.dirname(p))
        data = read(p)
        args = os.path.join(os.path.dirname(p), "args")
        if os.path.exists(args):
            words = read(args).split()
            sets = [words[i + 1] for i, w in enumerate(words[:-1]) if w == b"--set"]
            data += b"".join(b"\0" + s for s in sets)
        put("spec", "invalid-" + case, data)
    quick = read(os.path.join(ROOT, "sweeps", "quickstart.yaml"))
    put("spec", "sets", quick + b"\0train.lr=0.25\0model.hidden=[8, 8]"
        b"\0sweep.seed={range: [0, 3]}\0refine.tolerance=0.05")
    put("spec", "sets-sweep", quick + b"\0sweep.train.lr={logspace: [1e-3, 1, 7]}"
        b"\0sweep.model.hidden=[[4], [4, 4]]\0init.dist=xavier_uniform")
    put("spec", "lr-layer", "name: l\nmodel:\n  hidden: [4, 4]\ntrain:\n  lr_layer: [1, 0.5, 2]\n"
        "sweep:\n  train.lr_layer.1: [0.5, 1]\n  train.lr: {linspace: [0.1, 1, 4]}\n")
    put("spec", "csv", "data:\n  kind: csv\n  path: d.csv\n  header: true\n  target: [s, d]\n"
        "model:\n  hidden: [3]\n  output: linear\n  loss: mse\ncriteria:\n  target_loss: 0.01\n")
    put("spec", "idx", "data:\n  kind: idx\n  images: i.gz\n  labels: l.gz\n  limit: 100\n"
        "  normalize: 255\nseed: 7\nsweep:\n  seed: {range: [0, 10, 3]}\n  init.scale: [0.5, 1, 2]\n")
    put("spec", "run-seed", "name: r\nseed: 3\nrun_seed: 5\n")


def idx_pair(opt, images, labels):
    return bytes([opt]) + struct.pack("<H", len(images)) + images + labels


def idx_seeds():
    # 3 images of 2x2, labels 0..2
    pixels = bytes([0, 255, 128, 7, 1, 2, 3, 4, 250, 0, 0, 9])
    images = struct.pack(">IIII", 0x803, 3, 2, 2) + pixels
    labels = struct.pack(">II", 0x801, 3) + bytes([0, 1, 2])
    gz_i, gz_l = gzip.compress(images, mtime=0), gzip.compress(labels, mtime=0)
    put("idx", "plain", idx_pair(0x10, images, labels))
    put("idx", "gzip", idx_pair(0x10, gz_i, gz_l))
    put("idx", "gzip-images", idx_pair(0x01 | 0x04, gz_i, labels))
    put("idx", "limit", idx_pair(0x01, images, gzip.compress(labels, mtime=0)))
    put("idx", "gzip-truncated", idx_pair(0, gz_i[:len(gz_i) // 2], gz_l))
    bad_crc = bytearray(gz_l)
    bad_crc[-6] ^= 0xff
    put("idx", "gzip-bad-crc", idx_pair(0, gz_i, bytes(bad_crc)))
    bad_deflate = bytearray(gz_i)
    bad_deflate[12] ^= 0x55
    put("idx", "gzip-corrupt", idx_pair(0, bytes(bad_deflate), gz_l))
    put("idx", "short-pixels", idx_pair(0, images[:-3], labels))
    put("idx", "label-range", idx_pair(0x04, images, labels))
    put("idx", "count-mismatch", idx_pair(0, images, struct.pack(">II", 0x801, 2) + bytes([0, 1])))
    put("idx", "gzip-concat", idx_pair(0, gz_i + gz_i, gz_l))


def csv_seeds():
    classes = read(os.path.join(ROOT, "tests/data/tiny_classes.csv"))
    regression = read(os.path.join(ROOT, "tests/data/tiny_regression.csv"))
    # option bits: 0 header, 1-3 target, 4-5 classes (0, 2, 3, 10), 6-7 limit
    put("csv", "classes", bytes([1 | (0 << 1) | (2 << 4)]) + classes)
    put("csv", "classes-label", bytes([1 | (6 << 1) | (2 << 4) | (1 << 6)]) + classes)
    put("csv", "regression", bytes([1 | (5 << 1)]) + regression.replace(b"a,b,s,d", b"a,b,x,y"))
    put("csv", "regression-two", bytes([1 | (4 << 1) | (2 << 6)]) + regression)
    put("csv", "no-header", bytes([3 << 1]) + b"1,2,3\n4,5,6\n7,8.5,-9\n")
    put("csv", "blanks", bytes([1 | (1 << 1)]) + b" x , y \r\n 1 , 2 \r\n\t3,\t4\r\n# c\n5,6")
    put("csv", "bad-field", bytes([0]) + b"1,2\n3,x\n")


with open(os.path.join(ROOT, "analysis", "schema.json"), encoding="utf-8") as _f:
    _COLUMNS = json.load(_f)["files"]["runs.csv"]["columns"]
RUN_COLUMNS = [c["name"] for c in _COLUMNS]
# a column the seeds do not set: 0 for an integer, else empty (not defined)
RUN_EMPTY = {c["name"]: "0" if c["type"] == "int" else "" for c in _COLUMNS}
# the record columns the seeds do not vary
RUN_FIXED = {"loss_initial": "0.69314718055994529", "loss_max": "1.5", "accuracy_final": "0.75",
             "grad_norm_initial": "2.25", "dead_fraction": "0", "saturated_fraction": "0",
             "output_saturated_fraction": "0", "layer_dead": "0", "sharpness_initial": "",
             "seconds": "0.0125"}


def runs_csv(axes, rows):
    lines = [",".join(["task"] + axes + RUN_COLUMNS)]
    for task, values, outcome, epochs, epc, loss in rows:
        rec = dict(RUN_EMPTY, **RUN_FIXED, outcome=outcome, epochs=str(epochs), epoch_converged=epc,
                   loss_final=loss, loss_best=loss)
        lines.append(",".join([str(task)] + values + [rec[c] for c in RUN_COLUMNS]))
    return "\n".join(lines) + "\n"


def journal_seeds():
    # the fixed sweep of fuzz_journal.c: model.hidden [[4], [4, 4]] x train.lr
    # [0.01, 0.1] x seed {range: [0, 3]}: 12 tasks, seed varies fastest
    axes = ["model.hidden", "train.lr", "seed"]
    rows = []
    for t in (0, 1, 2, 4, 7, 11):
        h = '"[4]"' if t < 6 else '"[4, 4]"'
        lr = "0.01" if (t // 3) % 2 == 0 else "0.10000000000000001"
        out = "converged" if t % 2 == 0 else "diverged"
        rows.append((t, [h, lr, str(t % 3)], out, 2, "1" if out == "converged" else "",
                     "0.125" if out == "converged" else "inf"))
    good = runs_csv(axes, rows)
    put("journal", "resume", good)
    put("journal", "torn", good + "12,\"[4, 4]\",0.1,2,conv")
    put("journal", "header-only", runs_csv(axes, []))
    put("journal", "empty", "")
    put("journal", "duplicate", good + good.split("\n")[1] + "\n")
    put("journal", "other-axes", runs_csv(["train.lr"], [(0, ["0.01"], "slow", 2, "", "0.5")]))
    meta = "spec_hash 0123456789abcdef\naxes 3\naxis model.hidden\naxis train.lr\naxis seed\n"
    put("journal", "other-spec", good + "\0" + meta)
    put("journal", "bad-line", good.replace(",diverged,", ",divergd,", 1))


def stats_seeds():
    axes = ["init.dist", "init.scale", "train.lr", "seed"]
    rows = []
    task = 0
    for dist in ("normal", "uniform"):
        for j, s in enumerate(("1", "2")):
            for k, lr in enumerate(("0.001", "0.01", "0.1")):
                for seed in (0, 1):
                    edge = 2 - j if dist == "normal" else 3 - j
                    if k < edge:
                        rows.append((task, [dist, s, lr, str(seed)], "converged", 20, "12",
                                     "0.01"))
                    elif k == edge and seed == 0:
                        rows.append((task, [dist, s, lr, str(seed)], "dead", 10, "", "1"))
                    else:
                        rows.append((task, [dist, s, lr, str(seed)], "diverged", 3, "", ""))
                    task += 1
    put("stats", "grid", runs_csv(axes, rows))
    lr_only = [(t, [lr], o, 5, "", l) for t, (lr, o, l) in enumerate(
        [("1e-3", "converged", "0.1"), ("1e-2", "slow", "0.4"), ("0.1", "diverged", "inf"),
         ("1", "converged", "0.2"), ("10", "diverged", "")])]
    put("stats", "lr-crossings", runs_csv(["train.lr"], lr_only))
    put("stats", "no-axes", runs_csv([], [(0, [], "stalled", 7, "", "0.3"),
                                          (1, [], "saturated", 7, "", "0.3")]))
    put("stats", "same-lr", runs_csv(["train.lr", "seed"],
                                     [(0, ["0.1", "0"], "converged", 4, "2", "0.1"),
                                      (1, ["0.10", "1"], "diverged", 4, "", "inf"),
                                      (2, ["1e-1", "2"], "converged", 4, "3", "0.2")]))
    put("stats", "fit", runs_csv(["init.scale", "train.lr"],
                                 [(t, [s, lr], "converged" if i < e else "diverged", 3, "", "0.1")
                                  for t, (s, e, i, lr) in enumerate(
                                      (s, e, i, lr) for s, e in (("0.5", 3), ("1", 2), ("2", 1))
                                      for i, lr in enumerate(("0.01", "0.1", "1", "10")))]))


def main():
    spec_seeds()
    idx_seeds()
    csv_seeds()
    journal_seeds()
    stats_seeds()


if __name__ == "__main__":
    main()
