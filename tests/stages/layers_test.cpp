// Layers against finite differences and naive reference loops.
#include <gtest/gtest.h>

#include <oneapi/tbb/task_arena.h>

#include <cmath>
#include <functional>
#include <numeric>
#include <random>

#include "model/nn/layers/conv2d.hpp"
#include "model/nn/gemm.hpp"
#include "model/nn/kernels/simd_kernels.hpp"
#include "model/nn/layers/dense.hpp"
#include <xtensor/xstrided_view.hpp>
#include <xtensor/xmath.hpp>

#include "model/nn/layers/avg_pool2d.hpp"
#include "model/nn/layers/batch_norm.hpp"
#include "model/nn/layers/dropout.hpp"
#include "model/nn/layers/flatten.hpp"
#include "model/nn/layers/relu.hpp"
#include "model/nn/layers/max_pool2d.hpp"
#include "model/nn/softmax_cross_entropy.hpp"
#include "support/conv_reference.hpp"

using namespace nn;
using namespace layer_reference;

namespace {

// L = sum(y * weights); checks dL/dx and dL/dparams against central differences.
// `spaced`: inputs are distinct, 0.05 apart and never within 0.025 of zero, so a 0.01 nudge never crosses a kink.
// `training`: the passes run in training mode (batch_norm then normalizes by the batch's own statistics).
void check_gradients(Layer& layer, const Shape& input, std::uint64_t seed, bool spaced = false, double tolerance = 2e-2,
                     bool training = false) {
  std::mt19937_64 rng(seed);
  layer.initialize(rng);
  for (auto& p : layer.parameters())
    for (auto& v : *p.value) v += std::uniform_real_distribution<float>(-0.1f, 0.1f)(rng);
  Tensor x = random_tensor(input, rng);
  if (spaced) {
    std::vector<std::size_t> order(x.size());
    std::iota(order.begin(), order.end(), 0);
    std::shuffle(order.begin(), order.end(), rng);
    for (std::size_t i = 0; i < x.size(); ++i)
      x.data()[i] = 0.05f * (static_cast<float>(order[i]) - static_cast<float>(x.size() / 2)) + 0.025f;
  }
  Tensor y;
  PassContext ctx;
  ctx.training = training;
  layer.forward(x, y, ctx);
  const Tensor weights = random_tensor(Shape(y.shape().begin(), y.shape().end()), rng);
  auto loss = [&]() {
    Tensor out;
    layer.forward(x, out, ctx);
    double l = 0;
    for (std::size_t i = 0; i < out.size(); ++i) l += static_cast<double>(out.data()[i]) * weights.data()[i];
    return l;
  };
  layer.forward(x, y, ctx);
  Tensor dx;
  layer.backward(x, y, weights, dx, true);
  std::vector<Tensor> analytic;
  for (auto& p : layer.parameters()) analytic.push_back(*p.grad);

  auto compare = [&](float& value, float grad, const std::string& what) {
    const float eps = 1e-2f, saved = value;
    value = saved + eps;
    const double plus = loss();
    value = saved - eps;
    const double minus = loss();
    value = saved;
    const double numeric = (plus - minus) / (2 * eps);
    EXPECT_NEAR(grad, numeric, tolerance * std::max(1.0, std::abs(numeric))) << layer.type() << " " << what;
  };
  for (std::size_t i = 0; i < x.size(); i += std::max<std::size_t>(1, x.size() / 60))
    compare(x.data()[i], dx.data()[i], "dx[" + std::to_string(i) + "]");
  auto params = layer.parameters();
  for (std::size_t k = 0; k < params.size(); ++k)
    for (std::size_t i = 0; i < params[k].value->size(); i += std::max<std::size_t>(1, params[k].value->size() / 60))
      compare(params[k].value->data()[i], analytic[k].data()[i], params[k].name + "[" + std::to_string(i) + "]");
}


}  // namespace

