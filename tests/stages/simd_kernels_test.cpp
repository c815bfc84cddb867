// The vector-kernel builds themselves: pooling of every build against a plain loop (with ties), the AVX-512 and
// AVX2 copies agreeing bit for bit (the same sums in the same order, fused alike), and the PIPELINE_SIMD choice.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "model/nn/aligned.hpp"
#include "model/nn/conv/winograd5x5.hpp"
#include "model/nn/kernels/simd_kernels.hpp"

using nn::simd::Kernels;

namespace {

struct Image {
  std::size_t h, w, c;
};

// Values from {-2, -1, 0, 1, 2}: most windows have tied maxima, which must go to the first in row-major order, and
// many have a maximum of zero or below, which ReLU after pooling stops.
std::vector<float> tied_values(std::size_t n, std::mt19937_64& rng) {
  std::vector<float> v(n);
  for (auto& x : v) x = static_cast<float>(rng() % 5) - 2.0f;
  return v;
}

TEST(SimdKernels, MaxPoolOfEveryBuildMatchesAPlainLoop) {
  std::mt19937_64 rng(9);
  for (const Kernels* k : nn::simd::runnable_kernels())
    for (const Image im : {Image{4, 4, 1}, Image{5, 7, 3}, Image{28, 28, 20}, Image{6, 6, 16}, Image{3, 5, 37}})
      for (const bool then_relu : {false, true}) {
        SCOPED_TRACE(std::string(k->name) + " " + std::to_string(im.h) + "x" + std::to_string(im.w) + "x" +
                     std::to_string(im.c) + (then_relu ? " then ReLU" : ""));
        const std::size_t oh_n = im.h / 2, ow_n = im.w / 2, out = oh_n * ow_n * im.c;
        const std::vector<float> x = tied_values(im.h * im.w * im.c, rng), dy = tied_values(out, rng);
        std::vector<float> y(out), winner(out), dx(x.size(), 123.0f), want_y(out), want_dx(x.size(), 0.0f);
        for (std::size_t oh = 0; oh < oh_n; ++oh)
          for (std::size_t ow = 0; ow < ow_n; ++ow)
            for (std::size_t ch = 0; ch < im.c; ++ch) {
              std::size_t best = ((2 * oh) * im.w + 2 * ow) * im.c + ch;
              for (std::size_t q = 1; q < 4; ++q) {
                const std::size_t at = ((2 * oh + q / 2) * im.w + 2 * ow + q % 2) * im.c + ch;
                if (x[at] > x[best]) best = at;
              }
              const std::size_t o = (oh * ow_n + ow) * im.c + ch;
              const bool stopped = then_relu && x[best] <= 0.0f;  // ReLU's gradient is zero there
              want_y[o] = stopped ? 0.0f : x[best];
              want_dx[best] = stopped ? 0.0f : dy[o];
            }
        k->max_pool_2x2_forward(x.data(), im.h, im.w, im.c, y.data(), winner.data(), then_relu);
        k->max_pool_2x2_backward(winner.data(), dy.data(), im.h, im.w, im.c, dx.data());
        EXPECT_EQ(y, want_y);
        EXPECT_EQ(dx, want_dx) << "the gradient goes to the first maximum; every other value of dx is zero";
        std::vector<float> inferred(y.size(), -1.0f);
        k->max_pool_2x2_forward(x.data(), im.h, im.w, im.c, inferred.data(), nullptr, then_relu);  // no winners
        EXPECT_EQ(inferred, want_y);
      }
}

// Bias gradients and the tasks' partial sums: every build's registers give the bits of a plain loop adding row
// after row from zero, for widths below one register, between registers and over the 8 registers of one pass.
TEST(SimdKernels, OrderedSumsOfEveryBuildMatchAPlainLoop) {
  std::mt19937_64 rng(21);
  std::uniform_real_distribution<float> u(-1, 1);
  for (const Kernels* k : nn::simd::runnable_kernels())
    for (const std::size_t columns : {1, 3, 20, 50, 64, 500})
      for (const std::size_t rows : {1, 2, 7, 300}) {
        SCOPED_TRACE(std::string(k->name) + " " + std::to_string(rows) + " x " + std::to_string(columns));
        std::vector<float> m(rows * columns), want(columns, 0.0f), got(columns, -1.0f);
        for (auto& v : m) v = u(rng);
        for (std::size_t r = 0; r < rows; ++r)
          for (std::size_t c = 0; c < columns; ++c) want[c] += m[r * columns + c];
        k->column_sums(m.data(), rows, columns, got.data());
        EXPECT_EQ(got, want);
        std::vector<const float*> parts;
        for (std::size_t r = 0; r < rows; ++r) parts.push_back(m.data() + r * columns);
        std::fill(got.begin(), got.end(), -1.0f);
        k->sum_parts(parts.data(), rows, 0, columns, got.data());
        EXPECT_EQ(got, want);
        if (columns < 2) continue;
        std::vector<float> from_second(columns - 1, -1.0f);  // the parts read from an offset on
        k->sum_parts(parts.data(), rows, 1, columns - 1, from_second.data());
        EXPECT_EQ(from_second, std::vector<float>(want.begin() + 1, want.end()));
      }
}

const Kernels* build_named(const std::string& name) {
  for (const Kernels* k : nn::simd::runnable_kernels())
    if (name == k->name) return k;
  return nullptr;
}

TEST(SimdKernels, Avx512AndAvx2RoundAlike) {
  const Kernels *wide = build_named("avx512"), *narrow = build_named("avx2");
  if (!wide || !narrow) GTEST_SKIP() << "this CPU does not run both the avx512 and the avx2 kernels";
  std::mt19937_64 rng(4);
  std::uniform_real_distribution<float> u(-1, 1);
  // conv2's Winograd shape (20 → 50 channels, odd image so tiles are partial), with each build's own padding.
  const std::size_t batch = 3, h = 9, w = 11, in_c = 20, filters = 50;
  std::vector<float> x(batch * h * w * in_c), dy(batch * h * w * filters), bias(filters);
  for (auto* v : {&x, &dy, &bias})
    for (auto& value : *v) value = u(rng);
  std::vector<float> kernel_values(36 * in_c * filters);
  for (auto& value : kernel_values) value = u(rng);
  std::vector<std::vector<float>> outputs;
  for (const Kernels* k : {wide, narrow}) {
    const nn::simd::WinogradPlan plan{h, w, in_c, filters, h, w, 2, 2, (h + 1) / 2, (w + 1) / 2,
                                      nn::simd::round_up(in_c, k->lanes), nn::simd::round_up(filters, k->lanes)};
    nn::AlignedFloats u_pad(36 * in_c * plan.k_pad, 0.0f), ut_pad(36 * filters * plan.c_pad, 0.0f);
    for (std::size_t pos = 0; pos < 36; ++pos)
      for (std::size_t c = 0; c < in_c; ++c)
        for (std::size_t f = 0; f < filters; ++f) {
          const float value = kernel_values[(pos * in_c + c) * filters + f];
          u_pad[(pos * in_c + c) * plan.k_pad + f] = value;
          ut_pad[(pos * filters + f) * plan.c_pad + c] = value;
        }
    nn::AlignedFloats memory(nn::simd::winograd_scratch_floats(plan)), du(u_pad.size(), 0.0f);
    const nn::simd::WinogradScratch scratch = nn::simd::winograd_scratch(plan, memory.data());
    std::vector<float> y(batch * h * w * filters), dx(x.size());
    k->winograd_forward(plan, x.data(), batch, u_pad.data(), bias.data(), y.data(), scratch);
    k->winograd_backward(plan, x.data(), dy.data(), batch, ut_pad.data(), du.data(), dx.data(), scratch);
    std::vector<float> du_real;  // without the padding columns, which differ in number
    for (std::size_t row = 0; row < 36 * in_c; ++row)
      du_real.insert(du_real.end(), du.begin() + static_cast<std::ptrdiff_t>(row * plan.k_pad),
                     du.begin() + static_cast<std::ptrdiff_t>(row * plan.k_pad + filters));
    outputs.push_back(y);
    outputs.push_back(dx);
    outputs.push_back(du_real);
  }
  EXPECT_EQ(outputs[0], outputs[3]) << "forward";
  EXPECT_EQ(outputs[1], outputs[4]) << "dL/dx";
  EXPECT_EQ(outputs[2], outputs[5]) << "dL/dU";
}

TEST(SimdKernels, Avx512AndAvx2RunTile4PassesAlike) {
  // F(4x4, 5x5) on conv2's shape, a 15x13 image (partial 4x4 tiles), 3 images: y, dL/dx and the kernel gradient.
  const Kernels *wide = build_named("avx512"), *narrow = build_named("avx2");
  if (!wide || !narrow) GTEST_SKIP() << "this CPU does not run both the avx512 and the avx2 kernels";
  std::mt19937_64 rng(6);
  std::uniform_real_distribution<float> u(-1, 1);
  const std::size_t batch = 3, h = 15, w = 13, in_c = 20, filters = 50;
  std::vector<float> x(batch * h * w * in_c), kernel(25 * in_c * filters), bias(filters), dy(batch * h * w * filters);
  for (auto* v : {&x, &kernel, &bias, &dy})
    for (auto& value : *v) value = u(rng);
  std::vector<std::vector<float>> outputs, input_gradients, kernel_gradients;
  for (const Kernels* k : {wide, narrow}) {
    nn::Winograd5x5 winograd({h, w, in_c, filters, h, w, 2, 2}, *k, 4);
    winograd.set_kernel(kernel.data());
    outputs.emplace_back(batch * h * w * filters);
    winograd.forward(x.data(), batch, bias.data(), outputs.back().data());
    input_gradients.emplace_back(x.size());
    std::vector<float> du(winograd.kernel_gradient_size(), 0.0f);
    winograd.backward(x.data(), dy.data(), batch, du.data(), input_gradients.back().data());
    kernel_gradients.emplace_back(kernel.size());
    winograd.kernel_gradient(du.data(), kernel_gradients.back().data());
  }
  EXPECT_EQ(outputs[0], outputs[1]);
  EXPECT_EQ(input_gradients[0], input_gradients[1]);
  EXPECT_EQ(kernel_gradients[0], kernel_gradients[1]);
}

TEST(SimdKernels, TheChosenBuildIsRunnableAndNamed) {
  const auto runnable = nn::simd::runnable_kernels();
  ASSERT_FALSE(runnable.empty());
  EXPECT_EQ(std::string(runnable.back()->name), "sse2") << "the baseline runs everywhere";
  const Kernels& chosen = nn::simd::kernels();
  const char* forced = std::getenv("PIPELINE_SIMD");
  EXPECT_EQ(std::string(chosen.name), forced && *forced ? std::string(forced) : std::string(runnable.front()->name));
  EXPECT_EQ(nn::simd::kernel_names({&chosen}), chosen.name);
}

std::vector<std::string> names_of(const std::vector<const Kernels*>& builds) {
  std::vector<std::string> names;
  for (const Kernels* k : builds) names.emplace_back(k->name);
  return names;
}

Kernels named(const char* name, std::size_t lanes) {
  Kernels stand_in{};
  stand_in.name = name;
  stand_in.lanes = lanes;
  return stand_in;
}

// Stand-ins with only a name: the rule orders builds by name, whatever this CPU runs.
TEST(SimdKernels, CpusThatSplit512BitOperationsPreferAvx2ToAvx512) {
  const Kernels avx512 = named("avx512", 16), avx2 = named("avx2", 8), sse2 = named("sse2", 4);
  using List = std::vector<std::string>;
  EXPECT_EQ(names_of(nn::simd::prefer_256_bit_vectors({&avx512, &avx2, &sse2})), (List{"avx2", "avx512", "sse2"}));
  EXPECT_EQ(names_of(nn::simd::prefer_256_bit_vectors({&avx2, &sse2})), (List{"avx2", "sse2"}));
  EXPECT_EQ(names_of(nn::simd::prefer_256_bit_vectors({&avx512, &sse2})), (List{"avx512", "sse2"}))
      << "without an avx2 build there is nothing to prefer";
  EXPECT_EQ(names_of(nn::simd::prefer_256_bit_vectors({&avx2, &avx512, &sse2})), (List{"avx2", "avx512", "sse2"}));
}

// On this CPU: Zen 4 (AMD family 19h) runs avx2 first when it runs both, any other CPU its widest build.
TEST(SimdKernels, TheDefaultBuildFollowsTheCpu) {
  const auto runnable = names_of(nn::simd::runnable_kernels());
  const bool both = std::count(runnable.begin(), runnable.end(), "avx512") == 1 &&
                    std::count(runnable.begin(), runnable.end(), "avx2") == 1;
  if (!both) GTEST_SKIP() << "this CPU does not run both the avx512 and the avx2 kernels";
#if defined(__x86_64__)
  EXPECT_EQ(runnable.front(), __builtin_cpu_is("amdfam19h") ? "avx2" : "avx512");
#endif
}

}  // namespace
