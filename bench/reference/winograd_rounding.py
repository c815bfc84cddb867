#!/usr/bin/python3
"""Rounding error of Winograd F(2x2, 5x5)'s kernel gradient in float32, for several sets of interpolation points.

Builds the transforms for each point set exactly (sympy), runs the kernel-gradient computation of LeNet's conv2
(20 -> 50 channels, 16 slices of 392 tiles) once in float32 and once in float64, and prints the largest error
relative to the largest entry. The project used 0, 1, -1, 2, -2 (and infinity) and now uses 0, 1, -1, 1/2, -2;
see bench/README.md, section 2.

  /usr/bin/python3 bench/reference/winograd_rounding.py
"""
from fractions import Fraction

import numpy as np
import sympy


def transforms(points):
    """Aᵀ, G, Bᵀ of F(2, 5) for five finite points and infinity (Toom-Cook, transposed for correlation)."""
    def evaluation(columns):
        rows = [[p ** j for j in range(columns)] for p in points]
        rows.append([0] * (columns - 1) + [1])  # the point at infinity: the leading coefficient
        return sympy.Matrix(rows)

    full, kernel, output = evaluation(6), evaluation(5), evaluation(2)
    return [np.array(m.tolist(), dtype=np.float64) for m in (output.T, kernel, full.inv().T)]


def kernel_gradient(points, inputs, output_grads, dtype):
    at, g, bt = (m.astype(dtype) for m in transforms(points))
    v = np.einsum("ai,tcij,bj->tcab", bt, inputs.astype(dtype), bt)
    dm = np.einsum("ia,tkij,jb->tkab", at, output_grads.astype(dtype), at)
    du = np.einsum("tcab,tkab->ckab", v, dm)
    return np.einsum("ai,ckab,bj->ckij", g, du, g)


def main():
    rng = np.random.default_rng(0)
    tiles, channels, filters = 392 * 16, 20, 50
    inputs = rng.uniform(0, 1, (tiles, channels, 6, 6)).astype(np.float32)  # after ReLU and pooling: >= 0
    output_grads = rng.normal(0, 1e-3, (tiles, filters, 2, 2)).astype(np.float32)
    f = Fraction
    for name, points in (("0, 1, -1, 2, -2", [f(0), f(1), f(-1), f(2), f(-2)]),
                         ("0, 1, -1, 1/2, -1/2", [f(0), f(1), f(-1), f(1, 2), f(-1, 2)]),
                         ("0, 1, -1, 1/2, -2", [f(0), f(1), f(-1), f(1, 2), f(-2)])):
        exact = kernel_gradient(points, inputs, output_grads, np.float64)
        rounded = kernel_gradient(points, inputs, output_grads, np.float32)
        print(f"points {name}, inf: largest error / largest entry = {np.abs(rounded - exact).max() / np.abs(exact).max():.2e}")


if __name__ == "__main__":
    main()