TEST(Conv2D, SameAndValidOutputShapesMatchKeras) {
  EXPECT_EQ(Conv2D({28, 28, 1}, 20, 5, 1, Padding::Same).output_shape(), (Shape{28, 28, 20}));
  EXPECT_EQ(Conv2D({28, 28, 1}, 20, 5, 1, Padding::Valid).output_shape(), (Shape{24, 24, 20}));
  EXPECT_EQ(Conv2D({7, 9, 3}, 4, 3, 2, Padding::Same).output_shape(), (Shape{4, 5, 4}));
  EXPECT_EQ(Conv2D({7, 9, 3}, 4, 3, 2, Padding::Valid).output_shape(), (Shape{3, 4, 4}));
  EXPECT_THROW(Conv2D({3, 3, 1}, 1, 5, 1, Padding::Valid), std::invalid_argument);
}

// Auto takes the direct kernel for these (few filters, or Winograd for the one with 8+ channels at 5x5/1); Im2col
// the SGEMM route. Both are checked, forward and backward, with and without dL/dx.
TEST(Conv2D, EveryAlgorithmMatchesTheNaiveLoopOnOddShapes) {
  struct Case {
    Shape in;
    std::size_t filters, kernel, stride;
    Padding padding;
    std::size_t batch;
  };
  for (const auto algorithm : {ConvAlgorithm::Auto, ConvAlgorithm::Im2col})
    for (const auto& c : {Case{{7, 9, 3}, 4, 3, 2, Padding::Same, 11}, Case{{6, 5, 2}, 3, 5, 1, Padding::Same, 9},
                          Case{{8, 8, 1}, 5, 3, 3, Padding::Valid, 3}, Case{{28, 28, 1}, 20, 5, 1, Padding::Same, 17},
                          Case{{9, 7, 5}, 12, 3, 1, Padding::Valid, 2}, Case{{6, 7, 10}, 9, 5, 1, Padding::Same, 3},
                          Case{{8, 9, 2}, 41, 4, 2, Padding::Same, 2}}) {
      Conv2D conv(c.in, c.filters, c.kernel, c.stride, c.padding, algorithm);
      SCOPED_TRACE(shape_string(c.in) + " filters " + std::to_string(c.filters) + ": " + conv.implementation());
      std::mt19937_64 rng(1);
      conv.initialize(rng);
      auto params = conv.parameters();
      for (auto& v : *params[1].value) v = std::uniform_real_distribution<float>(-1, 1)(rng);
      Tensor x = random_tensor(batch_shape(c.batch, c.in), rng);
      Tensor y;
      conv.forward(x, y, {});
      const auto& out = conv.output_shape();
      const std::size_t pad_h = std::max<long>(0, static_cast<long>((out[0] - 1) * c.stride + c.kernel) - static_cast<long>(c.in[0]));
      const std::size_t pad_w = std::max<long>(0, static_cast<long>((out[1] - 1) * c.stride + c.kernel) - static_cast<long>(c.in[1]));
      const std::size_t pad_top = c.padding == Padding::Same ? pad_h / 2 : 0, pad_left = c.padding == Padding::Same ? pad_w / 2 : 0;
      const Tensor ref = naive_conv(x, *params[0].value, *params[1].value, c.stride, pad_top, pad_left, out[0], out[1]);
      ASSERT_EQ(y.shape(), ref.shape());
      for (std::size_t i = 0; i < y.size(); ++i) ASSERT_NEAR(y.data()[i], ref.data()[i], 1e-4) << "at " << i;

      const Tensor dy = random_tensor(batch_shape(c.batch, out), rng);
      const ConvGradients want = naive_conv_backward(x, *params[0].value, dy, c.stride, pad_top, pad_left);
      for (const bool want_dx : {false, true}) {
        Tensor dx;
        conv.backward(x, y, dy, dx, want_dx);
        for (std::size_t i = 0; i < want.dkernel.size(); ++i)
          ASSERT_NEAR(params[0].grad->data()[i], want.dkernel.data()[i], 1e-3) << "kernel gradient at " << i;
        for (std::size_t f = 0; f < c.filters; ++f) {
          double sum = 0;
          for (std::size_t i = f; i < dy.size(); i += c.filters) sum += dy.data()[i];
          ASSERT_NEAR(params[1].grad->data()[f], sum, 1e-3) << "bias gradient at " << f;
        }
        if (want_dx) {
          for (std::size_t i = 0; i < want.dx.size(); ++i) ASSERT_NEAR(dx.data()[i], want.dx.data()[i], 1e-4) << "dx at " << i;
        }
      }
    }
}

