#pragma once
// Winograd F(4x4, 5x5) on xsimd, forward and backward: 64 products per 4x4 output tile against F(2x2)'s 36 per
// 2x2, so LeNet's conv2 (14x14 outputs: 16 tiles of 4x4 against 49 of 2x2) multiplies 1.7x less. It rounds a little
// more (y's error 1.5e-6 against 6.4e-7, bench/reference/winograd_tile_size.py; the kernel gradient's 2.8e-6 of
// its largest entry against 1.7e-6, KernelGradientRoundsLittle in tests/stages/winograd_test.cpp).
// Included only by kernels_arch.cpp, once per instruction set.
//
// Points 0, 1, -1, 1/2, -1/2, 2, -2, ∞. Bᵀ's rows are scaled to small integers (and 21/4, exact in float); the
// scales sit in G (Winograd5x5), applied once per kernel:
//   Bᵀ = [1 0 -21/4 0 21/4 0 -1 0; 0 -4 -4 17 17 -4 -4 0; 0 4 -4 -17 17 4 -4 0; 0 4 8 -5 -10 1 2 0;
//         0 -4 8 5 -10 -1 2 0; 0 2 1 -10 -5 8 4 0; 0 -2 1 10 -5 -8 4 0; 0 -1 0 21/4 0 -21/4 0 1]
//   Aᵀ = [1 1 1 1 1 1 1 0; 0 1 -1 1/2 -1/2 2 -2 0; 0 1 1 1/4 1/4 4 4 0; 0 1 -1 1/8 -1/8 8 -8 1]
// y = Aᵀ[U ⊙ (Bᵀ d B)]A for an 8x8 input tile d; dL/dd = B[(A dy Aᵀ) · Uᵀ]Bᵀ summed over filters, and
// dL/dU = Σ (Bᵀ d B)ᵀ · (A dy Aᵀ) over tiles, position by position.
#include <cstddef>

#include <xsimd/xsimd.hpp>

#include "model/nn/kernels/narrow_gemm.hpp"
#include "model/nn/kernels/simd_kernels.hpp"
#include "model/nn/kernels/winograd_tiles.hpp"

namespace nn::simd {

template <class Arch>
class Winograd4x4Passes {
  using Vector = xsimd::batch<float, Arch>;
  using Gemm = NarrowGemm<Arch>;
  using Tiles = WinogradTiles<4>;
  static constexpr std::size_t kLanes = Vector::size;
  friend Tiles;

 public:
  static void forward(const WinogradPlan& p, const float* x, std::size_t samples, const float* u, const float* bias,
                      float* y, const WinogradScratch& s) {
    Tiles::template forward<Winograd4x4Passes, Gemm>(p, x, samples, u, bias, y, s);
  }

  // Adds the slice's dL/dU into du (64, in_c, k_pad); writes dL/dx when dx is not null. ut is U transposed (64,
  // filters, c_pad).
  static void backward(const WinogradPlan& p, const float* x, const float* dy, std::size_t samples, const float* ut,
                       float* du, float* dx, const WinogradScratch& s) {
    Tiles::template backward<Winograd4x4Passes, Gemm>(p, x, dy, samples, ut, du, dx, s);
  }

 private:
  static Vector load(const float* p) { return Vector::load_unaligned(p); }

  // Rows 1 to 6 of a transform's output, `os` apart: for each pair of points ±p, even + odd and even - odd.
  static void store_point_pairs(float* o, std::size_t os, const Vector (&even)[3], const Vector (&odd)[3]) {
    for (std::size_t pair = 0; pair < 3; ++pair) {
      (even[pair] + odd[pair]).store_unaligned(o + (2 * pair + 1) * os);
      (even[pair] - odd[pair]).store_unaligned(o + (2 * pair + 2) * os);
    }
  }

  // Bᵀ over eight rows of n values (n a multiple of the lanes), rows `ds` apart in, `os` apart out.
  static void apply_bt(const float* d, std::size_t ds, float* o, std::size_t os, std::size_t n) {
    for (std::size_t c = 0; c < n; c += kLanes) {
      const Vector x0 = load(d + c), x1 = load(d + ds + c), x2 = load(d + 2 * ds + c), x3 = load(d + 3 * ds + c),
                   x4 = load(d + 4 * ds + c), x5 = load(d + 5 * ds + c), x6 = load(d + 6 * ds + c),
                   x7 = load(d + 7 * ds + c);
      const Vector odd_12 = 17.0f * x3 - 4.0f * (x1 + x5), even_12 = 17.0f * x4 - 4.0f * (x2 + x6);
      const Vector odd_34 = 4.0f * x1 - 5.0f * x3 + x5, even_34 = 2.0f * (4.0f * x2 - 5.0f * x4 + x6);
      const Vector odd_56 = 2.0f * (x1 - 5.0f * x3 + 4.0f * x5), even_56 = x2 - 5.0f * x4 + 4.0f * x6;
      (x0 - x6 + 5.25f * (x4 - x2)).store_unaligned(o + c);
      store_point_pairs(o + c, os, {even_12, even_34, even_56}, {odd_12, odd_34, odd_56});
      (x7 - x1 + 5.25f * (x3 - x5)).store_unaligned(o + 7 * os + c);
    }
  }

