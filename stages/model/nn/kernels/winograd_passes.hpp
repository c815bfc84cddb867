#pragma once
// Winograd F(2x2, 5x5) per-slice passes on xsimd. Included only by kernels_arch.cpp, once per instruction set.
//
// The transforms for the interpolation points 0, 1, -1, 1/2, -2, ∞ (derived with exact fractions; the fractions sit
// in G, applied once per batch by Winograd5x5, so the per-tile transforms are small integers). These points round
// less than 0, ±1, ±2: the kernel gradient's error is 2.9x smaller (bench/reference/winograd_rounding.py).
//   Bᵀ = [2 -3 -4 3 2 0; 0 -2 1 5 2 0; 0 -2 5 -1 -2 0; 0 2 1 -2 -1 0; 0 1 -2 -1 2 0; 0 2 -3 -4 3 2]
//   Aᵀ = [1 1 1 1 1 0; 0 1 -1 1/2 -2 1]
// y = Aᵀ[U ⊙ (Bᵀ d B)]A for a 6x6 input tile d; the gradients use the transposes.
#include <cstddef>

#include <xsimd/xsimd.hpp>

#include "model/nn/kernels/narrow_gemm.hpp"
#include "model/nn/kernels/simd_kernels.hpp"
#include "model/nn/kernels/winograd_tiles.hpp"

namespace nn::simd {

template <class Arch>
class WinogradPasses {
  using Vector = xsimd::batch<float, Arch>;
  using Gemm = NarrowGemm<Arch>;
  using Tiles = WinogradTiles<2>;
  static constexpr std::size_t kLanes = Vector::size;
  friend Tiles;

 public:
  static void forward(const WinogradPlan& p, const float* x, std::size_t samples, const float* u, const float* bias,
                      float* y, const WinogradScratch& s) {
    Tiles::template forward<WinogradPasses, Gemm>(p, x, samples, u, bias, y, s);
  }

  // Adds the slice's dL/dU into du; writes dL/dx when dx is not null.
  static void backward(const WinogradPlan& p, const float* x, const float* dy, std::size_t samples, const float* ut,
                       float* du, float* dx, const WinogradScratch& s) {
    Tiles::template backward<WinogradPasses, Gemm>(p, x, dy, samples, ut, du, dx, s);
  }

 private:
  static Vector load(const float* p) { return Vector::load_unaligned(p); }

  // One 1-D transform over six (or two) rows of n values (n a multiple of the lanes); rows are `stride` apart.
  static void apply_bt(const float* d, std::size_t ds, float* o, std::size_t os, std::size_t n) {
    for (std::size_t c = 0; c < n; c += kLanes) {
      const Vector x0 = load(d + c), x1 = load(d + ds + c), x2 = load(d + 2 * ds + c), x3 = load(d + 3 * ds + c),
                   x4 = load(d + 4 * ds + c), x5 = load(d + 5 * ds + c);
      const Vector x1_x3 = x1 - x3, x2_x4 = x2 - x4;
      (2.0f * (x0 + x4) - 3.0f * x1_x3 - 4.0f * x2).store_unaligned(o + c);
      (5.0f * x3 + x2 - 2.0f * (x1 - x4)).store_unaligned(o + os + c);
      (5.0f * x2 - x3 - 2.0f * (x1 + x4)).store_unaligned(o + 2 * os + c);
      (2.0f * x1_x3 + x2_x4).store_unaligned(o + 3 * os + c);
      (x1_x3 - 2.0f * x2_x4).store_unaligned(o + 4 * os + c);
      (2.0f * (x1 + x5) - 3.0f * x2_x4 - 4.0f * x3).store_unaligned(o + 5 * os + c);
    }
  }


  static void apply_b(const float* v, std::size_t vs, float* o, std::size_t os, std::size_t n) {
    for (std::size_t c = 0; c < n; c += kLanes) {
      const Vector x0 = load(v + c), x1 = load(v + vs + c), x2 = load(v + 2 * vs + c), x3 = load(v + 3 * vs + c),
                   x4 = load(v + 4 * vs + c), x5 = load(v + 5 * vs + c);
      (2.0f * x0).store_unaligned(o + c);
      (2.0f * (x3 + x5 - x1 - x2) + x4 - 3.0f * x0).store_unaligned(o + os + c);
      (5.0f * x2 + x1 + x3 - 2.0f * x4 - 3.0f * x5 - 4.0f * x0).store_unaligned(o + 2 * os + c);
      (3.0f * x0 + 5.0f * x1 - x2 - 2.0f * x3 - x4 - 4.0f * x5).store_unaligned(o + 3 * os + c);
      (2.0f * (x0 + x1 - x2 + x4) - x3 + 3.0f * x5).store_unaligned(o + 4 * os + c);
      (2.0f * x5).store_unaligned(o + 5 * os + c);
    }
  }


  static void apply_at(const float* m, std::size_t ms, float* o, std::size_t os, std::size_t n) {
    for (std::size_t c = 0; c < n; c += kLanes) {
      const Vector x0 = load(m + c), x1 = load(m + ms + c), x2 = load(m + 2 * ms + c), x3 = load(m + 3 * ms + c),
                   x4 = load(m + 4 * ms + c), x5 = load(m + 5 * ms + c);
      (x0 + x1 + x2 + x3 + x4).store_unaligned(o + c);
      (x1 - x2 + 0.5f * x3 - 2.0f * x4 + x5).store_unaligned(o + os + c);
    }
  }


  static void apply_a(const float* y, std::size_t ys, float* o, std::size_t os, std::size_t n) {
    for (std::size_t c = 0; c < n; c += kLanes) {
      const Vector x0 = load(y + c), x1 = load(y + ys + c);
      x0.store_unaligned(o + c);
      (x0 + x1).store_unaligned(o + os + c);
      (x0 - x1).store_unaligned(o + 2 * os + c);
      (x0 + 0.5f * x1).store_unaligned(o + 3 * os + c);
      (x0 - 2.0f * x1).store_unaligned(o + 4 * os + c);
      x1.store_unaligned(o + 5 * os + c);
    }
  }
};

}  // namespace nn::simd
