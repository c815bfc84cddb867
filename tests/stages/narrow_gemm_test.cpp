// The narrow GEMM of every kernel build this CPU runs against a plain loop: every column chunking (1-8 registers
// wide), row counts that leave every remainder of each row blocking, 2-D strided left operands (as the direct
// convolution uses) and accumulation.
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "model/nn/kernels/simd_kernels.hpp"

using nn::simd::Kernels;
using nn::simd::NarrowLhs;

namespace {

TEST(NarrowGemm, EveryBuildMatchesAPlainLoop) {
  for (const Kernels* build : nn::simd::runnable_kernels()) {
    SCOPED_TRACE(build->name);
    const Kernels& k = *build;
    const std::size_t lanes = k.lanes;
  std::mt19937_64 rng(5);
  std::uniform_real_distribution<float> u(-1, 1);
  for (std::size_t vectors = 1; vectors <= 8; ++vectors)
    for (std::size_t rows : {1, 2, 3, 5, 7, 13, 15, 27})
      for (bool accumulate : {false, true}) {
        // A(r, (o, i)) over a window: rows 3 apart, 4 outer steps 40 apart, 6 inner steps 2 apart.
        const NarrowLhs lhs{nullptr, 3, 4, 40, 6, 2};
        const std::size_t depth = lhs.outer_count * lhs.inner_count, width = lanes * vectors, bls = width + 8, crs = width + 16;
        std::vector<float> a(rows * 3 + 4 * 40 + 6 * 2), b(depth * bls), c(rows * crs), want;
        for (auto* v : {&a, &b, &c})
          for (auto& x : *v) x = u(rng);
        want = c;
        for (std::size_t r = 0; r < rows; ++r)
          for (std::size_t col = 0; col < width; ++col) {
            double sum = accumulate ? want[r * crs + col] : 0.0;
            for (std::size_t o = 0; o < lhs.outer_count; ++o)
              for (std::size_t i = 0; i < lhs.inner_count; ++i)
                sum += static_cast<double>(a[r * 3 + o * 40 + i * 2]) * b[(o * lhs.inner_count + i) * bls + col];
            want[r * crs + col] = static_cast<float>(sum);
          }
        NarrowLhs with_data = lhs;
        with_data.data = a.data();
        k.narrow_gemm(rows, vectors, with_data, b.data(), bls, c.data(), crs, accumulate);
        for (std::size_t r = 0; r < rows; ++r)
          for (std::size_t col = 0; col < crs; ++col)  // the columns past `width` must be left alone
            ASSERT_NEAR(c[r * crs + col], want[r * crs + col], 1e-4)
                << "vectors " << vectors << " rows " << rows << " accumulate " << accumulate << " at " << r << "," << col;
      }
  }
}

}  // namespace
