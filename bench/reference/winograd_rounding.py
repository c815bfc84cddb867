#!/usr/bin/python3
"""Rounding error of the Winograd kernel gradient in float32, for several sets of interpolation points and for
output tiles of 2x2 (F(2x2, 5x5)) and 4x4 (F(4x4, 5x5), what LeNet's conv2 uses in all three passes since session
21).

Builds the transforms for each point set exactly (sympy), runs the kernel-gradient computation of LeNet's conv2
(20 -> 50 channels, a batch of 128 images: 6272 tiles of 2x2 outputs or 2048 of 4x4) once in float32 and once in
float64, and prints the largest error relative to the largest entry. The project used 0, 1, -1, 2, -2 (and
infinity) for F(2x2) and now uses 0, 1, -1, 1/2, -2; see bench/README.md, section 2.

  /usr/bin/python3 bench/reference/winograd_rounding.py
"""
from fractions import Fraction

import numpy as np
import sympy


def transforms(points, m):
    """Aᵀ, G, Bᵀ of F(m, 5) for m + 3 finite points and infinity (Toom-Cook, transposed for correlation)."""
    def evaluation(columns):
        rows = [[p ** j for j in range(columns)] for p in points]
        rows.append([0] * (columns - 1) + [1])  # the point at infinity: the leading coefficient
        return sympy.Matrix(rows)

    full, kernel, output = evaluation(m + 4), evaluation(5), evaluation(m)
    return [np.array(t.tolist(), dtype=np.float64) for t in (output.T, kernel, full.inv().T)]


def kernel_gradient(points, m, inputs, output_grads, dtype):
    at, g, bt = (t.astype(dtype) for t in transforms(points, m))
    v = np.einsum("ai,tcij,bj->tcab", bt, inputs.astype(dtype), bt)
    dm = np.einsum("ia,tkij,jb->tkab", at, output_grads.astype(dtype), at)
    du = np.einsum("tcab,tkab->ckab", v, dm)
    return np.einsum("ai,ckab,bj->ckij", g, du, g)


def main():
    rng = np.random.default_rng(0)
    channels, filters, f = 20, 50, Fraction
    point_sets = {2: (("0, 1, -1, 2, -2", [f(0), f(1), f(-1), f(2), f(-2)]),
                      ("0, 1, -1, 1/2, -1/2", [f(0), f(1), f(-1), f(1, 2), f(-1, 2)]),
                      ("0, 1, -1, 1/2, -2", [f(0), f(1), f(-1), f(1, 2), f(-2)])),
                  4: (("0, 1, -1, 1/2, -1/2, 2, -2", [f(0), f(1), f(-1), f(1, 2), f(-1, 2), f(2), f(-2)]),)}
    for m, tiles in ((2, 128 * 49), (4, 128 * 16)):
        inputs = rng.uniform(0, 1, (tiles, channels, m + 4, m + 4)).astype(np.float32)  # after ReLU, pooling: >= 0
        output_grads = rng.normal(0, 1e-3, (tiles, filters, m, m)).astype(np.float32)
        for name, points in point_sets[m]:
            exact = kernel_gradient(points, m, inputs, output_grads, np.float64)
            rounded = kernel_gradient(points, m, inputs, output_grads, np.float32)
            error = np.abs(rounded - exact).max() / np.abs(exact).max()
            print(f"F({m}x{m}, 5x5), points {name}, inf: largest error / largest entry = {error:.2e}")


if __name__ == "__main__":
    main()
