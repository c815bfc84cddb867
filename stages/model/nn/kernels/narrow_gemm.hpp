#pragma once
// A register-blocked product for GEMMs whose output is a few vector registers wide (Winograd's per-position
// products, the direct convolution): C (rows × L·vectors) (+)= A (rows × depth) · B (depth × L·vectors), L the
// lanes of one register, with any strides for A. Included only by kernels_arch.cpp, once per instruction set.
#include <cstddef>
#include <cstring>
#include <type_traits>

#include <xsimd/xsimd.hpp>

#include "model/nn/kernels/simd_kernels.hpp"

namespace nn::simd {

// a · b + c in one rounding where the instruction set has FMA. xsimd 8.1 has no AVX-512 fma kernel (its generic
// fallback multiplies, then adds: two instructions and two roundings), so the AVX-512 copy calls the intrinsic.
template <class Arch>
xsimd::batch<float, Arch> multiply_add(const xsimd::batch<float, Arch>& a, const xsimd::batch<float, Arch>& b,
                                       const xsimd::batch<float, Arch>& c) {
#if defined(__AVX512F__)
  if constexpr (std::is_base_of_v<xsimd::avx512f, Arch>) return _mm512_fmadd_ps(a, b, c);
#endif
  return xsimd::fma(a, b, c);
}

template <class Arch>
class NarrowGemm {
 public:
  using Vector = xsimd::batch<float, Arch>;
  static constexpr std::size_t kLanes = Vector::size;

  static void product(std::size_t rows, std::size_t vectors, const NarrowLhs& lhs, const float* b, std::size_t bls,
                      const NarrowOut& c) {
    std::size_t j = 0;
    // 7 (LeNet's 50 filters on AVX2) as 4 + 3: fewer loads per multiply-add than 6 + 1.
    for (; j + 6 <= vectors && vectors - j != 7; j += 6) rows_of<6>(rows, lhs, b, bls, c, j);
    if (vectors - j == 7) {
      rows_of<4>(rows, lhs, b, bls, c, j);
      j += 4;
    }
    switch (vectors - j) {
      case 5: rows_of<4>(rows, lhs, b, bls, c, j);
              rows_of<1>(rows, lhs, b, bls, c, j + 4); break;
      case 4: rows_of<4>(rows, lhs, b, bls, c, j); break;
      case 3: rows_of<3>(rows, lhs, b, bls, c, j); break;
      case 2: rows_of<2>(rows, lhs, b, bls, c, j); break;
      case 1: rows_of<1>(rows, lhs, b, bls, c, j); break;
      default: break;
    }
  }

  // A plain matrix: A(r, l) = a[r·ars + l·als].
  static void matrix_product(std::size_t rows, std::size_t vectors, std::size_t depth, const float* a, std::size_t ars,
                             std::size_t als, const float* b, std::size_t bls, float* c, std::size_t crs,
                             bool accumulate) {
    product(rows, vectors, NarrowLhs{a, ars, 1, 0, depth, als}, b, bls,
            NarrowOut{c, crs, kLanes * vectors, accumulate, nullptr});
  }

 private:
  // Rows per block for J registers of columns: R·J accumulators + R broadcasts + 1 load fit the register file
  // (16 registers up to AVX2, 32 with AVX-512); every R divides kWinogradBlock.
  static constexpr int rows_per_block(int J) {
    if (kLanes >= 16) return J >= 6 ? 4 : J == 5 ? 4 : J >= 3 ? 6 : J == 2 ? 8 : 12;
    return J >= 6 ? 2 : J >= 3 ? 3 : J == 2 ? 4 : 6;
  }

  // Columns [lanes·first, lanes·(first + J)) of C, every row: blocks of R rows; a rest of 4 or more rows in one
  // block, a smaller one in halving blocks.
  template <int J>
  static void rows_of(std::size_t rows, const NarrowLhs& lhs, const float* b, std::size_t bls, NarrowOut c,
                      std::size_t first) {
    constexpr int R = rows_per_block(J);
    b += kLanes * first;
    c.data += kLanes * first;
    c.columns = c.columns > kLanes * first ? c.columns - kLanes * first : 0;
    if (c.bias) c.bias += kLanes * first;
    std::size_t r = 0;
    for (; r + R <= rows; r += R) block<R, J>(lhs, r, b, bls, c);
    if constexpr (R > 5) r += rest_in_one_block<R - 1, J>(rows - r, lhs, r, b, bls, c);
    if constexpr (R > 4)
      for (; r + 4 <= rows; r += 4) block<4, J>(lhs, r, b, bls, c);
    if constexpr (R > 2)
      for (; r + 2 <= rows; r += 2) block<2, J>(lhs, r, b, bls, c);
    for (; r < rows; ++r) block<1, J>(lhs, r, b, bls, c);
  }

