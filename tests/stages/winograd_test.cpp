// Winograd F(2x2, 5x5) and F(4x4, 5x5), all three passes, against the direct convolution, for every kernel build this CPU runs (avx512, avx2, sse2), on shapes that exercise partial tiles, partial tile blocks, channel
// counts that are not multiples of the lanes, and both paddings.
#include <gtest/gtest.h>

#include <oneapi/tbb/task_arena.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "model/nn/layers/conv2d.hpp"
#include "model/nn/conv/winograd5x5.hpp"
#include "support/conv_reference.hpp"

using namespace nn;
using namespace layer_reference;

namespace {

struct Case {
  Shape in;  // (h, w, c)
  std::size_t filters;
  Padding padding;
  std::size_t batch;
};

// Odd sizes give partial 2x2 tiles; 3 x 9x11 images are 90 tiles, so the last of four 24-tile blocks is partial;
// 20 → 50 channels is LeNet's conv2; a row of 27 tiles (5x53) is longer than a block, so blocks start and end
// within a tile row (the input transform goes by runs of tiles along a row).
const Case kCases[] = {
    {{9, 11, 3}, 5, Padding::Same, 3},  {{7, 6, 1}, 9, Padding::Valid, 2}, {{6, 5, 10}, 17, Padding::Same, 1},
    {{14, 14, 20}, 50, Padding::Same, 2}, {{5, 5, 2}, 3, Padding::Valid, 4}, {{5, 53, 2}, 4, Padding::Same, 2},
};

ConvGeometry geometry_of(const Case& c, const Shape& out) {
  const std::size_t pad_h = c.padding == Padding::Same ? (out[0] - 1 + 5 - c.in[0]) / 2 : 0;
  const std::size_t pad_w = c.padding == Padding::Same ? (out[1] - 1 + 5 - c.in[1]) / 2 : 0;
  return {c.in[0], c.in[1], c.in[2], c.filters, out[0], out[1], pad_h, pad_w};
}

// Tolerance scaled to the size of what is summed: Winograd's transforms amplify rounding a little.
void expect_close(const Tensor& got, const Tensor& want, double relative, const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  double scale = 0;
  for (float v : want) scale = std::max(scale, static_cast<double>(std::abs(v)));
  for (std::size_t i = 0; i < got.size(); ++i)
    ASSERT_NEAR(got.data()[i], want.data()[i], relative * std::max(1.0, scale)) << what << " at " << i;
}

// The kernel gradient sums transformed tiles whose entries are several times the input (Bᵀ d B) before G's
// fractions bring it back, so it loses more digits than im2col (KernelGradientRoundsLittle measures it).
constexpr double kKernelGradientTolerance = 5e-5;

// Largest error of `got` against `want` relative to want's largest entry.
double relative_error(const Tensor& got, const Tensor& want) {
  double scale = 0, worst = 0;
  for (std::size_t i = 0; i < want.size(); ++i) {
    scale = std::max(scale, static_cast<double>(std::abs(want.data()[i])));
    worst = std::max(worst, static_cast<double>(std::abs(got.data()[i] - want.data()[i])));
  }
  return worst / scale;
}

class WinogradKernels : public ::testing::TestWithParam<const simd::Kernels*> {};

// Both output tile sizes, on every case.
constexpr std::size_t kTiles[] = {2, 4};

TEST_P(WinogradKernels, ForwardAndGradientsMatchTheDirectConvolution) {
  const simd::Kernels& build = *GetParam();
  for (const std::size_t tile : kTiles)
    for (const Case& c : kCases) {
      SCOPED_TRACE("tile " + std::to_string(tile) + ", " + shape_string(c.in) + " filters " +
                   std::to_string(c.filters));
      const Conv2D layer(c.in, c.filters, 5, 1, c.padding, ConvAlgorithm::Im2col);  // for the output shape only
      const Shape out = layer.output_shape();
      const ConvGeometry g = geometry_of(c, out);
      std::mt19937_64 rng(7);
      const Tensor x = random_tensor(batch_shape(c.batch, c.in), rng);
      const Tensor kernel = random_tensor({5, 5, c.in[2], c.filters}, rng, 0.3f);
      const Tensor bias = random_tensor({c.filters}, rng);
      const Tensor dy = random_tensor(batch_shape(c.batch, out), rng);

      Winograd5x5 winograd(g, build, tile);
      winograd.set_kernel(kernel.data());
      Tensor y = Tensor::from_shape(batch_shape(c.batch, out));
      std::fill(y.begin(), y.end(), 12345.0f);  // every output written, none beyond
      winograd.forward(x.data(), c.batch, bias.data(), y.data());
      expect_close(y, naive_conv(x, kernel, bias, 1, g.pad_top, g.pad_left, out[0], out[1]), 1e-5, "y");

      std::vector<float> du(winograd.kernel_gradient_size(), 0.0f);
      Tensor dx = Tensor::from_shape(x.shape()), dkernel = Tensor::from_shape(kernel.shape());
      std::fill(dx.begin(), dx.end(), 12345.0f);  // must be overwritten, not added to
      std::fill(dkernel.begin(), dkernel.end(), 12345.0f);
      winograd.backward(x.data(), dy.data(), c.batch, du.data(), dx.data());
      winograd.kernel_gradient(du.data(), dkernel.data());
      const ConvGradients want = naive_conv_backward(x, kernel, dy, 1, g.pad_top, g.pad_left);
      expect_close(dx, want.dx, 1e-5, "dx");
      expect_close(dkernel, want.dkernel, kKernelGradientTolerance, "dkernel");
    }
}

TEST(Winograd5x5, RejectsTilesOtherThanTwoAndFour) {
  const ConvGeometry g{8, 8, 1, 1, 8, 8, 2, 2};
  EXPECT_THROW(Winograd5x5(g, simd::kernels(), 3), std::invalid_argument);
  EXPECT_EQ(Winograd5x5(g, simd::kernels(), 4).tile(), 4u);
}

TEST_P(WinogradKernels, GradientAccumulatesAcrossSlices) {
  // Two slices into one accumulator equal one slice of both: what Conv2D's per-task reduction relies on.
  const Case c{{6, 7, 4}, 9, Padding::Same, 4};
  const ConvGeometry g = geometry_of(c, {6, 7, 9});
  std::mt19937_64 rng(3);
  const Tensor x = random_tensor(batch_shape(c.batch, c.in), rng), dy = random_tensor(batch_shape(c.batch, {6, 7, 9}), rng);
  const Tensor kernel = random_tensor({5, 5, 4, 9}, rng);
  for (const std::size_t tile : kTiles) {
    Winograd5x5 winograd(g, *GetParam(), tile);
    winograd.set_kernel(kernel.data());
    std::vector<float> whole(winograd.kernel_gradient_size(), 0.0f), parts(whole.size(), 0.0f);
    winograd.backward(x.data(), dy.data(), 4, whole.data(), nullptr);
    winograd.backward(x.data(), dy.data(), 1, parts.data(), nullptr);
    winograd.backward(x.data() + 6 * 7 * 4, dy.data() + 6 * 7 * 9, 3, parts.data(), nullptr);
    for (std::size_t i = 0; i < whole.size(); ++i)
      ASSERT_NEAR(whole[i], parts[i], 1e-4 * std::max(1.0f, std::abs(whole[i]))) << "tile " << tile << " at " << i;
  }
}

TEST_P(WinogradKernels, KernelGradientRoundsLittle) {
  // LeNet's conv2 on 64 images as training sees them: inputs >= 0 (after ReLU and pooling), small output
  // gradients. F(2x2) with the interpolation points 0, ±1, ±2 gave 3.1e-5 of the largest entry, 0, ±1, 1/2, -2
  // 1.2e-5; since each block's products are summed before they join the running sum, 1.7e-6 (SSE2: 2.3e-6).
  // F(4x4) (0, ±1, ±1/2, ±2): 2.8e-6 (SSE2: 2.5e-6). What that does to accuracy over seeds: bench/README.md,
  // section 2.
  const Case c{{14, 14, 20}, 50, Padding::Same, 64};
  const ConvGeometry g = geometry_of(c, {14, 14, 50});
  std::mt19937_64 rng(5);
  Tensor x = random_tensor(batch_shape(c.batch, c.in), rng);
  for (float& v : x) v = std::abs(v);
  const Tensor dy = random_tensor(batch_shape(c.batch, {14, 14, 50}), rng, 1e-3f);
  const Tensor kernel = random_tensor({5, 5, 20, 50}, rng, 0.1f);
  const Tensor exact = naive_conv_backward(x, kernel, dy, 1, 2, 2).dkernel;
  for (const std::size_t tile : kTiles) {
    Winograd5x5 winograd(g, *GetParam(), tile);
    winograd.set_kernel(kernel.data());
    std::vector<float> du(winograd.kernel_gradient_size(), 0.0f);
    winograd.backward(x.data(), dy.data(), c.batch, du.data(), nullptr);
    Tensor dkernel = Tensor::from_shape(kernel.shape());
    winograd.kernel_gradient(du.data(), dkernel.data());
    const double error = relative_error(dkernel, exact);
    char recorded[32];
    std::snprintf(recorded, sizeof recorded, "%.2g", error);
    RecordProperty("relative_error_tile" + std::to_string(tile), recorded);
    EXPECT_LT(error, tile == 4 ? 6e-6 : 4.5e-6) << "tile " << tile;
  }
}

// Root-mean-square error of `got` against `want`, relative to want's norm.
static double rms_relative_error(const Tensor& got, const Tensor& want) {
  double error = 0, norm = 0;
  for (std::size_t i = 0; i < want.size(); ++i) {
    const double d = static_cast<double>(got.data()[i]) - want.data()[i];
    error += d * d;
    norm += static_cast<double>(want.data()[i]) * want.data()[i];
  }
  return std::sqrt(error / norm);
}

TEST(Conv2DAlgorithm, WinogradRoundsNearFloatOnTrainingLikeData) {
  // LeNet's conv2 as training feeds it: inputs after ReLU (half zeros), Glorot weights, output gradients after
  // pooling (three in four zero). All three passes by F(4x4, 5x5), y in training and inference alike, against
  // im2col's 1.9e-7, 1.1e-7 and 1.2e-7 of their norms: y 1.6e-6 (bench/reference/winograd_tile_size.py: 1.5e-6;
  // F(2x2)'s was 6.3e-7), dL/dx 2.4e-6 (SSE2: 2.5e-6; F(2x2)'s was 8.5e-7), kernel gradient 1.7e-6 (F(2x2)'s was
  // 7.6e-7). F(2x2)'s kernel gradient was 1.8e-6 while the narrow GEMM added every tile's product to the running sum
  // (now: each block's sum, added once); F(4x4)'s would be larger still, and the bound below catches that.
  for (const ConvAlgorithm algorithm : {ConvAlgorithm::Winograd, ConvAlgorithm::Im2col}) {
    Conv2D conv({14, 14, 20}, 50, 5, 1, Padding::Same, algorithm);
    std::mt19937_64 rng(3);
    conv.initialize(rng);
    Tensor x = random_tensor(batch_shape(16, {14, 14, 20}), rng);
    for (float& v : x) v = std::max(v, 0.0f);
    Tensor dy = random_tensor(batch_shape(16, {14, 14, 50}), rng, 1e-4f);
    std::uniform_int_distribution<int> quarter(0, 3);
    for (float& v : dy) v = quarter(rng) == 0 ? v : 0.0f;
    Tensor y, predicted, dx;
    conv.forward(x, y, PassContext{true, 0});
    conv.forward(x, predicted, PassContext{false, 0});
    conv.backward(x, y, dy, dx, true);
    const Tensor& kernel = *conv.parameters()[0].value;
    const auto exact = naive_conv_backward(x, kernel, dy, 1, 2, 2);
    const double exact_bound = 5e-7;
    const std::string name = algorithm == ConvAlgorithm::Winograd ? "winograd" : "im2col";
    const Tensor y_exact = naive_conv(x, kernel, *conv.parameters()[1].value, 1, 2, 2, 14, 14);
    const double y_error = rms_relative_error(y, y_exact), predict_error = rms_relative_error(predicted, y_exact);
    const double dx_error = rms_relative_error(dx, exact.dx);
    const double kernel_error = rms_relative_error(*conv.parameters()[0].grad, exact.dkernel);
    char errors[128];
    std::snprintf(errors, sizeof errors, "y %.2g, predicted y %.2g, dx %.2g, kernel gradient %.2g", y_error,
                  predict_error, dx_error, kernel_error);
    RecordProperty(name + "_errors", errors);
    EXPECT_LT(y_error, algorithm == ConvAlgorithm::Winograd ? 2.5e-6 : exact_bound) << name;
    EXPECT_EQ(y, predicted) << name << ": training and inference compute y alike";
    EXPECT_LT(dx_error, algorithm == ConvAlgorithm::Winograd ? 4e-6 : exact_bound) << name;
    EXPECT_LT(kernel_error, algorithm == ConvAlgorithm::Winograd ? 2.5e-6 : exact_bound) << name;
  }
}

INSTANTIATE_TEST_SUITE_P(Builds, WinogradKernels, ::testing::ValuesIn(simd::runnable_kernels()),
                         [](const auto& info) { return std::string(info.param->name); });

TEST(Conv2DAlgorithm, AutoPicksByShape) {
  EXPECT_EQ(Conv2D({14, 14, 20}, 50, 5, 1, Padding::Same).implementation().rfind("winograd", 0), 0u);
  // One input channel: the transforms cost more than the multiplies they save (bench/README.md); few filters
  // go to the direct kernel, many to SGEMM.
  EXPECT_EQ(Conv2D({28, 28, 1}, 20, 5, 1, Padding::Same).implementation().rfind("direct", 0), 0u);
  EXPECT_EQ(Conv2D({14, 14, 20}, 50, 3, 1, Padding::Same).implementation(), "im2col + SGEMM");
  EXPECT_EQ(Conv2D({14, 14, 20}, 50, 5, 2, Padding::Same).implementation(), "im2col + SGEMM");
  EXPECT_EQ(Conv2D({14, 14, 20}, 48, 5, 2, Padding::Same).implementation().rfind("direct", 0), 0u);
  EXPECT_EQ(Conv2D({14, 14, 20}, 50, 5, 1, Padding::Same, ConvAlgorithm::Im2col).implementation(), "im2col + SGEMM");
  EXPECT_EQ(Conv2D({28, 28, 1}, 20, 5, 1, Padding::Same, ConvAlgorithm::Winograd).implementation().rfind("winograd", 0), 0u);
  EXPECT_THROW(Conv2D({14, 14, 20}, 50, 3, 1, Padding::Same, ConvAlgorithm::Winograd), std::invalid_argument);
  // All three passes take 4x4 tiles where they multiply less: on 14x14 outputs (16 x 64 products against 49 x 36),
  // not on 2x2 ones (one tile of 64 against one of 36).
  EXPECT_EQ(Conv2D({14, 14, 20}, 50, 5, 1, Padding::Same).implementation().rfind("winograd F(4x4,5x5), ", 0), 0u);
  EXPECT_EQ(Conv2D({6, 6, 20}, 50, 5, 1, Padding::Valid).implementation().rfind("winograd F(2x2,5x5), ", 0), 0u);
}

TEST(Conv2DAlgorithm, WinogradSeesAKernelChangedInPlace) {
  // The layer keeps the transform of the kernel it last saw; weights the optimizer (or a checkpoint) changed in
  // place must be transformed again, by the forward pass or by dL/dx's (F(4x4) on 8x8 outputs, F(2x2) on 2x2
  // ones), whichever comes first after the change.
  for (const std::size_t side : {8u, 6u}) {
    SCOPED_TRACE(side == 8 ? "8x8 'same': by F(4x4)" : "6x6 'valid': by F(2x2)");
    const Padding padding = side == 8 ? Padding::Same : Padding::Valid;
    Conv2D layer({side, side, 9}, 6, 5, 1, padding, ConvAlgorithm::Winograd);
    std::mt19937_64 rng(12);
    layer.initialize(rng);
    const Tensor x = random_tensor(batch_shape(2, {side, side, 9}), rng);
    Tensor& kernel = *layer.parameters()[0].value;
    Tensor before, after, fresh, dx, dx_fresh;
    layer.forward(x, before, PassContext{true, 0});
    const Tensor dy = random_tensor(Shape(before.shape().begin(), before.shape().end()), rng);
    layer.backward(x, before, dy, dx, true);
    kernel.data()[kernel.size() / 2] += 0.5f;
    layer.backward(x, before, dy, dx, true);  // before any forward pass sees the change
    layer.forward(x, after, PassContext{true, 0});
    Conv2D reference({side, side, 9}, 6, 5, 1, padding, ConvAlgorithm::Im2col);
    *reference.parameters()[0].value = kernel;
    *reference.parameters()[1].value = *layer.parameters()[1].value;
    reference.forward(x, fresh, {});
    reference.backward(x, fresh, dy, dx_fresh, true);
    EXPECT_GT(relative_error(before, fresh), 1e-3) << "the change should show";
    expect_close(after, fresh, 1e-5, "y after the kernel changed");
    expect_close(dx, dx_fresh, 1e-5, "dL/dx after the kernel changed");
  }
}

TEST(Conv2DAlgorithm, TrainingFlopsCountWhatTheAlgorithmComputes) {
  // LeNet's conv2: the direct form is 9.8 MFLOP per product, three products with dL/dx. Winograd's three passes
  // each do 64 products per 4x4 tile (16 tiles) and channel pair, plus the transforms at 5 operations per value
  // out: Bᵀ d B 128 values per input channel (once for the forward pass, once for the backward pass, and B dv Bᵀ
  // for dL/dx), Aᵀ m A 48 per filter, A dy Aᵀ 96 (once for dU and dL/dx).
  const Conv2D exact({14, 14, 20}, 50, 5, 1, Padding::Same, ConvAlgorithm::Im2col);
  const Conv2D fast({14, 14, 20}, 50, 5, 1, Padding::Same, ConvAlgorithm::Winograd);
  EXPECT_DOUBLE_EQ(exact.training_flops(true), 3 * 9.8e6);
  EXPECT_DOUBLE_EQ(exact.training_flops(false), 2 * 9.8e6);
  const double products = 2.0 * 64 * 20 * 50, input_transform = 20 * 128 * 5.0;
  const double forward = 16 * (products + input_transform + 50 * 48 * 5);
  const double kernel_gradient = 16 * (products + input_transform + 50 * 96 * 5);
  const double input_gradient = 16 * (products + input_transform);
  EXPECT_DOUBLE_EQ(fast.training_flops(true), forward + kernel_gradient + input_gradient);
  EXPECT_DOUBLE_EQ(fast.training_flops(false), forward + kernel_gradient);
  // Where 4x4 tiles would not multiply less (a 2x2 output: one tile of 64 against one of 36), all three passes
  // take F(2x2): Bᵀ d B 72 values, Aᵀ m A 16, A dy Aᵀ 48.
  const Conv2D small({6, 6, 20}, 50, 5, 1, Padding::Valid, ConvAlgorithm::Winograd);
  EXPECT_DOUBLE_EQ(small.training_flops(true), 3 * 2.0 * 36 * 20 * 50 + 3 * 20 * 72 * 5 + 50 * (16 + 48) * 5.0);
}

TEST(Conv2DAlgorithm, WinogradAndIm2colLayersAgreeOnABatchOfManySlices) {
  // Through Conv2D: slicing, per-slice kernel gradients reduced in order, bias gradients, on 2 threads.
  Conv2D fast({14, 14, 20}, 50, 5, 1, Padding::Same, ConvAlgorithm::Winograd);
  Conv2D exact({14, 14, 20}, 50, 5, 1, Padding::Same, ConvAlgorithm::Im2col);
  std::mt19937_64 rng(11);
  fast.initialize(rng);
  for (std::size_t p = 0; p < 2; ++p) *exact.parameters()[p].value = *fast.parameters()[p].value;
  const Tensor x = random_tensor(batch_shape(37, {14, 14, 20}), rng);
  const Tensor dy = random_tensor(batch_shape(37, {14, 14, 50}), rng);
  Tensor y_fast, y_exact, dx_fast, dx_exact, y_predicted, y_predicted_alone;
  oneapi::tbb::task_arena(2).execute([&] {
    fast.forward(x, y_predicted, {});
    fast.forward(x, y_fast, PassContext{true, 0});
    exact.forward(x, y_exact, PassContext{true, 0});
    fast.backward(x, y_fast, dy, dx_fast, true);
    exact.backward(x, y_exact, dy, dx_exact, true);
  });
  oneapi::tbb::task_arena(1).execute([&] { fast.forward(x, y_predicted_alone, {}); });
  expect_close(y_fast, y_exact, 1e-5, "y");
  expect_close(y_predicted, y_exact, 1e-5, "y predicted");
  EXPECT_TRUE(y_predicted == y_predicted_alone) << "inference differs between 2 threads and 1";
  expect_close(dx_fast, dx_exact, 1e-5, "dx");
  expect_close(*fast.parameters()[0].grad, *exact.parameters()[0].grad, kKernelGradientTolerance, "kernel gradient");
  expect_close(*fast.parameters()[1].grad, *exact.parameters()[1].grad, 1e-5, "bias gradient");
}

}  // namespace
