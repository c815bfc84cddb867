// The narrow GEMM of every kernel build this CPU runs against a plain loop: every column chunking (1-8 registers
// wide), row counts that leave every remainder of each row blocking, 2-D strided left operands (as the direct
// convolution uses; also with each window row starting before the previous one ends), and each way C starts (zero,
// its own values, a bias row) with all or only some columns of the last register written.
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "model/nn/kernels/simd_kernels.hpp"

using nn::simd::Kernels;
using nn::simd::NarrowLhs;
using nn::simd::NarrowOut;

namespace {

enum class Start { Zero, Accumulate, Bias };

struct Case {
  std::size_t vectors, rows, columns;
  Start start;
};

// C as the plain loop computes it, in double; columns past `columns` keep their old values.
std::vector<float> plain_product(const Case& t, const NarrowLhs& lhs, const std::vector<float>& a,
                                 const std::vector<float>& b, std::size_t bls, const std::vector<float>& bias,
                                 std::vector<float> c, std::size_t crs) {
  for (std::size_t r = 0; r < t.rows; ++r)
    for (std::size_t col = 0; col < t.columns; ++col) {
      double sum = t.start == Start::Accumulate ? c[r * crs + col] : t.start == Start::Bias ? bias[col] : 0.0;
      for (std::size_t o = 0; o < lhs.outer_count; ++o)
        for (std::size_t i = 0; i < lhs.inner_count; ++i)
          sum += static_cast<double>(a[r * lhs.row_stride + o * lhs.outer_stride + i * lhs.inner_stride]) *
                 b[(o * lhs.inner_count + i) * bls + col];
      c[r * crs + col] = static_cast<float>(sum);
    }
  return c;
}

TEST(NarrowGemm, EveryBuildMatchesAPlainLoop) {
  std::mt19937_64 rng(5);
  std::uniform_real_distribution<float> u(-1, 1);
  for (const Kernels* k : nn::simd::runnable_kernels()) {
    SCOPED_TRACE(k->name);
    for (std::size_t vectors = 1; vectors <= 8; ++vectors)
      for (std::size_t rows : {1, 2, 3, 5, 6, 7, 9, 11, 13, 15, 20, 27})
        for (Start start : {Start::Zero, Start::Accumulate, Start::Bias})
          for (std::size_t short_by : {std::size_t{0}, std::size_t{1}, k->lanes - 1})
            // A(r, (o, i)) over a window: rows 3 apart, 4 outer steps 40 apart, 6 inner steps 2 apart; or outer
            // steps 5 apart, less than an inner run's 12, so that the kernel's pointer jumps back between them.
            for (std::size_t outer_stride : {40, 5}) {
              const std::size_t width = k->lanes * vectors;
              if (short_by >= width) continue;
              const Case t{vectors, rows, width - short_by, start};
              NarrowLhs lhs{nullptr, 3, 4, outer_stride, 6, 2};
              const std::size_t depth = lhs.outer_count * lhs.inner_count, bls = width + 8;
              // C packed as the direct convolution writes it (row stride = columns), plus a guard row.
              const std::size_t crs = t.columns;
              std::vector<float> a(rows * 3 + 4 * 40 + 6 * 2), b(depth * bls), bias(width), c((rows + 1) * crs);
              for (auto* v : {&a, &b, &bias, &c})
                for (auto& x : *v) x = u(rng);
              const std::vector<float> want = plain_product(t, lhs, a, b, bls, bias, c, crs);
              lhs.data = a.data();
              k->narrow_gemm(rows, vectors, lhs, b.data(), bls,
                             NarrowOut{c.data(), crs, t.columns, start == Start::Accumulate,
                                       start == Start::Bias ? bias.data() : nullptr});
              for (std::size_t i = 0; i < c.size(); ++i)  // the guard row must be left alone
                ASSERT_NEAR(c[i], want[i], 1e-4)
                    << "vectors " << vectors << " rows " << rows << " columns " << t.columns << " start "
                    << static_cast<int>(start) << " outer stride " << outer_stride << " at " << i;
            }
  }
}

}  // namespace