  // Rows [first_row, first_row + count) in one block<count, J> when 4 < count ≤ N (one row alone runs at the
  // multiply-add's latency: LeNet's conv1 kernel gradient, 5 rows, took as long for its fifth row as for the first
  // four); returns the rows done.
  template <int N, int J>
  static std::size_t rest_in_one_block(std::size_t count, const NarrowLhs& lhs, std::size_t first_row,
                                       const float* b, std::size_t bls, const NarrowOut& c) {
    if constexpr (N <= 4) {
      return 0;
    } else {
      if (count == N) {
        block<N, J>(lhs, first_row, b, bls, c);
        return N;
      }
      return rest_in_one_block<N - 1, J>(count, lhs, first_row, b, bls, c);
    }
  }

  // C[first_row + r][0..lanes·J) (+)= Σ_l A(first_row + r, l) · B[l][0..lanes·J) for R rows; R·J accumulators
  // stay in registers. The depth index l runs over (outer, inner) pairs, so A may be a strided 2-D window.
  template <int R, int J>
  static void block(const NarrowLhs& lhs, std::size_t first_row, const float* b, std::size_t bls,
                    const NarrowOut& c) {
    const float* a = lhs.data + first_row * lhs.row_stride;
    float* out = c.data + first_row * c.row_stride;
    Vector acc[R][J];
    for (int r = 0; r < R; ++r)
      for (int j = 0; j < J; ++j)
        acc[r][j] = c.bias && !c.accumulate ? Vector::load_unaligned(c.bias + kLanes * j) : Vector(0.0f);
    // One loop over the depth, the window's next row a jump of A's pointer: across a loop nest GCC keeps the
    // accumulators in memory, reloading and storing them all at every outer step.
    const std::size_t depth = lhs.outer_count * lhs.inner_count;
    const std::ptrdiff_t next_outer = static_cast<std::ptrdiff_t>(lhs.outer_stride) -
                                      static_cast<std::ptrdiff_t>(lhs.inner_count * lhs.inner_stride);
    const float* column = a;
    const float* row = b;
    for (std::size_t l = 0, i = 0; l < depth; ++l, row += bls) {
      Vector coefficient[R];
      for (int r = 0; r < R; ++r) coefficient[r] = Vector(column[r * lhs.row_stride]);
      for (int j = 0; j < J; ++j) {
        const Vector bj = Vector::load_unaligned(row + kLanes * j);
        for (int r = 0; r < R; ++r) acc[r][j] = multiply_add(coefficient[r], bj, acc[r][j]);
      }
      column += lhs.inner_stride;
      if (++i == lhs.inner_count) {
        i = 0;
        column += next_outer;
      }
    }
    // Accumulating, the product is summed on its own and added to C once: a running total that took every term
    // would round each one against its growing value (the Winograd kernel gradient, summed over all of a task's
    // tiles in C, rounded 3x worse than the product's own sum). With every column written, the registers go
    // straight to C: through a spill and a per-register check, a short product's stores cost as much as its
    // multiply-adds.
    if (c.columns >= kLanes * J) {
      for (int r = 0; r < R; ++r)
        for (int j = 0; j < J; ++j) {
          float* to = out + r * c.row_stride + kLanes * j;
          (c.accumulate ? Vector::load_unaligned(to) + acc[r][j] : acc[r][j]).store_unaligned(to);
        }
      return;
    }
    for (int r = 0; r < R; ++r)
      for (int j = 0; j < J; ++j) {
        float* to = out + r * c.row_stride + kLanes * j;
        const std::size_t n = columns_of(c, j);
        store_columns(c.accumulate ? load_columns(to, n) + acc[r][j] : acc[r][j], to, n);
      }
  }

  // How many of register j's columns C has (0 to lanes).
  static std::size_t columns_of(const NarrowOut& c, int j) {
    const std::size_t before = kLanes * static_cast<std::size_t>(j);
    return c.columns <= before ? 0 : c.columns - before < kLanes ? c.columns - before : kLanes;
  }
  static Vector load_columns(const float* p, std::size_t n) {
    if (n == kLanes) return Vector::load_unaligned(p);
    alignas(64) float part[kLanes] = {};
    std::memcpy(part, p, n * sizeof(float));
    return Vector::load_aligned(part);
  }
  static void store_columns(const Vector& v, float* p, std::size_t n) {
    if (n == kLanes) return v.store_unaligned(p);
    alignas(64) float part[kLanes];
    v.store_aligned(part);
    std::memcpy(p, part, n * sizeof(float));
  }
};

}  // namespace nn::simd
