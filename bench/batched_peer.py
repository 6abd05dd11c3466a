#!/usr/bin/python3
"""The batched script a researcher would write: K networks trained at once
with stacked matrix products, numpy and (when installed) PyTorch, one thread.

Setups (the shapes of bench/bench_batched.sh's initsweep runs):

  fractal  16-16-1 tanh, linear output, mse (1/2 ||yhat - y||^2 averaged
           over samples), mean_field (pre-activation multipliers 1/4 and
           1/16), no biases, full batch of 272 N(0,1) samples, N(0,1)
           weights, a learning rate per net; 1,000 steps
  seed2    784-15-10 sigmoid hidden and output, mse, biases, mini-batch 10,
           one epoch over 10,000 samples (Fashion-MNIST / 255 when present,
           else random data of that shape), U[0,1) weights; the K nets share
           the batch order, so the input layer is one (10, 784) x (784, 15 K)
           product

Steps only: no evaluation, no divergence checks, no records; every net runs
the whole budget.  The learning rates keep every net finite (fractal: input
layer 100..3000, output layer 100; seed2: 0.01..0.5), so no step computes
with NaN or inf, which slows numpy's and PyTorch's kernels.  Prints `RESULT peer=numpy|torch setup=... prec=... K=...
runs_per_s=...` lines, the median over the repeats.
"""
import argparse
import gzip
import os
import statistics
import sys
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
import numpy as np  # noqa: E402

FMNIST = "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz"


def fractal_numpy(K, dtype, steps):
    rng = np.random.default_rng(1)
    X = rng.standard_normal((272, 16)).astype(dtype)
    Y = rng.standard_normal((272, 1)).astype(dtype)
    W1 = rng.standard_normal((K, 16, 16)).astype(dtype)
    W2 = rng.standard_normal((K, 1, 16)).astype(dtype)
    lr1 = np.geomspace(100, 3000, K).astype(dtype)[:, None, None]
    lr2 = np.full(K, 100, dtype=dtype)[:, None, None]
    n = dtype(1.0 / 272)
    t0 = time.perf_counter()
    for _ in range(steps):
        H = np.tanh(np.matmul(X, W1.transpose(0, 2, 1)) * dtype(0.25))  # (K, 272, 16)
        out = np.matmul(H, W2.transpose(0, 2, 1)) * dtype(1 / 16)       # (K, 272, 1)
        d = (out - Y) * n
        gW2 = np.matmul(d.transpose(0, 2, 1), H) * dtype(1 / 16)       # (K, 1, 16)
        dZ = np.matmul(d, W2) * dtype(1 / 16)
        dZ *= 1 - H * H
        gW1 = np.matmul(dZ.transpose(0, 2, 1), X) * dtype(0.25)        # (K, 16, 16)
        W1 -= lr1 * gW1
        W2 -= lr2 * gW2
    return time.perf_counter() - t0


def fractal_torch(torch, K, dtype, steps):
    g = torch.Generator().manual_seed(1)
    X = torch.randn(272, 16, generator=g, dtype=dtype)
    Y = torch.randn(272, 1, generator=g, dtype=dtype)
    W1 = torch.randn(K, 16, 16, generator=g, dtype=dtype)
    W2 = torch.randn(K, 1, 16, generator=g, dtype=dtype)
    lr1 = torch.logspace(2, 3.477, K, dtype=dtype)[:, None, None]
    lr2 = torch.full((K,), 100.0, dtype=dtype)[:, None, None]
    Xb = X.expand(K, 272, 16)
    t0 = time.perf_counter()
    with torch.no_grad():
        for _ in range(steps):
            H = torch.tanh(torch.bmm(Xb, W1.transpose(1, 2)) * 0.25)
            out = torch.bmm(H, W2.transpose(1, 2)) * (1 / 16)
            d = (out - Y) * (1 / 272)
            gW2 = torch.bmm(d.transpose(1, 2), H) * (1 / 16)
            dZ = torch.bmm(d, W2) * (1 / 16)
            dZ *= 1 - H * H
            gW1 = torch.bmm(dZ.transpose(1, 2), Xb) * 0.25
            W1 -= lr1 * gW1
            W2 -= lr2 * gW2
    return time.perf_counter() - t0


def fmnist(n):
    if os.path.exists(FMNIST):
        with gzip.open(FMNIST, "rb") as f:
            raw = np.frombuffer(f.read(), dtype=np.uint8, offset=16)
        return raw[: n * 784].reshape(n, 784).astype(np.float32) / 255
    return np.random.default_rng(2).random((n, 784), dtype=np.float32)


