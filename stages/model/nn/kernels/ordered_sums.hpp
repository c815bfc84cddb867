#pragma once
// Sums whose order is fixed (row after row, from zero), held in vector registers: a bias gradient (the column sums
// of dL/dy) and the sum of the tasks' partial gradients. xtensor's reducer, built for the sse2 baseline, stored its
// running sum to memory after every row and read it back (1.5% of a LeNet training step, 1 thread); these give the
// same results bit for bit. Included only by kernels_arch.cpp, once per instruction set.
#include <cstddef>
#include <cstring>

#include <xsimd/xsimd.hpp>

namespace nn::simd {

template <class Arch>
class OrderedSums {
  using Vector = xsimd::batch<float, Arch>;
  static constexpr std::size_t kLanes = Vector::size, kMaxVectors = 8;

 public:
  // out (columns) = Σ over the rows of m (rows × columns, packed), in row order.
  static void column_sums(const float* m, std::size_t rows, std::size_t columns, float* out) {
    for (std::size_t first = 0; first < columns; first += kMaxVectors * kLanes) {
      const std::size_t width = columns - first < kMaxVectors * kLanes ? columns - first : kMaxVectors * kLanes;
      const std::size_t available = rows * columns - first;
      sum_columns_in((width + kLanes - 1) / kLanes, m + first, rows, columns, width, available, out + first);
    }
  }

  // out[i] = Σ over the parts (parts[0][first + i] + parts[1][first + i] + ...), in part order, i < n.
  static void sum_parts(const float* const* parts, std::size_t count, std::size_t first, std::size_t n, float* out) {
    std::size_t i = 0;
    for (; i + kLanes <= n; i += kLanes) {
      Vector sum(0.0f);
      for (std::size_t p = 0; p < count; ++p) sum += Vector::load_unaligned(parts[p] + first + i);
      sum.store_unaligned(out + i);
    }
    for (; i < n; ++i) {
      float sum = 0.0f;
      for (std::size_t p = 0; p < count; ++p) sum += parts[p][first + i];
      out[i] = sum;
    }
  }

 private:
  // sum_columns<V> for V = vectors (1 to kMaxVectors): the accumulators' count is a compile-time constant.
  template <std::size_t V = 1>
  static void sum_columns_in(std::size_t vectors, const float* m, std::size_t rows, std::size_t stride,
                             std::size_t width, std::size_t available, float* out) {
    if constexpr (V < kMaxVectors)
      if (vectors > V) return sum_columns_in<V + 1>(vectors, m, rows, stride, width, available, out);
    sum_columns<V>(m, rows, stride, width, available, out);
  }

  // `width` columns (V registers, the last maybe partial) of every row, `stride` apart; `available` floats may be
  // read from m. A row's last register reads on into the rows after it, whose lanes are then dropped; the last
  // rows, where that would read past the matrix, go through a zero-padded copy.
  template <std::size_t V>
  static void sum_columns(const float* m, std::size_t rows, std::size_t stride, std::size_t width,
                          std::size_t available, float* out) {
    Vector sum[V];
    for (std::size_t v = 0; v < V; ++v) sum[v] = Vector(0.0f);
    std::size_t direct = rows;  // rows read in place (no std::min: no std template in this file, see kernels_arch)
    if (width < V * kLanes) {
      const std::size_t fit = available < V * kLanes ? 0 : (available - V * kLanes) / stride + 1;
      direct = fit < rows ? fit : rows;
    }
    for (std::size_t r = 0; r < direct; ++r)
      for (std::size_t v = 0; v < V; ++v) sum[v] += Vector::load_unaligned(m + r * stride + v * kLanes);
    alignas(64) float row[V * kLanes] = {};
    for (std::size_t r = direct; r < rows; ++r) {
      std::memcpy(row, m + r * stride, width * sizeof(float));
      for (std::size_t v = 0; v < V; ++v) sum[v] += Vector::load_aligned(row + v * kLanes);
    }
    for (std::size_t v = 0; v < V; ++v) sum[v].store_aligned(row + v * kLanes);
    std::memcpy(out, row, width * sizeof(float));
  }
};

}  // namespace nn::simd