TEST(Conv2D, GradientsMatchFiniteDifferences) {
  for (const auto algorithm : {ConvAlgorithm::Auto, ConvAlgorithm::Im2col}) {
    Conv2D same({5, 6, 2}, 3, 3, 1, Padding::Same, algorithm);
    check_gradients(same, {3, 5, 6, 2}, 7);
    Conv2D strided({7, 7, 2}, 2, 3, 2, Padding::Valid, algorithm);
    check_gradients(strided, {2, 7, 7, 2}, 8);
    Conv2D strided_same({6, 7, 1}, 2, 4, 2, Padding::Same, algorithm);
    check_gradients(strided_same, {10, 6, 7, 1}, 9);  // more than one parallel task
  }
}

TEST(Dense, GradientsMatchFiniteDifferences) {
  Dense dense({13}, 70);  // more units than one task's slice
  check_gradients(dense, {11, 13}, 3);
}

TEST(Dense, OwnKernelsComputeWhatSgemmComputes) {
  // Units in whole registers, with a partial one after them, and fewer than one register; one task, and several
  // both ways (1000x40 at batch 130: 3 tasks of rows of x, 3 of rows of the kernel gradient); more units than one
  // depth block of dL/dx (600).
  struct Case {
    std::size_t inputs, units, batch;
  };
  for (const Case& c : {Case{50, 37, 11}, Case{64, 32, 9}, Case{20, 3, 5}, Case{1000, 40, 130}, Case{30, 600, 7}}) {
    Dense sgemm({c.inputs}, c.units, DenseProduct::blas), own({c.inputs}, c.units, DenseProduct::own_kernels);
    EXPECT_EQ(sgemm.implementation(), "SGEMM");
    EXPECT_NE(own.implementation().find("kernels"), std::string::npos) << own.implementation();
    std::mt19937_64 rng(c.units);
    for (Dense* dense : {&sgemm, &own}) {
      std::mt19937_64 same(5);
      dense->initialize(same);
      for (auto& v : *dense->parameters()[1].value) v = std::uniform_real_distribution<float>(-1, 1)(same);
    }
    const Tensor x = random_tensor({c.batch, c.inputs}, rng);
    for (bool training : {true, false}) {
      Tensor want, got;
      sgemm.forward(x, want, PassContext{training, 1});
      own.forward(x, got, PassContext{training, 1});
      ASSERT_EQ(got.shape(), want.shape());
      for (std::size_t i = 0; i < want.size(); ++i)
        ASSERT_NEAR(got.data()[i], want.data()[i], 2e-5 * std::max(1.0f, std::abs(want.data()[i])))
            << c.inputs << "x" << c.units << " batch " << c.batch << " value " << i;
    }
    const Tensor dy = random_tensor({c.batch, c.units}, rng);
    Tensor dx_sgemm, dx_own;
    sgemm.backward(x, Tensor(), dy, dx_sgemm, true);
    own.backward(x, Tensor(), dy, dx_own, true);
    ASSERT_EQ(dx_own.shape(), dx_sgemm.shape());
    for (std::size_t i = 0; i < dx_sgemm.size(); ++i)
      ASSERT_NEAR(dx_own.data()[i], dx_sgemm.data()[i], 2e-5 * std::max(1.0f, std::abs(dx_sgemm.data()[i])))
          << c.inputs << "x" << c.units << " batch " << c.batch << " dL/dx " << i;
    const Tensor &want = *sgemm.parameters()[0].grad, &got = *own.parameters()[0].grad;
    for (std::size_t i = 0; i < want.size(); ++i)
      ASSERT_NEAR(got.data()[i], want.data()[i], 2e-5 * std::max(1.0f, std::abs(want.data()[i])))
          << c.inputs << "x" << c.units << " batch " << c.batch << " kernel gradient " << i;
  }
  Dense own({13}, 70, DenseProduct::own_kernels);
  check_gradients(own, {11, 13}, 3);
}

