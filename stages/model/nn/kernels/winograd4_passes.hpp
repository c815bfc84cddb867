#pragma once
// Winograd F(4x4, 5x5) forward pass on xsimd, for inference: 64 products per 4x4 output tile against F(2x2)'s 36 per
// 2x2, so LeNet's conv2 (14x14 outputs: 16 tiles of 4x4 against 49 of 2x2) multiplies 1.7x less. It rounds a
// little more (y's error 1.5e-6 against 6.4e-7, bench/reference/winograd_tile_size.py), so training keeps F(2x2).
// Included only by kernels_arch.cpp, once per instruction set.
//
// Points 0, 1, -1, 1/2, -1/2, 2, -2, ∞. Bᵀ's rows are scaled to small integers (and 21/4, exact in float); the
// scales sit in G (WinogradF4x4), applied once per kernel:
//   Bᵀ = [1 0 -21/4 0 21/4 0 -1 0; 0 -4 -4 17 17 -4 -4 0; 0 4 -4 -17 17 4 -4 0; 0 4 8 -5 -10 1 2 0;
//         0 -4 8 5 -10 -1 2 0; 0 2 1 -10 -5 8 4 0; 0 -2 1 10 -5 -8 4 0; 0 -1 0 21/4 0 -21/4 0 1]
//   Aᵀ = [1 1 1 1 1 1 1 0; 0 1 -1 1/2 -1/2 2 -2 0; 0 1 1 1/4 1/4 4 4 0; 0 1 -1 1/8 -1/8 8 -8 1]
// y = Aᵀ[U ⊙ (Bᵀ d B)]A for an 8x8 input tile d.
#include <cstddef>
#include <cstring>

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
  static constexpr std::size_t kLanes = Vector::size, kTile = 8, kPositions = 64;
  friend Tiles;

 public:
  static void forward(const WinogradPlan& p, const float* x, std::size_t samples, const float* u, const float* bias,
                      float* y, const WinogradScratch& s) {
    Tiles::template forward<Winograd4x4Passes, Gemm>(p, x, samples, u, bias, y, s);
  }

 private:
  static Vector load(const float* p) { return Vector::load_unaligned(p); }

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
      (even_12 + odd_12).store_unaligned(o + os + c);
      (even_12 - odd_12).store_unaligned(o + 2 * os + c);
      (even_34 + odd_34).store_unaligned(o + 3 * os + c);
      (even_34 - odd_34).store_unaligned(o + 4 * os + c);
      (even_56 + odd_56).store_unaligned(o + 5 * os + c);
      (even_56 - odd_56).store_unaligned(o + 6 * os + c);
      (x7 - x1 + 5.25f * (x3 - x5)).store_unaligned(o + 7 * os + c);
    }
  }

  // Aᵀ: eight rows of n values to four.
  static void apply_at(const float* m, std::size_t ms, float* o, std::size_t os, std::size_t n) {
    for (std::size_t c = 0; c < n; c += kLanes) {
      const Vector x0 = load(m + c), x1 = load(m + ms + c), x2 = load(m + 2 * ms + c), x3 = load(m + 3 * ms + c),
                   x4 = load(m + 4 * ms + c), x5 = load(m + 5 * ms + c), x6 = load(m + 6 * ms + c),
                   x7 = load(m + 7 * ms + c);
      const Vector sum_12 = x1 + x2, diff_12 = x1 - x2, sum_34 = x3 + x4, diff_34 = x3 - x4, sum_56 = x5 + x6,
                   diff_56 = x5 - x6;
      (x0 + sum_12 + sum_34 + sum_56).store_unaligned(o + c);
      (diff_12 + 0.5f * diff_34 + 2.0f * diff_56).store_unaligned(o + os + c);
      (sum_12 + 0.25f * sum_34 + 4.0f * sum_56).store_unaligned(o + 2 * os + c);
      (diff_12 + 0.125f * diff_34 + 8.0f * diff_56 + x7).store_unaligned(o + 3 * os + c);
    }
  }
};

}  // namespace nn::simd
