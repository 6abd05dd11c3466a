"""Regenerates data/least_squares.csv (numpy's PCG64 with a fixed seed, so
the file is the same on every run) and prints 2/lambda_max(X^T X / N) of the
float32 values initsweep reads.  Run: /usr/bin/python3 data/make_least_squares.py"""
import os

import numpy as np

here = os.path.dirname(os.path.abspath(__file__))
path = os.path.join(here, "least_squares.csv")
rng = np.random.default_rng(20261124)
n, d = 200, 5
A = rng.normal(size=(d, d))
X = rng.normal(size=(n, d)) @ A * 0.5 + 0.3
w = rng.normal(size=d)
y = X @ w + 0.7 + 0.2 * rng.normal(size=n)
with open(path, "w") as f:
    f.write("# Least-squares regression: 200 samples, inputs x0..x4 (correlated Gaussian,\n")
    f.write("# mean 0.3), target y = x.w + 0.7 + N(0, 0.2^2).  Full-batch gradient descent\n")
    f.write("# on it diverges exactly when lr > 2/lambda_max(X^T X / N), X with a ones column.\n")
    f.write("x0,x1,x2,x3,x4,y\n")
    for i in range(n):
        f.write(",".join("%.6g" % v for v in list(X[i]) + [y[i]]) + "\n")
Xf = np.loadtxt(path, delimiter=",", comments="#", skiprows=4)[:, :d]
Xb = np.hstack([Xf.astype(np.float32).astype(np.float64), np.ones((n, 1))])
lam = np.linalg.eigvalsh(Xb.T @ Xb / n).max()
print("lambda_max %.9g  2/lambda_max %.9g" % (lam, 2 / lam))