TEST(Dense, OwnKernelsGiveTheSameBitsOnOneAndTwoThreads) {
  std::vector<Tensor> results;
  for (int threads : {1, 2}) {
    Dense dense({1000}, 40, DenseProduct::own_kernels);  // several tasks each way at batch 130
    std::mt19937_64 rng(9);
    dense.initialize(rng);
    const Tensor x = random_tensor({130, 1000}, rng), dy = random_tensor({130, 40}, rng);
    Tensor y, dx;
    oneapi::tbb::task_arena(threads).execute([&] {
      dense.forward(x, y, PassContext{true, 1});
      dense.backward(x, y, dy, dx, true);
    });
    results.insert(results.end(), {y, dx, *dense.parameters()[0].grad});
  }
  for (std::size_t i = 0; i < 3; ++i) EXPECT_EQ(results[i], results[i + 3]) << "result " << i;
}

TEST(Dense, AutomaticTakesOurKernelsOnlyWhereTheirRegistersAreWiderThanOpenBlas) {
  EXPECT_EQ(openblas_core_lanes("Haswell"), 8u);
  EXPECT_EQ(openblas_core_lanes("ZEN"), 8u);
  EXPECT_EQ(openblas_core_lanes("SkylakeX"), 16u);
  EXPECT_EQ(openblas_core_lanes("Cooperlake"), 16u);
  EXPECT_EQ(openblas_core_lanes("Prescott"), 4u);
  EXPECT_TRUE(own_kernels_are_wider(16, openblas_core_lanes("Haswell")));  // the pinned AMD EPYC Zen 5
  EXPECT_FALSE(own_kernels_are_wider(16, openblas_core_lanes("Cooperlake")));
  EXPECT_FALSE(own_kernels_are_wider(8, openblas_core_lanes("Haswell")));
  const bool wider = simd::kernels().lanes > blas_lanes();
  EXPECT_EQ(Dense({8}, 4).implementation() != "SGEMM", wider) << blas_description();
}

TEST(Dense, OneImageGivesTheRowOfABatch) {
  // Batch 1 takes GEMV, a batch GEMM: the same products summed in another order.
  Dense dense({300}, 40);
  std::mt19937_64 rng(4);
  dense.initialize(rng);
  for (auto& v : *dense.parameters()[1].value) v = std::uniform_real_distribution<float>(-1, 1)(rng);
  const Tensor batch = random_tensor({3, 300}, rng);
  Tensor all, one;
  dense.forward(batch, all, {});
  for (std::size_t i = 0; i < 3; ++i) {
    Tensor image = Tensor::from_shape({1, 300});
    std::copy(batch.data() + i * 300, batch.data() + (i + 1) * 300, image.data());
    dense.forward(image, one, {});
    ASSERT_EQ(one.shape()[0], 1u);
    for (std::size_t u = 0; u < 40; ++u) EXPECT_NEAR(one(0, u), all(i, u), 1e-5) << "image " << i << " unit " << u;
  }
}

