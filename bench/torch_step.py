#!/usr/bin/python3
"""PyTorch reference for bench_step: microseconds per plain SGD step.

The same cases as bench/bench_step.c, one thread, same shapes and loss
convention (mse = mean over samples of 1/2 ||yhat - y||^2):

  a  784-15-10 sigmoid, sigmoid output, mini-batch 10, float32
     (Fashion-MNIST first 10,000 when present, else random data)
  b  16-16-1 tanh, linear output, mean_field (pre-activation multipliers
     1/sqrt(16) on the hidden layer, 1/16 on the output layer, fused into
     addmm as initsweep fuses them into gemm), full batch of 272 random
     samples, 1,000 steps per repeat, float32 and float64

A step is zero_grad, forward, loss, backward, optimizer.step (torch.optim.SGD,
no momentum).  Variant `preloaded`: the batch is a tensor already in memory.
Variant `trainer` (case a): the batch is gathered each step from a shuffled
index (torch.randperm at every epoch), as initsweep's trainer does.

Prints an aligned table and one `RESULT key=value ...` line per row, in the
format of bench_step.  Run with /usr/bin/python3 (Debian's python3-torch).
"""
import argparse
import gzip
import math
import os
import statistics
import sys
import time

try:
    import torch
except ImportError:
    print("torch_step: PyTorch is not installed (apt-get install -y python3-torch)",
          file=sys.stderr)
    sys.exit(3)

FMNIST_IMAGES = "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz"
FMNIST_LABELS = "/usr/share/datasets/fashion-mnist/train-labels-idx1-ubyte.gz"


def read_fmnist(limit):
    """First `limit` Fashion-MNIST samples: X (n, 784) / 255, Y one-hot (n, 10)."""
    with gzip.open(FMNIST_IMAGES, "rb") as f:
        head = f.read(16)
        n = min(limit, int.from_bytes(head[4:8], "big"))
        pix = f.read(n * 784)
    with gzip.open(FMNIST_LABELS, "rb") as f:
        f.read(8)
        lab = f.read(n)
    X = torch.frombuffer(bytearray(pix), dtype=torch.uint8).reshape(n, 784).float() / 255.0
    y = torch.frombuffer(bytearray(lab), dtype=torch.uint8).long()
    Y = torch.nn.functional.one_hot(y, 10).float()
    return X, Y


class MLP(torch.nn.Module):
    """One hidden layer: Z1 = a1 X W1^T + b1, H = act(Z1), out = act_out(a2 H W2^T + b2)."""

    def __init__(self, nin, nhid, nout, act, out, alpha1, alpha2):
        super().__init__()
        self.W1 = torch.nn.Parameter(torch.empty(nhid, nin))
        self.b1 = torch.nn.Parameter(torch.empty(nhid))
        self.W2 = torch.nn.Parameter(torch.empty(nout, nhid))
        self.b2 = torch.nn.Parameter(torch.empty(nout))
        self.act, self.out = act, out
        self.alpha1, self.alpha2 = alpha1, alpha2

    def forward(self, x):
        h = self.act(torch.addmm(self.b1, x, self.W1.t(), alpha=self.alpha1))
        return self.out(torch.addmm(self.b2, h, self.W2.t(), alpha=self.alpha2))


def mse(yhat, y):
    return 0.5 * (yhat - y).pow(2).sum(dim=1).mean()


