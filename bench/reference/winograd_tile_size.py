#!/usr/bin/python3
"""Rounding of Winograd F(2x2, 5x5), which the project uses, against F(4x4, 5x5), which does 2.25x fewer products
per output (64 per 16 outputs against 36 per 4), on LeNet's conv2 (20 -> 50 channels) in float32.

For each output tile size m it takes random input tiles ((m + 4) x (m + 4), 20 channels, values >= 0 as after ReLU
and pooling) and output-gradient tiles (m x m, 50 filters), and computes the forward output and the kernel
gradient three ways: directly in float64 (the reference), directly in float32 (what im2col + SGEMM rounds like),
and by Winograd in float32 with the transforms built exactly (sympy) and applied in float32. The kernel
gradient's sum over tiles runs in blocks of 64 in float32, the blocks added in float64, as the kernels add a
block's product to the gradient once. Prints each float32
result's error as the RMS error over the RMS of the reference. Points: F(2) the project's 0, 1, -1, 1/2, -2, inf;
F(4) 0, 1, -1, 1/2, -1/2, 2, -2, inf.

  /usr/bin/python3 bench/reference/winograd_tile_size.py
"""
from fractions import Fraction

import numpy as np
import sympy

CHANNELS, FILTERS, KERNEL = 20, 50, 5


def transforms(points, m):
    """Aᵀ (m x n), G (n x 5), Bᵀ (n x n) of F(m, 5), n = m + 4, for n - 1 finite points and infinity."""
    def evaluation(columns):
        rows = [[p ** j for j in range(columns)] for p in points]
        rows.append([0] * (columns - 1) + [1])  # the point at infinity: the leading coefficient
        return sympy.Matrix(rows)

    n = m + KERNEL - 1
    full, kernel, output = evaluation(n), evaluation(KERNEL), evaluation(m)
    return [np.array(x.tolist(), dtype=np.float64) for x in (output.T, kernel, full.inv().T)]


def winograd(points, m, d, g, dy, dtype):
    at, gm, bt = (x.astype(dtype) for x in transforms(points, m))
    d, g, dy = d.astype(dtype), g.astype(dtype), dy.astype(dtype)
    v = np.einsum("ai,tcij,bj->tcab", bt, d, bt)
    u = np.einsum("ai,ckij,bj->ckab", gm, g, gm)
    y = np.einsum("ia,tkab,jb->tkij", at, np.einsum("tcab,ckab->tkab", v, u), at)
    dm = np.einsum("ia,tkij,jb->tkab", at, dy, at)
    du = np.einsum("ai,ckab,bj->ckij", gm, summed_by_blocks("tcab,tkab->ckab", v, dm).astype(dtype), gm)
    return y, du


def direct(m, d, g, dy, dtype):
    d, g, dy = d.astype(dtype), g.astype(dtype), dy.astype(dtype)
    windows = np.lib.stride_tricks.sliding_window_view(d, (m, m), axis=(2, 3))  # t, c, i, j, a, b
    y = np.einsum("tcijab,ckij->tkab", windows, g)
    du = summed_by_blocks("tcijab,tkab->ckij", windows, dy)
    return y, du


def summed_by_blocks(subscripts, a, b, block=64):
    """A sum over tiles as the kernels do it: blocks of tiles summed in the operands' precision, then added up in
    float64 (so that numpy's long float32 sums do not hide what the transforms round)."""
    total = 0.0
    for first in range(0, a.shape[0], block):
        total = total + np.einsum(subscripts, a[first:first + block], b[first:first + block]).astype(np.float64)
    return total


def relative_rms(x, reference):
    return np.sqrt(np.mean((x.astype(np.float64) - reference) ** 2)) / np.sqrt(np.mean(reference ** 2))


def main():
    rng = np.random.default_rng(0)
    f = Fraction
    cases = ((2, [f(0), f(1), f(-1), f(1, 2), f(-2)]),
             (4, [f(0), f(1), f(-1), f(1, 2), f(-1, 2), f(2), f(-2)]))
    for m, points in cases:
        tiles = 6272 * 4 // (m * m)  # the same number of outputs for both: a batch of LeNet's conv2, 16 images
        n = m + KERNEL - 1
        d = rng.uniform(0, 1, (tiles, CHANNELS, n, n)).astype(np.float32)
        g = rng.uniform(-0.06, 0.06, (CHANNELS, FILTERS, KERNEL, KERNEL)).astype(np.float32)  # Glorot-like
        dy = rng.normal(0, 1e-3, (tiles, FILTERS, m, m)).astype(np.float32)
        y64, du64 = direct(m, d, g, dy, np.float64)
        y32, du32 = direct(m, d, g, dy, np.float32)
        yw, duw = winograd(points, m, d, g, dy, np.float32)
        y_exact, du_exact = winograd(points, m, d, g, dy, np.float64)  # the transforms are right: agrees in float64
        assert relative_rms(y_exact, y64) < 1e-12 and relative_rms(du_exact, du64) < 1e-12
        print(f"F({m}x{m}, 5x5), {tiles} tiles: forward rms error direct {relative_rms(y32, y64):.1e}, "
              f"Winograd {relative_rms(yw, y64):.1e}; kernel gradient direct {relative_rms(du32, du64):.1e}, "
              f"Winograd {relative_rms(duw, du64):.1e}")


if __name__ == "__main__":
    main()