  // Eight rows' vectors at column c, rows `stride` apart, as the first, the last, and the sums and differences of
  // the pairs between (the points ±1, ±1/2, ±2): what Aᵀ and B combine.
  struct PointPairs {
    Vector first, last, sum_12, diff_12, sum_34, diff_34, sum_56, diff_56;
  };
  static PointPairs point_pairs(const float* p, std::size_t stride, std::size_t c) {
    const Vector x1 = load(p + stride + c), x2 = load(p + 2 * stride + c), x3 = load(p + 3 * stride + c),
                 x4 = load(p + 4 * stride + c), x5 = load(p + 5 * stride + c), x6 = load(p + 6 * stride + c);
    return {load(p + c), load(p + 7 * stride + c), x1 + x2, x1 - x2, x3 + x4, x3 - x4, x5 + x6, x5 - x6};
  }

  // Aᵀ: eight rows of n values to four.
  static void apply_at(const float* m, std::size_t ms, float* o, std::size_t os, std::size_t n) {
    for (std::size_t c = 0; c < n; c += kLanes) {
      const PointPairs x = point_pairs(m, ms, c);
      (x.first + x.sum_12 + x.sum_34 + x.sum_56).store_unaligned(o + c);
      (x.diff_12 + 0.5f * x.diff_34 + 2.0f * x.diff_56).store_unaligned(o + os + c);
      (x.sum_12 + 0.25f * x.sum_34 + 4.0f * x.sum_56).store_unaligned(o + 2 * os + c);
      (x.diff_12 + 0.125f * x.diff_34 + 8.0f * x.diff_56 + x.last).store_unaligned(o + 3 * os + c);
    }
  }

  // A (Aᵀ transposed): four rows of n values to eight.
  static void apply_a(const float* y, std::size_t ys, float* o, std::size_t os, std::size_t n) {
    for (std::size_t c = 0; c < n; c += kLanes) {
      const Vector x0 = load(y + c), x1 = load(y + ys + c), x2 = load(y + 2 * ys + c), x3 = load(y + 3 * ys + c);
      const Vector even_1 = x0 + x2, odd_1 = x1 + x3, even_half = x0 + 0.25f * x2, odd_half = 0.5f * x1 + 0.125f * x3;
      const Vector even_2 = x0 + 4.0f * x2, odd_2 = 2.0f * x1 + 8.0f * x3;
      x0.store_unaligned(o + c);
      store_point_pairs(o + c, os, {even_1, even_half, even_2}, {odd_1, odd_half, odd_2});
      x3.store_unaligned(o + 7 * os + c);
    }
  }

  // B (Bᵀ transposed) over eight rows of n values.
  static void apply_b(const float* v, std::size_t vs, float* o, std::size_t os, std::size_t n) {
    for (std::size_t c = 0; c < n; c += kLanes) {
      const PointPairs x = point_pairs(v, vs, c);
      x.first.store_unaligned(o + c);
      (4.0f * (x.diff_34 - x.diff_12) + 2.0f * x.diff_56 - x.last).store_unaligned(o + os + c);
      (8.0f * x.sum_34 + x.sum_56 - 4.0f * x.sum_12 - 5.25f * x.first).store_unaligned(o + 2 * os + c);
      (17.0f * x.diff_12 - 5.0f * x.diff_34 - 10.0f * x.diff_56 + 5.25f * x.last).store_unaligned(o + 3 * os + c);
      (17.0f * x.sum_12 - 10.0f * x.sum_34 - 5.0f * x.sum_56 + 5.25f * x.first).store_unaligned(o + 4 * os + c);
      (x.diff_34 - 4.0f * x.diff_12 + 8.0f * x.diff_56 - 5.25f * x.last).store_unaligned(o + 5 * os + c);
      (2.0f * x.sum_34 + 4.0f * (x.sum_56 - x.sum_12) - x.first).store_unaligned(o + 6 * os + c);
      x.last.store_unaligned(o + 7 * os + c);
    }
  }
};

}  // namespace nn::simd