TEST(MaxPool2D, KnownValuesAndGradientRouting) {
  MaxPool2D pool({4, 4, 1}, 2, 2);
  Tensor x = Tensor::from_shape({1, 4, 4, 1});
  for (std::size_t i = 0; i < 16; ++i) x.data()[i] = static_cast<float>((i * 7) % 16);
  Tensor y;
  pool.forward(x, y, {});
  // rows: [0 7 14 5] [12 3 10 1] [8 15 6 13] [4 11 2 9]
  EXPECT_EQ(std::vector<float>(y.begin(), y.end()), (std::vector<float>{12, 14, 15, 13}));
  Tensor dy = Tensor::from_shape({1, 2, 2, 1});
  dy.data()[0] = 1;
  dy.data()[1] = 2;
  dy.data()[2] = 3;
  dy.data()[3] = 4;
  Tensor dx;
  pool.backward(x, y, dy, dx, true);
  EXPECT_EQ(dx.data()[4], 1);   // 12
  EXPECT_EQ(dx.data()[2], 2);   // 14
  EXPECT_EQ(dx.data()[9], 3);   // 15
  EXPECT_EQ(dx.data()[11], 4);  // 13
  EXPECT_FLOAT_EQ(std::accumulate(dx.begin(), dx.end(), 0.0f), 10.0f);
  MaxPool2D odd({5, 5, 3}, 2, 2);
  EXPECT_EQ(odd.output_shape(), (Shape{2, 2, 3}));
  check_gradients(odd, {9, 5, 5, 3}, 4, true);
  // The general loop (any pool and stride) against the 2x2/2 fast path's results above, and on its own.
  MaxPool2D overlapping({6, 7, 2}, 3, 2);
  EXPECT_EQ(overlapping.output_shape(), (Shape{2, 3, 2}));
  check_gradients(overlapping, {3, 6, 7, 2}, 5, true);
  MaxPool2D general({4, 4, 1}, 2, 1);
  Tensor g_y;
  general.forward(x, g_y, {});
  EXPECT_EQ(g_y(0, 0, 0, 0), 12);  // max of 0 7 / 12 3
  EXPECT_EQ(g_y(0, 1, 1, 0), 15);  // max of 3 10 / 15 6
}

TEST(MaxPool2D, ForwardThenReLUIsBothLayersInOnePass) {
  MaxPool2D pool({4, 4, 1}, 2, 2);
  Tensor x = Tensor::from_shape({1, 4, 4, 1});
  // Windows' maxima 5, -1, 0 and 7: ReLU keeps the first and last and stops the gradient of the two between.
  const float values[16] = {5, -2, -1, -3, 1, 2, -4, -1, 0, -6, 7, 3, -5, 0, 2, 1};
  std::copy(values, values + 16, x.data());
  Tensor y, dy = Tensor::from_shape({1, 2, 2, 1}), dx;
  for (std::size_t i = 0; i < 4; ++i) dy.data()[i] = static_cast<float>(i + 1);
  ASSERT_TRUE(pool.forward_then_relu(x, y, PassContext{true, 0}));
  EXPECT_EQ(std::vector<float>(y.begin(), y.end()), (std::vector<float>{5, 0, 0, 7}));
  pool.backward(x, y, dy, dx, true);
  std::vector<float> want(16, 0.0f);
  want[0] = 1;   // 5 takes dy[0]; -1 and 0 pass nothing
  want[10] = 4;  // 7 takes dy[3]
  EXPECT_EQ(std::vector<float>(dx.begin(), dx.end()), want);
  // After an inference pass (no winners kept) the backward pass finds them again, ReLU included.
  Tensor inferred, dx_again;
  ASSERT_TRUE(pool.forward_then_relu(x, inferred, PassContext{false, 0}));
  EXPECT_EQ(inferred, y);
  pool.backward(x, y, dy, dx_again, true);
  EXPECT_EQ(dx_again, dx);
  MaxPool2D general({4, 4, 1}, 2, 1);  // not the 2x2/2 kernel: Sequential runs ReLU on its own
  EXPECT_FALSE(general.forward_then_relu(x, y, PassContext{true, 0}));
}