def seed2_numpy(K, X, steps):
    rng = np.random.default_rng(3)
    n = X.shape[0]
    Y = np.eye(10, dtype=np.float32)[rng.integers(0, 10, n)]
    W1 = rng.random((784, 15 * K), dtype=np.float32)          # [W_1 ... W_K]
    b1 = rng.random((15 * K,), dtype=np.float32)
    W2 = rng.random((K, 15, 10), dtype=np.float32)
    b2 = rng.random((K, 1, 10), dtype=np.float32)
    lr = np.geomspace(0.01, 0.5, K).astype(np.float32)
    lr1 = np.repeat(lr, 15)
    lr2 = lr[:, None, None]
    perm = rng.permutation(n)
    B = 10
    t0 = time.perf_counter()
    for s in range(steps):
        idx = perm[(s * B) % n:(s * B) % n + B]
        xb, yb = X[idx], Y[idx]
        H = 1 / (1 + np.exp(-(xb @ W1 + b1)))                   # (B, 15 K)
        Hk = H.reshape(B, K, 15).transpose(1, 0, 2)             # (K, B, 15)
        O = 1 / (1 + np.exp(-(np.matmul(Hk, W2) + b2)))         # (K, B, 10)
        dO = (O - yb) * O * (1 - O) * np.float32(1 / B)
        gW2 = np.matmul(Hk.transpose(0, 2, 1), dO)
        gb2 = dO.sum(1, keepdims=True)
        dH = np.matmul(dO, W2.transpose(0, 2, 1))               # (K, B, 15)
        dZ = (dH * Hk * (1 - Hk)).transpose(1, 0, 2).reshape(B, 15 * K)
        W1 -= lr1 * (xb.T @ dZ)
        b1 -= lr1 * dZ.sum(0)
        W2 -= lr2 * gW2
        b2 -= lr2 * gb2
    return time.perf_counter() - t0


def seed2_torch(torch, K, X, steps):
    g = torch.Generator().manual_seed(3)
    X = torch.from_numpy(X)
    n = X.shape[0]
    Y = torch.eye(10)[torch.randint(0, 10, (n,), generator=g)]
    W1 = torch.rand(784, 15 * K, generator=g)
    b1 = torch.rand(15 * K, generator=g)
    W2 = torch.rand(K, 15, 10, generator=g)
    b2 = torch.rand(K, 1, 10, generator=g)
    lr = torch.logspace(-2, -0.301, K)
    lr1 = lr.repeat_interleave(15)
    lr2 = lr[:, None, None]
    perm = torch.randperm(n, generator=g)
    B = 10
    t0 = time.perf_counter()
    with torch.no_grad():
        for s in range(steps):
            idx = perm[(s * B) % n:(s * B) % n + B]
            xb, yb = X[idx], Y[idx]
            H = torch.sigmoid(torch.addmm(b1, xb, W1))
            Hk = H.reshape(B, K, 15).transpose(0, 1)
            O = torch.sigmoid(torch.baddbmm(b2, Hk, W2))
            dO = (O - yb) * O * (1 - O) * (1 / B)
            gW2 = torch.bmm(Hk.transpose(1, 2), dO)
            gb2 = dO.sum(1, keepdim=True)
            dH = torch.bmm(dO, W2.transpose(1, 2))
            dZ = (dH * Hk * (1 - Hk)).transpose(0, 1).reshape(B, 15 * K)
            W1 -= lr1 * (xb.t() @ dZ)
            b1 -= lr1 * dZ.sum(0)
            W2 -= lr2 * gW2
            b2 -= lr2 * gb2
    return time.perf_counter() - t0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--setup", choices=["fractal", "seed2", "all"], default="all")
    ap.add_argument("-K", type=int, default=32, help="nets trained together")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--peer", choices=["numpy", "torch", "all"], default="all")
    a = ap.parse_args()
    torch = None
    if a.peer != "numpy":
        try:
            import torch  # noqa: F811
            torch.set_num_threads(1)
        except ImportError:
            print("batched_peer: PyTorch not installed (apt-get install -y python3-torch);"
                  " numpy only", file=sys.stderr)
    peers = ["numpy"] if a.peer == "numpy" else (["torch"] if a.peer == "torch" else ["numpy", "torch"])
    X = fmnist(10000) if a.setup in ("seed2", "all") else None
    for peer in peers:
        if peer == "torch" and torch is None:
            continue
        cases = []
        if a.setup in ("fractal", "all"):
            for prec in ("float", "double"):
                if peer == "numpy":
                    dt = np.float32 if prec == "float" else np.float64
                    cases.append(("fractal", prec, lambda dt=dt: fractal_numpy(a.K, dt, 1000)))
                else:
                    dt = torch.float32 if prec == "float" else torch.float64
                    cases.append(("fractal", prec,
                                  lambda dt=dt: fractal_torch(torch, a.K, dt, 1000)))
        if a.setup in ("seed2", "all"):
            if peer == "numpy":
                cases.append(("seed2", "float", lambda: seed2_numpy(a.K, X, 1000)))
            else:
                cases.append(("seed2", "float", lambda: seed2_torch(torch, a.K, X, 1000)))
        for setup, prec, fn in cases:
            fn()                                             # warm-up
            t = statistics.median(fn() for _ in range(a.repeats))
            print(f"RESULT peer={peer} setup={setup} prec={prec} K={a.K} "
                  f"runs_per_s={a.K / t:.1f}", flush=True)


if __name__ == "__main__":
    main()