def time_case(net, opt, X, Y, B, steps, repeats, trainer):
    """Per-step microseconds of `repeats` repeats of `steps` steps: (median, min)."""
    n = X.shape[0]
    state = {"perm": torch.randperm(n), "pos": 0}

    def batch():
        if not trainer:
            return X, Y
        if state["pos"] + B > n:
            state["perm"] = torch.randperm(n)
            state["pos"] = 0
        idx = state["perm"][state["pos"]:state["pos"] + B]
        state["pos"] += B
        return X.index_select(0, idx), Y.index_select(0, idx)

    if not trainer:
        X, Y = X[:B].contiguous(), Y[:B].contiguous()

    def step():
        xb, yb = batch()
        opt.zero_grad()
        loss = mse(net(xb), yb)
        loss.backward()
        opt.step()

    for _ in range(max(10, steps // 4)):
        step()
    us = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(steps):
            step()
        us.append((time.perf_counter() - t0) * 1e6 / steps)
    finite = all(bool(torch.isfinite(p).all()) for p in net.parameters())
    if not finite:
        print("torch_step: warning: parameters became non-finite", file=sys.stderr)
    return statistics.median(us), min(us)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeats", type=int, default=15)
    ap.add_argument("--scale", type=float, default=1.0,
                    help="multiply every case's steps per repeat")
    ap.add_argument("--random-data", action="store_true",
                    help="case a on random data even when Fashion-MNIST is present")
    args = ap.parse_args()

    torch.set_num_threads(1)
    torch.set_num_interop_threads(1)
    torch.manual_seed(1)
    print(f"torch_step: torch {torch.__version__}, {torch.get_num_threads()} thread, "
          f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(unset)')}")

    if not args.random_data and os.access(FMNIST_IMAGES, os.R_OK) and \
            os.access(FMNIST_LABELS, os.R_OK):
        Xa, Ya = read_fmnist(10000)
        desc_a = "fashion-mnist[10000]"
    else:
        Xa = torch.randn(10000, 784)
        Ya = torch.nn.functional.one_hot(torch.randint(0, 10, (10000,)), 10).float()
        desc_a = "random[10000]"
    Xb = torch.randn(272, 16, dtype=torch.float64)
    Yb = torch.randn(272, 1, dtype=torch.float64)

    rows = []

    def scaled(steps):
        return max(1, math.ceil(steps * args.scale))

    # a: U[-0.5, 0.5] weights and biases, lr 0.5 (as bench_step).
    for trainer in (False, True):
        net = MLP(784, 15, 10, torch.sigmoid, torch.sigmoid, 1.0, 1.0)
        with torch.no_grad():
            for p in net.parameters():
                p.uniform_(-0.5, 0.5)
        opt = torch.optim.SGD(net.parameters(), lr=0.5)
        steps = scaled(5000)
        med, mn = time_case(net, opt, Xa, Ya, 10, steps, args.repeats, trainer)
        rows.append(("a_784-15-10_sigmoid_b10", "float",
                     "trainer" if trainer else "preloaded", desc_a, steps, med, mn))

    # b: N(0,1) weights, zero biases, mean field, lr 0.1 (as bench_step).
    for dtype, pname in ((torch.float32, "float"), (torch.float64, "double")):
        net = MLP(16, 16, 1, torch.tanh, lambda z: z, 1.0 / math.sqrt(16), 1.0 / 16).to(dtype)
        with torch.no_grad():
            net.W1.normal_()
            net.W2.normal_()
            net.b1.zero_()
            net.b2.zero_()
        opt = torch.optim.SGD(net.parameters(), lr=0.1)
        steps = scaled(1000)
        med, mn = time_case(net, opt, Xb.to(dtype), Yb.to(dtype), 272, steps,
                            args.repeats, False)
        rows.append(("b_16-16-1_tanh_full272", pname, "preloaded", "random[272]", steps,
                     med, mn))

    print(f"\n{'case':<24} {'prec':<6} {'variant':<9} {'data':<20} {'steps':>6} "
          f"{'reps':>4} {'us/step':>10} {'us_min':>10}")
    for name, prec, var, data, steps, med, mn in rows:
        print(f"{name:<24} {prec:<6} {var:<9} {data:<20} {steps:>6} {args.repeats:>4} "
              f"{med:>10.3f} {mn:>10.3f}")
    print()
    for name, prec, var, data, steps, med, mn in rows:
        print(f"RESULT case={name} prec={prec} variant={var} impl=torch steps={steps} "
              f"repeats={args.repeats} us_per_step={med:.4f} us_min={mn:.4f}")


if __name__ == "__main__":
    main()