TEST(AvgPool2D, KnownValuesAndGradients) {
  AvgPool2D pool({4, 4, 2}, 2, 2);
  Tensor x = Tensor::from_shape({1, 4, 4, 2});
  for (std::size_t i = 0; i < 32; ++i) x.data()[i] = static_cast<float>(i);
  Tensor y;
  pool.forward(x, y, {});
  EXPECT_EQ(pool.output_shape(), (Shape{2, 2, 2}));
  // Window (0, 0), channel 0: pixels (0,0) (0,1) (1,0) (1,1) hold 0, 2, 8, 10.
  EXPECT_FLOAT_EQ(y(0, 0, 0, 0), 5.0f);
  EXPECT_FLOAT_EQ(y(0, 1, 1, 1), (21 + 23 + 29 + 31) / 4.0f);
  AvgPool2D overlapping({7, 6, 3}, 3, 2);
  EXPECT_EQ(overlapping.output_shape(), (Shape{3, 2, 3}));
  check_gradients(overlapping, {10, 7, 6, 3}, 21);
  check_gradients(pool, {9, 4, 4, 2}, 22);
}

TEST(BatchNorm, GradientsMatchFiniteDifferencesInTrainingAndEvaluation) {
  BatchNorm images({3, 4, 5}, 0.9, 1e-3);
  check_gradients(images, {11, 3, 4, 5}, 31, false, 2e-2, /*training=*/true);  // 2 slices of the batch
  check_gradients(images, {11, 3, 4, 5}, 32, false, 2e-2, /*training=*/false);
  BatchNorm flat_features({6}, 0.99, 1e-3);
  check_gradients(flat_features, {13, 6}, 33, false, 2e-2, true);
}

TEST(BatchNorm, NormalizesByTheBatchAtTrainingAndByRunningStatisticsAtEvaluation) {
  BatchNorm bn({2, 2, 3}, 0.9, 1e-3);
  std::mt19937_64 rng(5);
  bn.initialize(rng);
  Tensor x = random_tensor({10, 2, 2, 3}, rng) * 3.0f + 2.0f;
  Tensor y;
  bn.forward(x, y, PassContext{true, 1});
  const auto per_channel = xt::reshape_view(y, {std::size_t{40}, std::size_t{3}});
  const Tensor mean = xt::mean(per_channel, {0}), variance = xt::variance(per_channel, {0});
  for (std::size_t c = 0; c < 3; ++c) {
    EXPECT_NEAR(mean(c), 0.0, 1e-5);
    EXPECT_NEAR(variance(c), 1.0, 2e-3) << "biased variance with epsilon 1e-3";
  }
  // The running statistics moved 10% of the way from (0, 1) to the batch's.
  const auto xs = xt::reshape_view(x, {std::size_t{40}, std::size_t{3}});
  const Tensor batch_mean = xt::mean(xs, {0}), batch_variance = xt::variance(xs, {0});
  auto state = bn.state();
  for (std::size_t c = 0; c < 3; ++c) {
    EXPECT_NEAR((*state[0].second)(c), 0.1 * batch_mean(c), 1e-5);
    EXPECT_NEAR((*state[1].second)(c), 0.9 + 0.1 * batch_variance(c), 1e-4);
  }
  Tensor evaluated;
  bn.forward(x, evaluated, PassContext{false, 1});
  for (std::size_t i = 0; i < x.size(); ++i) {
    const std::size_t c = i % 3;
    const double want = (x.data()[i] - (*state[0].second)(c)) / std::sqrt((*state[1].second)(c) + 1e-3);
    ASSERT_NEAR(evaluated.data()[i], want, 1e-4) << "evaluation uses the running statistics";
  }
}

TEST(BatchNorm, SameResultsOnOneAndTwoThreads) {
  std::vector<Tensor> outputs;
  for (int threads : {1, 2}) {
    BatchNorm bn({5, 5, 4}, 0.99, 1e-3);
    std::mt19937_64 rng(8);
    bn.initialize(rng);
    const Tensor x = random_tensor({37, 5, 5, 4}, rng), dy = random_tensor({37, 5, 5, 4}, rng);
    Tensor y, dx;
    oneapi::tbb::task_arena(threads).execute([&] {
      bn.forward(x, y, PassContext{true, 1});
      bn.backward(x, y, dy, dx, true);
    });
    outputs.insert(outputs.end(), {y, dx, *bn.parameters()[0].grad, *bn.state()[1].second});
  }
  for (std::size_t i = 0; i < 4; ++i) EXPECT_EQ(outputs[i], outputs[i + 4]) << "output " << i;
}

