#!/usr/bin/python3
"""Coefficients of src/vmath.c's small-argument tanh polynomial.

tanh(x) = x + x^3 P(x^2) for |x| < 0.55, P the Chebyshev fit (degree 4 for
float, 10 for double) of g(u) = (tanh(sqrt u) - sqrt u) / u^1.5 on
[0, 0.55^2], computed with 50 digits (python3-mpmath; run by hand, the
output is pasted into src/vmath.c).  Prints the coefficients lowest degree
first as C hex literals, and the fit's maximum error in g."""
import re

import mpmath as mp
import numpy as np

mp.mp.dps = 50
THRESHOLD = mp.mpf("0.55")


def g(u):
    if u == 0:
        return mp.mpf(-1) / 3
    x = mp.sqrt(u)
    return (mp.tanh(x) - x) / x**3


for name, degree, cast in (("float", 4, np.float32), ("double", 10, np.float64)):
    poly, err = mp.chebyfit(g, [0, THRESHOLD**2], degree + 1, error=True)
    coeffs = [float(c) for c in poly[::-1]]
    print(f"{name} degree {degree}, max |g - P| = {mp.nstr(err, 3)}")
    hexes = [re.sub(r"0+p", "p", float(cast(c)).hex()) for c in coeffs]
    print(", ".join(h + ("f" if cast is np.float32 else "") for h in hexes))