TEST(Elementwise, ReluFlattenDropout) {
  ReLU relu({3});
  check_gradients(relu, {4, 3}, 11, true);
  Flatten flatten({2, 3, 2});
  EXPECT_EQ(flatten.output_shape(), (Shape{12}));
  check_gradients(flatten, {2, 2, 3, 2}, 12);
  Dropout dropout({1000}, 0.25);
  Tensor x = xt::ones<float>({4, 1000});
  Tensor y;
  PassContext train{true, 77};
  dropout.forward(x, y, train);
  const double zeros = static_cast<double>(std::count(y.begin(), y.end(), 0.0f)) / 4000.0;
  EXPECT_NEAR(zeros, 0.25, 0.03);
  EXPECT_NEAR(std::accumulate(y.begin(), y.end(), 0.0) / 4000.0, 1.0, 0.05) << "inverted dropout keeps the mean";
  Tensor y2;
  dropout.forward(x, y2, train);
  EXPECT_EQ(y, y2) << "same seed, same mask";
  const Tensor dy = 3.0f * xt::ones<float>({4, 1000});
  Tensor dx;
  dropout.backward(x, y2, dy, dx, true);
  EXPECT_EQ(dx, dy * y2) << "the mask's gradient after a training pass";
  dropout.forward(x, y, PassContext{false, 77});
  EXPECT_EQ(y, x) << "identity at evaluation";
  dropout.backward(x, y, dy, dx, true);
  EXPECT_EQ(dx, dy) << "the identity's gradient after an evaluation pass";
}

TEST(SoftmaxCrossEntropy, KnownValuesStableOnHugeLogitsAndGradient) {
  Tensor logits = {{0.0f, 0.0f}, {1000.0f, -1000.0f}};
  Tensor targets = {{1.0f, 0.0f}, {0.0f, 1.0f}};
  Tensor probs, grad;
  auto r = softmax_cross_entropy(logits, targets, probs, &grad);
  // sample 0: log 2; sample 1: 2000 (finite, no NaN)
  EXPECT_NEAR(r.loss, (std::log(2.0) + 2000.0) / 2, 1e-3);
  EXPECT_TRUE(std::isfinite(r.loss));
  EXPECT_EQ(r.correct, 1u);  // a tie predicts class 0, which is right for sample 0 only
  EXPECT_FLOAT_EQ(probs(0, 0), 0.5f);
  EXPECT_FLOAT_EQ(grad(1, 1), -0.5f);  // (0 - 1) / 2
  EXPECT_FLOAT_EQ(grad(0, 0), -0.25f);
}

#include "model/nn/blas_select.hpp"

TEST(BlasSelect, ReplacesOnlyFallbackKernelsWithTheBestTheCpuRuns) {
  nn::CpuFeatures avx512{true, true, true, true, true, true, true};
  nn::CpuFeatures avx2{true, true, true, false, false, false, false};
  nn::CpuFeatures sse{};
  EXPECT_EQ(nn::better_openblas_core("Prescott", avx512), "SkylakeX");
  EXPECT_EQ(nn::better_openblas_core("Prescott", avx2), "Haswell");
  EXPECT_EQ(nn::better_openblas_core("Prescott", sse), "");
  EXPECT_EQ(nn::better_openblas_core("Zen", avx2), "") << "a kernel OpenBLAS chose on purpose stays";
  EXPECT_EQ(nn::better_openblas_core("SkylakeX", avx512), "");
  EXPECT_EQ(nn::better_openblas_core("Haswell", avx512), "");
}
