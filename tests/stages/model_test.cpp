// The network as a whole, the optimizers, checkpoints and the model stage's configuration.
#include <gtest/gtest.h>

#include <oneapi/tbb/task_arena.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <thread>
#include <limits>
#include <fstream>

#include <xtensor/xview.hpp>

#include "io/idx_reader.hpp"
#include "model/model_config.hpp"
#include "model/nn/checkpoint.hpp"
#include "model/nn/optim/adam.hpp"
#include "model/nn/optim/sgd.hpp"
#include "model/nn/pool_before_relu.hpp"
#include "model/nn/softmax_cross_entropy.hpp"
#include "model/sequential_stage.hpp"
#include "pipeline/pipeline.hpp"
#include "support/config_helpers.hpp"
#include "support/files.hpp"

using namespace nn;
using namespace testing_support;

namespace {

std::unique_ptr<Sequential> small_net(const std::string& layers_yaml, const Shape& input) {
  return std::move(stages::build_network(layers_yaml, input).network);
}

// The schedule of an optimizer map's `schedule:` entry, through the registry as a config builds it.
std::unique_ptr<Schedule> schedule_of(const std::string& schedule_yaml) {
  const pipeline::Params parent(
      "m", "<test>", {{"optimizer", {YAML::Load("{type: sgd, schedule: " + schedule_yaml + "}"), {"<test>", 1, 1}}}});
  return stages::build_training(parent, "optimizer").schedule;
}

// A model stage named m behind the usual data stages; `model_options` is the rest of m's flow map.
std::string model_config(const std::string& model_options) {
  return "stages:\n  s: {type: idx_reader, images: a, labels: b}\n  sc: {type: scale, inputs: s}\n"
         "  h: {type: one_hot, inputs: sc}\n  b: {type: shuffle_batcher, inputs: h}\n"
         "  m: {type: sequential, inputs: b, " + model_options + "}\n";
}

const char* kLeNetLayers = R"([
  {conv2d: {filters: 20, kernel: 5, padding: same}}, relu, {max_pool2d: {pool: 2}},
  {conv2d: {filters: 50, kernel: 5, padding: same}}, relu, {max_pool2d: {pool: 2}},
  flatten, {dense: {units: 500}}, relu, {dense: {units: 10}}, softmax])";
const char* kLeNetWithBatchNormAndDropout = R"([
  {conv2d: {filters: 20, kernel: 5, padding: same}}, batch_norm, relu, {max_pool2d: {pool: 2}},
  {conv2d: {filters: 50, kernel: 5, padding: same}}, relu, {max_pool2d: {pool: 2}}, {dropout: {rate: 0.25}},
  flatten, {dense: {units: 500}}, relu, {dense: {units: 10}}, softmax])";

Tensor one_hot(const std::vector<int>& labels, std::size_t classes) {
  Tensor t = xt::zeros<float>({labels.size(), classes});
  for (std::size_t i = 0; i < labels.size(); ++i) t(i, static_cast<std::size_t>(labels[i])) = 1;
  return t;
}

double train_step(Sequential& net, Optimizer& opt, const Tensor& x, const Tensor& y, double lr) {
  Tensor probs, grad;
  net.forward(x, PassContext{true, 1});
  auto r = softmax_cross_entropy(net.forward(x, PassContext{true, 1}), y, probs, &grad);
  net.backward(grad);
  opt.step(net.parameters(), lr);
  return r.loss;
}

}  // namespace

TEST(Sequential, LeNetShapesAndParameterCount) {
  auto net = small_net(kLeNetLayers, {28, 28, 1});
  EXPECT_EQ(net->parameter_count(), 1256080u);
  ASSERT_EQ(net->size(), 10u);
  EXPECT_EQ(net->layer(0).output_shape(), (Shape{28, 28, 20}));
  EXPECT_EQ(net->layer(2).output_shape(), (Shape{14, 14, 20}));
  EXPECT_EQ(net->layer(3).output_shape(), (Shape{14, 14, 50}));
  EXPECT_EQ(net->layer(5).output_shape(), (Shape{7, 7, 50}));
  EXPECT_EQ(net->layer(7).output_shape(), (Shape{500}));
  EXPECT_EQ(net->output_shape(), (Shape{10}));
  EXPECT_NEAR(net->forward_flops() / 1e6, 13.0, 0.1);
  EXPECT_NE(net->summary().find("1,256,080"), std::string::npos);
}

TEST(Sequential, GlorotUniformInitialisationLikeKeras) {
  auto net = small_net(kLeNetLayers, {28, 28, 1});
  net->initialize(42);
  auto params = net->parameters();
  // conv 0: fan_in 25, fan_out 500 → limit sqrt(6/525); dense 7: fan_in 2450, fan_out 500.
  const float conv_limit = std::sqrt(6.0f / 525.0f), dense_limit = std::sqrt(6.0f / 2950.0f);
  EXPECT_LE(xt::amax(xt::abs(*params[0].value))(), conv_limit);
  EXPECT_GT(xt::amax(xt::abs(*params[0].value))(), 0.9f * conv_limit);
  EXPECT_LE(xt::amax(xt::abs(*params[4].value))(), dense_limit);
  EXPECT_NEAR(xt::mean(*params[4].value)(), 0.0, 1e-3);
  for (std::size_t k = 1; k < params.size(); k += 2) EXPECT_EQ(xt::amax(xt::abs(*params[k].value))(), 0.0f) << "zero biases";
}

TEST(Sequential, WholeNetworkGradientMatchesFiniteDifferences) {
  auto net = small_net("[{conv2d: {filters: 3, kernel: 3, padding: same}}, relu, {max_pool2d: {pool: 2}}, flatten, "
                       "{dense: {units: 5}}, relu, {dense: {units: 4}}]",
                       {6, 6, 1});
  net->initialize(5);
  std::mt19937_64 rng(2);
  Tensor x = Tensor::from_shape({3, 6, 6, 1});
  for (auto& v : x) v = std::uniform_real_distribution<float>(0, 1)(rng);
  Tensor y = one_hot({0, 3, 1}, 4);
  Tensor probs, grad;
  softmax_cross_entropy(net->forward(x, {}), y, probs, &grad);
  net->backward(grad);
  auto params = net->parameters();
  std::vector<Tensor> analytic;
  for (auto& p : params) analytic.push_back(*p.grad);
  auto loss = [&] { return softmax_cross_entropy(net->forward(x, {}), y, probs, nullptr).loss; };
  for (std::size_t k = 0; k < params.size(); ++k)
    for (std::size_t i = 0; i < params[k].value->size(); i += 3) {
      float& w = params[k].value->data()[i];
      const float saved = w, eps = 1e-3f;
      w = saved + eps;
      const double plus = loss();
      w = saved - eps;
      const double minus = loss();
      w = saved;
      const double numeric = (plus - minus) / (2 * eps);
      EXPECT_NEAR(analytic[k].data()[i], numeric, 1e-3 + 0.02 * std::abs(numeric)) << params[k].name << "[" << i << "]";
    }
}

TEST(Sequential, PoolingBeforeReLUChangesNoBit) {
  // Sequential runs ReLU + max pooling as pooling + ReLU, fused with the convolution before them (conv_relu_pool.hpp):
  // the logits and every gradient must be those of the layers run one by one as configured. Inputs on a coarse grid
  // around 0 give windows with no positive value and ties.
  auto net = small_net(kLeNetLayers, {28, 28, 1});
  net->initialize(7);
  ASSERT_TRUE(pools_before_relu(net->layer(1), net->layer(2)));
  std::mt19937_64 rng(4);
  Tensor x = Tensor::from_shape({19, 28, 28, 1});
  for (auto& v : x) v = static_cast<float>(std::uniform_int_distribution<int>(-4, 4)(rng)) / 4;
  const Tensor y = one_hot({0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8}, 10);
  Tensor probs, grad;
  const Tensor logits = net->forward(x, PassContext{true, 1});
  softmax_cross_entropy(logits, y, probs, &grad);
  net->backward(grad);
  std::vector<Tensor> swapped;
  for (const auto& p : net->parameters()) swapped.push_back(*p.grad);

  std::vector<Tensor> outputs(net->size()), input_grads(net->size());
  for (std::size_t i = 0; i < net->size(); ++i) net->layer(i).forward(i ? outputs[i - 1] : x, outputs[i], {true, 1});
  EXPECT_EQ(outputs.back(), logits);
  for (std::size_t i = net->size(); i-- > 0;)
    net->layer(i).backward(i ? outputs[i - 1] : x, outputs[i], i + 1 < net->size() ? input_grads[i + 1] : grad,
                           input_grads[i], i > 0);
  const auto params = net->parameters();
  for (std::size_t k = 0; k < params.size(); ++k) EXPECT_EQ(*params[k].grad, swapped[k]) << params[k].name;
}

namespace {
void predicts_by_parts_what_the_layers_predict_on_each_part(const char* layers) {
  auto net = small_net(layers, {28, 28, 1});
  net->initialize(7);
  std::mt19937_64 rng(4);
  Tensor x = Tensor::from_shape({100, 28, 28, 1});
  for (auto& v : x) v = std::uniform_real_distribution<float>(0, 1)(rng);
  net->forward(x, PassContext{true, 1});
  Tensor expected = Tensor::from_shape({100, 10});
  for (auto [first, last] : {std::pair<std::size_t, std::size_t>{0, 64}, {64, 100}}) {
    std::vector<Tensor> outputs(net->size());
    const Tensor part = xt::view(x, xt::range(first, last));
    for (std::size_t i = 0; i < net->size(); ++i)
      net->layer(i).forward(i ? outputs[i - 1] : part, outputs[i], {false, 1});
    xt::view(expected, xt::range(first, last)) = outputs.back();
  }
  for (int threads : {1, 2})
    oneapi::tbb::task_arena(threads).execute([&] {
      for (int pass = 0; pass < 2; ++pass)
        EXPECT_EQ(net->forward(x, PassContext{false, 1}), expected) << threads << " threads, pass " << pass;
    });
}
}  // namespace

TEST(Sequential, PredictsByPartsAndSlicesWhatTheLayersPredictOnEachPart) {
  // At inference every LeNet layer predicts concurrently: Sequential sends parts of 64 images through the network
  // (here 64 and 36), and within a part conv .. flatten slice by slice (32 images: 32 + 32, 32 + 4). The logits
  // must be bit for bit those of every layer run on each part as a whole, on one thread or two; with batch
  // normalization (after a training pass, so that its running statistics are not the initial ones) and dropout.
  for (const char* layers : {kLeNetLayers, kLeNetWithBatchNormAndDropout}) {
    SCOPED_TRACE(layers);
    predicts_by_parts_what_the_layers_predict_on_each_part(layers);
  }
}

TEST(Sequential, BackwardAfterAnInferencePassThatKeptNoActivationsIsRefused) {
  auto net = small_net(kLeNetLayers, {28, 28, 1});
  net->initialize(7);
  Tensor probs, grad;
  const Tensor y = one_hot(std::vector<int>(100, 3), 10);
  for (std::size_t batch : {100, 40, 8}) {  // by parts, by slices, whole
    Tensor x = xt::zeros<float>({batch, std::size_t{28}, std::size_t{28}, std::size_t{1}});
    const Tensor labels = xt::view(y, xt::range(0, batch));
    softmax_cross_entropy(net->forward(x, PassContext{false, 1}), labels, probs, &grad);
    if (batch > 32) {
      try {
        net->backward(grad);
        ADD_FAILURE() << "backward after an inference pass of " << batch << " images";
      } catch (const std::logic_error& e) {
        EXPECT_NE(std::string(e.what()).find("run forward with training true first"), std::string::npos) << e.what();
      }
    } else {
      EXPECT_NO_THROW(net->backward(grad)) << "a batch that went whole";
    }
    softmax_cross_entropy(net->forward(x, PassContext{true, 1}), labels, probs, &grad);
    EXPECT_NO_THROW(net->backward(grad)) << "after a training pass of " << batch;
  }
}

namespace {
// The identity, measuring how many of its calls overlap: at inference, one that may overlap waits up to 0.5 s for
// another call to have joined it (not for one to be in flight still: the first to see two might leave before the
// other looks).
class OverlapProbe : public Layer {
 public:
  OverlapProbe(Shape shape, bool concurrently) : Layer(shape), concurrently_(concurrently) { output_shape_ = shape; }
  std::string type() const override { return "overlap_probe"; }
  bool predicts_concurrently() const override { return concurrently_; }
  void forward(const Tensor& x, Tensor& y, const PassContext& context) override {
    const int now = ++in_flight_;
    for (int most = most_; now > most && !most_.compare_exchange_weak(most, now);) {}
    const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(500);
    while (concurrently_ && !context.training && most_ < 2 && std::chrono::steady_clock::now() < until)
      std::this_thread::yield();
    y = x;
    --in_flight_;
    ++calls_;
  }
  void backward(const Tensor&, const Tensor&, const Tensor&, Tensor&, bool) override {}
  std::atomic<int> in_flight_{0}, most_{0}, calls_{0};

 private:
  bool concurrently_;
};
}  // namespace

TEST(Sequential, PartsOfABatchGoThroughTheNetworkAtOnceWhereEveryLayerAllowsIt) {
  const Shape image = {4, 4, 2};
  oneapi::tbb::task_arena two_threads(2);
  for (bool second_allows : {true, false}) {
    Sequential net(image);
    std::vector<OverlapProbe*> probes;
    for (bool concurrently : {true, second_allows}) {
      auto probe = std::make_unique<OverlapProbe>(image, concurrently);
      probes.push_back(probe.get());
      net.add(std::move(probe));
    }
    std::mt19937_64 rng(6);
    Tensor x = Tensor::from_shape(batch_shape(128, image));  // two parts of 64 images
    for (auto& v : x) v = std::uniform_real_distribution<float>(-1, 1)(rng);
    two_threads.execute([&] { EXPECT_EQ(net.forward(x, PassContext{false, 1}), x); });
    for (auto* probe : probes) {
      EXPECT_EQ(probe->calls_, second_allows ? 2 : 1) << "every layer allowing it: " << second_allows;
      EXPECT_EQ(probe->most_, second_allows ? 2 : 1) << "calls at once, every layer allowing it: " << second_allows;
    }
    for (auto* probe : probes) probe->most_ = 0;
    two_threads.execute([&] { EXPECT_EQ(net.forward(x, PassContext{true, 1}), x); });
    for (auto* probe : probes) EXPECT_EQ(probe->most_, 1) << "training runs whole batches";
  }
}

namespace {
// The identity, recording the batch sizes it is given.
class BatchSizeProbe : public Layer {
 public:
  BatchSizeProbe(Shape shape, bool by_slices) : Layer(shape), by_slices_(by_slices) { output_shape_ = shape; }
  std::string type() const override { return "probe"; }
  bool predicts_by_slices() const override { return by_slices_; }
  void forward(const Tensor& x, Tensor& y, const PassContext&) override {
    seen.push_back(x.shape()[0]);
    y = x;
  }
  void backward(const Tensor&, const Tensor&, const Tensor&, Tensor&, bool) override {}
  std::vector<std::size_t> seen;

 private:
  bool by_slices_;
};
}  // namespace

TEST(Sequential, OnlyTheLeadingLayersThatAllowItPredictBySlices) {
  const Shape image = {64, 64, 4};  // 64 KB an image: 32 images a slice
  Sequential net(image);
  std::vector<BatchSizeProbe*> probes;
  for (bool by_slices : {true, true, false, true}) {
    auto probe = std::make_unique<BatchSizeProbe>(image, by_slices);
    probes.push_back(probe.get());
    net.add(std::move(probe));
  }
  std::mt19937_64 rng(2);
  Tensor x = Tensor::from_shape(batch_shape(100, image));
  for (auto& v : x) v = std::uniform_real_distribution<float>(-1, 1)(rng);
  EXPECT_EQ(net.forward(x, PassContext{false, 1}), x);  // every slice's images back in their places
  const std::vector<std::size_t> sliced = {32, 32, 32, 4}, whole = {100};
  EXPECT_EQ(probes[0]->seen, sliced);
  EXPECT_EQ(probes[1]->seen, sliced);
  EXPECT_EQ(probes[2]->seen, whole);
  EXPECT_EQ(probes[3]->seen, whole);  // after a layer that needs the whole batch
  for (auto* probe : probes) probe->seen.clear();
  net.forward(x, PassContext{true, 1});
  for (auto* probe : probes) EXPECT_EQ(probe->seen, whole) << "training runs whole batches";
  for (auto* probe : probes) probe->seen.clear();
  const Tensor one_slice = xt::view(x, xt::range(0, 32));
  EXPECT_EQ(net.forward(one_slice, PassContext{false, 1}), one_slice);
  for (auto* probe : probes) EXPECT_EQ(probe->seen, std::vector<std::size_t>{32}) << "a batch of one slice";
}

TEST(Optimizers, UpdateRulesMatchHandComputedSteps) {
  Tensor w = {1.0f}, g = {0.5f};
  std::vector<Parameter> params = {{"w", &w, &g}};
  Sgd plain({0.0, false, 0.0});
  plain.step(params, 0.1);
  EXPECT_FLOAT_EQ(w(0), 0.95f);

  w = {1.0f};
  Sgd momentum({0.9, false, 0.0});
  momentum.step(params, 0.1);  // v = -0.05, w = 0.95
  momentum.step(params, 0.1);  // v = 0.9 * -0.05 - 0.05 = -0.095, w = 0.855
  EXPECT_FLOAT_EQ(w(0), 0.855f);

  w = {1.0f};
  Sgd nesterov({0.9, true, 0.0});
  nesterov.step(params, 0.1);  // v = -0.05; w += 0.9 * -0.05 - 0.05 = -0.095
  EXPECT_FLOAT_EQ(w(0), 0.905f);

  w = {1.0f};
  Sgd decay({0.0, false, 0.1});
  decay.step(params, 0.1);  // g = 0.5 + 0.1 * 1
  EXPECT_FLOAT_EQ(w(0), 0.94f);

  w = {1.0f};
  Adam adam({0.9, 0.999, 1e-7, 0.0});
  adam.step(params, 0.01);  // first step moves by lr * sign(g)
  EXPECT_NEAR(w(0), 0.99f, 1e-6);
  adam.step(params, 0.01);
  EXPECT_NEAR(w(0), 0.98f, 1e-5);
}

TEST(Optimizers, Schedules) {
  EXPECT_DOUBLE_EQ(schedule_of("{type: constant}")->rate(0.1, 7, 20), 0.1);
  EXPECT_DOUBLE_EQ(schedule_of("{}")->rate(0.1, 7, 20), 0.1) << "constant is the default";
  // Settings without a type, or a decay without its pace, are errors rather than a silent constant rate.
  EXPECT_THROW(schedule_of("{gamma: 0.5}"), pipeline::ConfigError);
  try {
    schedule_of("{type: step, gamma: 0.5}");
    ADD_FAILURE() << "a step schedule without step_epochs passed";
  } catch (const pipeline::ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("schedule (step): missing required parameter 'step_epochs'"), std::string::npos);
  }
  EXPECT_THROW(schedule_of("{type: exponential}"), pipeline::ConfigError);
  const auto step = schedule_of("{type: step, step_epochs: 5, gamma: 0.5}");
  EXPECT_DOUBLE_EQ(step->rate(0.1, 4, 20), 0.1);
  EXPECT_DOUBLE_EQ(step->rate(0.1, 5, 20), 0.05);
  EXPECT_DOUBLE_EQ(step->rate(0.1, 12, 20), 0.025);
  EXPECT_NEAR(schedule_of("{type: exponential, gamma: 0.9}")->rate(1.0, 2, 20), 0.81, 1e-12);
  // Warm-up wraps any schedule; alone it warms up to the constant rate.
  const auto warm_step = schedule_of("{type: step, step_epochs: 5, gamma: 0.5, warmup_epochs: 4}");
  EXPECT_DOUBLE_EQ(warm_step->rate(0.1, 0, 20), 0.02);
  EXPECT_DOUBLE_EQ(warm_step->rate(0.1, 3, 20), 0.08);
  EXPECT_DOUBLE_EQ(warm_step->rate(0.1, 4, 20), 0.1);
  EXPECT_DOUBLE_EQ(warm_step->rate(0.1, 5, 20), 0.05);
  EXPECT_DOUBLE_EQ(schedule_of("{warmup_epochs: 1}")->rate(0.1, 0, 20), 0.05);
  EXPECT_DOUBLE_EQ(schedule_of("{warmup_epochs: 0}")->rate(0.1, 0, 20), 0.1);
  EXPECT_THROW(schedule_of("{warmup_epochs: 1.5}"), pipeline::ConfigError);
  EXPECT_THROW(schedule_of("{warmup_epochs: [1]}"), pipeline::ConfigError);
  const auto cosine = schedule_of("{type: cosine, min_learning_rate: 0.001}");
  EXPECT_DOUBLE_EQ(cosine->rate(0.1, 0, 11), 0.1);
  EXPECT_NEAR(cosine->rate(0.1, 5, 11), 0.0505, 1e-12);
  EXPECT_NEAR(cosine->rate(0.1, 10, 11), 0.001, 1e-12);
}

TEST(Training, BitIdenticalOnOneAndTwoThreads) {
  std::vector<Tensor> results;
  for (int threads : {1, 2}) {
    oneapi::tbb::task_arena arena(threads);
    arena.execute([&] {
      auto net = small_net(kLeNetLayers, {28, 28, 1});
      net->initialize(9);
      Sgd opt({0.9, false, 0.0});
      std::mt19937_64 rng(4);
      Tensor x = Tensor::from_shape({37, 28, 28, 1});
      for (auto& v : x) v = std::uniform_real_distribution<float>(0, 1)(rng);
      std::vector<int> labels;
      for (int i = 0; i < 37; ++i) labels.push_back(i % 10);
      for (int step = 0; step < 3; ++step) train_step(*net, opt, x, one_hot(labels, 10), 0.01);
      for (auto& p : net->parameters()) results.push_back(*p.value);
    });
  }
  const std::size_t half = results.size() / 2;
  for (std::size_t k = 0; k < half; ++k) EXPECT_EQ(results[k], results[half + k]) << "parameter " << k;
}

TEST(Training, OverfitsRealMnistSubset) {
  REQUIRE_MNIST();
  const auto data = stages::load_labeled_images(mnist_file("train-images-idx3-ubyte.gz"),
                                                mnist_file("train-labels-idx1-ubyte.gz"), 10, 256);
  Tensor x = Tensor::from_shape({256, 28, 28, 1});
  for (std::size_t i = 0; i < x.size(); ++i) x.data()[i] = (*data.pixels)[i] / 255.0f;
  std::vector<int> labels(data.labels.begin(), data.labels.end());
  const Tensor y = one_hot(labels, 10);
  auto net = small_net(kLeNetLayers, {28, 28, 1});
  net->initialize(1);
  Sgd opt({0.9, false, 0.0});
  double first = 0, last = 0;
  for (int epoch = 0; epoch < 15; ++epoch)
    for (std::size_t b = 0; b < 256; b += 64) {
      Tensor xb = xt::view(x, xt::range(b, b + 64));
      Tensor yb = xt::view(y, xt::range(b, b + 64));
      last = train_step(*net, opt, xb, yb, 0.01);
      if (epoch == 0 && b == 0) first = last;
    }
  Tensor probs;
  const auto r = softmax_cross_entropy(net->forward(x, {}), y, probs, nullptr);
  EXPECT_LT(last, first / 4);
  EXPECT_GT(static_cast<double>(r.correct) / 256.0, 0.95);
}

TEST(Checkpoint, RoundTripIsBitExact) {
  TempDir dir;
  Checkpoint c;
  c.header["architecture"] = "input(2,) dense(3,)";
  c.header["epochs_done"] = "4";
  std::mt19937_64 rng(3);
  Tensor a = Tensor::from_shape({2, 3});
  for (auto& v : a) v = std::uniform_real_distribution<float>(-1, 1)(rng);
  a(0, 0) = std::nextafter(1.0f, 2.0f);
  c.tensors.emplace_back("0_dense/kernel", a);
  c.tensors.emplace_back("empty", Tensor::from_shape({0}));
  c.position = TrainingPosition{7, 3, 42, 1234, {{0.1, 120, 0.01}, {std::nextafter(0.1, 1.0), 0, 1e-300}}};
  save_checkpoint(c, dir.file("sub/model.ckpt"));
  EXPECT_FALSE(std::filesystem::exists(dir.file("sub/model.ckpt.tmp")));
  const Checkpoint back = load_checkpoint(dir.file("sub/model.ckpt"));
  EXPECT_EQ(back.header, c.header);
  EXPECT_EQ(back.position.epochs_done, 7u);
  EXPECT_EQ(back.position.run_epochs_done, 3u);
  EXPECT_EQ(back.position.seed, 42u);
  EXPECT_EQ(back.position.iterations, 1234u);
  EXPECT_EQ(back.position.partial_epoch, c.position.partial_epoch) << "doubles come back bit for bit";
  ASSERT_EQ(back.tensors.size(), 2u);
  EXPECT_EQ(back.tensors[0].first, "0_dense/kernel");
  EXPECT_EQ(std::memcmp(back.tensors[0].second.data(), a.data(), a.size() * sizeof(float)), 0);
}

TEST(Checkpoint, EveryCorruptionIsAClearError) {
  Checkpoint c;
  c.header["architecture"] = "x";
  c.tensors.emplace_back("w", Tensor{1.0f, 2.0f, 3.0f});
  const auto good = encode_checkpoint(c);
  auto error = [](std::vector<std::uint8_t> bytes) -> std::string {
    try {
      decode_checkpoint(bytes, "m.ckpt");
    } catch (const CheckpointError& e) {
      return e.what();
    }
    return "no error";
  };
  EXPECT_EQ(error({}), "m.ckpt: not a pipeline checkpoint (bad magic)");
  EXPECT_EQ(error({'G', 'I', 'F', '8', '9', 'a', 0, 0, 0, 0, 0, 0}), "m.ckpt: not a pipeline checkpoint (bad magic)");
  for (std::size_t cut : {good.size() - 1, good.size() / 2, std::size_t{13}}) {
    auto truncated = good;
    truncated.resize(cut);
    EXPECT_NE(error(truncated).find("corrupt checkpoint"), std::string::npos) << cut << ": " << error(truncated);
  }
  auto flipped = good;
  flipped.at(flipped.size() - 8) ^= 1;
  EXPECT_NE(error(flipped).find("checksum mismatch"), std::string::npos);
  auto version = good;
  version[8] = 9;
  EXPECT_NE(error(version).find("format version 9 is not supported"), std::string::npos);
  version[8] = 1;  // the format before the training position was structured
  EXPECT_EQ(error(version), "m.ckpt: written by an older version of pipeline (checkpoint format 1; this build reads "
                            "format 2): train again, or use the release that wrote it");
  EXPECT_THROW(load_checkpoint("/nonexistent/m.ckpt"), CheckpointError);
}

TEST(Checkpoint, FuzzSeedsAreValidCheckpointsOfTheCurrentFormat) {
  // The checkpoint fuzzer starts from these; in an old format it would only ever reach the version check.
  for (const char* seed : {"small", "empty_tensors"}) {
    const Checkpoint c = load_checkpoint(std::string(PIPELINE_SOURCE_DIR "/tests/fuzz/corpus/checkpoint/") + seed);
    EXPECT_FALSE(c.tensors.empty()) << seed;
  }
  const Checkpoint small = load_checkpoint(PIPELINE_SOURCE_DIR "/tests/fuzz/corpus/checkpoint/small");
  EXPECT_EQ(small.position.partial_epoch.size(), 2u);
  EXPECT_EQ(small.position.seed, 42u);
}

TEST(ModelStage, ConfigErrorsNameTheLayerAndLine) {
  const std::string head = "stages:\n  m:\n    type: sequential\n    inputs: b\n    layers:\n";
  const std::string tail = "  s: {type: idx_reader, images: a, labels: b}\n  sc: {type: scale, inputs: s}\n"
                           "  h: {type: one_hot, inputs: sc}\n  b: {type: shuffle_batcher, inputs: h}\n";
  expect_config_error(head + "      - conv2d: {filters: 4, kernel: 3}\n      - dense: {units: 3}\n" + tail, 7, 9,
                      "layer 1 (dense): dense needs a flat input, got (26, 26, 4); add {flatten: {}} before it");
  expect_config_error(head + "      - flatten\n      - dense: {unit: 3}\n" + tail, 7, 17,
                      "layer 1 (dense): unknown parameter 'unit' (did you mean 'units'?); known: units");
  expect_config_error(head + "      - flatten\n      - dense: {size: 256}\n" + tail, 7, 17,
                      "layer 1 (dense): unknown parameter 'size'; known: units");
  expect_config_error(head + "      - flatten\n      - dense: {}\n" + tail, 7, 16,
                      "layer 1 (dense): missing required parameter 'units' (outputs per sample)");
  expect_config_error(head + "      - flatten\n      - dense: 256\n" + tail, 7, 16,
                      "layer 1 (dense): options must be a map of name: value, got '256'; known: units");
  expect_config_error(head + "      - flatten\n      - dense: {units: 3, activation: relu}\n" + tail, 7, 27,
                      "unknown parameter 'activation'");
  expect_config_error(head + "      - flatten\n      - densse: {units: 3}\n" + tail, 7, 9,
                      "unknown layer type 'densse' (did you mean 'dense'?)");
  expect_config_error(head + "      - conv2d: {filters: 4, kernel: 30}\n      - flatten\n" + tail, 6, 9,
                      "kernel 30 is larger than its input (28, 28, 1)");
  expect_config_error(head + "      - conv2d: {filters: 4, kernel: 3, algorithm: winograd}\n      - flatten\n" + tail, 6, 9,
                      "layer 0 (conv2d): conv2d algorithm 'winograd' needs kernel 5 and stride 1, got kernel 3 and stride 1");
  expect_config_error(head + "      - conv2d: {filters: 4, kernel: 5, algorithm: fft}\n      - flatten\n" + tail, 6, 41,
                      "layer 0 (conv2d): parameter 'algorithm': must be one of auto, im2col, winograd, got 'fft'");
  expect_config_error(head + "      - flatten\n      - softmax\n      - dense: {units: 3}\n" + tail, 8, 9,
                      "softmax must be the last layer");
  expect_config_error(head + "      - flatten\n    optimizer: {type: sgd, learning_rate: fast}\n" + tail, 7, 28,
                      "optimizer (sgd): parameter 'learning_rate': expected a number, got 'fast'");
  expect_config_error(head + "      - flatten\n    optimizer: {type: rmsprop}\n" + tail, 7, 23,
                      "unknown optimizer type 'rmsprop'; known: adam, sgd");
  expect_config_error(head + "      - flatten\n    optimizer: {type: sgd, momentum: 0.9, schedule: {type: step, gama: 0.5}}\n" +
                          tail, 7, 66, "schedule (step): unknown parameter 'gama' (did you mean 'gamma'?)");
  expect_config_error(head + "      - flatten\n    optimizer: {type: sgd, nesterov: true}\n" + tail, 7, 28,
                      "optimizer (sgd): parameter 'nesterov': needs a momentum > 0");
  expect_config_error(head + "      - flatten\n    train: false\n" + tail, 7, 12, "needs a checkpoint to load");
}

TEST(ModelStage, LeNetConfigValidatesWithTheKerasTable) {
  auto p = pipeline::Pipeline::build(pipeline::load_config(PIPELINE_SOURCE_DIR "/configs/lenet_mnist.yaml"));
  auto& model = dynamic_cast<stages::SequentialModel&>(p.stage("model"));
  EXPECT_EQ(model.network().parameter_count(), 1256080u);
  EXPECT_NE(model.summary().find("(7, 7, 50)"), std::string::npos);
}

TEST(ModelStage, CheckpointOfAnotherArchitectureIsRejected) {
  TempDir dir;
  auto small = pipeline::Pipeline::build(pipeline::parse_config(
      model_config("layers: [flatten, {dense: {units: 10}}]"),
      "a.yaml"));
  auto& model = dynamic_cast<stages::SequentialModel&>(small.stage("m"));
  save_checkpoint(model.make_checkpoint(), dir.file("m.ckpt"));
  auto other = pipeline::Pipeline::build(pipeline::parse_config(
      model_config("layers: [flatten, {dense: {units: 20}}, {dense: {units: 10}}]"),
      "b.yaml"));
  try {
    dynamic_cast<stages::SequentialModel&>(other.stage("m")).trainer().restore(load_checkpoint(dir.file("m.ckpt")), "m.ckpt");
    FAIL();
  } catch (const CheckpointError& e) {
    EXPECT_NE(std::string(e.what()).find("checkpoint is of a different network"), std::string::npos);
  }
}

// Regression: an evaluation-only model (train: false) once skipped loading its checkpoint and evaluated the random
// initial weights.
TEST(ModelStage, EvaluationOnlyModelUsesTheLoadedWeights) {
  TempDir dir;
  auto trained = pipeline::Pipeline::build(pipeline::parse_config(model_config("layers: [flatten, {dense: {units: 10}}]"), "a.yaml"));
  auto& source = dynamic_cast<stages::SequentialModel&>(trained.stage("m"));
  pipeline::RunContext context;
  context.output_dir = dir.path();
  source.prepare(context);
  for (const auto& p : source.network().parameters()) std::fill(p.value->begin(), p.value->end(), 0.125f);
  save_checkpoint(source.make_checkpoint(), dir.file("m.ckpt"));
  auto evaluating = pipeline::Pipeline::build(pipeline::parse_config(
      model_config("layers: [flatten, {dense: {units: 10}}], train: false, load: " + dir.file("m.ckpt")), "b.yaml"));
  auto& model = dynamic_cast<stages::SequentialModel&>(evaluating.stage("m"));
  model.prepare(context);
  for (const auto& p : model.network().parameters())
    EXPECT_TRUE(std::all_of(p.value->begin(), p.value->end(), [](float v) { return v == 0.125f; })) << p.name;
}

TEST(ModelStage, BatchNormRunningStatisticsTravelInCheckpoints) {
  const std::string layers = "input_shape: [2, 2, 1], layers: [{batch_norm: {momentum: 0.5}}, flatten, {dense: {units: 3}}]";
  auto first = pipeline::Pipeline::build(pipeline::parse_config(model_config(layers), "a.yaml"));
  auto& model = dynamic_cast<stages::SequentialModel&>(first.stage("m"));
  auto state = model.network().state();
  ASSERT_EQ(state.size(), 2u);
  EXPECT_EQ(state[0].first, "0_batch_norm/moving_mean");
  EXPECT_EQ(state[1].first, "0_batch_norm/moving_variance");
  (*state[0].second)(0) = 0.25f;
  (*state[1].second)(0) = 4.0f;
  const Checkpoint saved = model.make_checkpoint();
  ASSERT_NE(saved.find("0_batch_norm/moving_variance"), nullptr);
  auto second = pipeline::Pipeline::build(pipeline::parse_config(model_config(layers), "b.yaml"));
  auto& restored = dynamic_cast<stages::SequentialModel&>(second.stage("m"));
  restored.trainer().restore(saved, "m.ckpt");
  EXPECT_EQ((*restored.network().state()[0].second)(0), 0.25f);
  EXPECT_EQ((*restored.network().state()[1].second)(0), 4.0f);
  Checkpoint without = saved;
  without.tensors.erase(std::remove_if(without.tensors.begin(), without.tensors.end(),
                                       [](const auto& t) { return t.first == "0_batch_norm/moving_mean"; }),
                        without.tensors.end());
  EXPECT_THROW(restored.trainer().restore(without, "m.ckpt"), CheckpointError);
}

TEST(ModelStage, NonFiniteLossStopsNamingEpochAndBatch) {
  auto p = pipeline::Pipeline::build(pipeline::parse_config(
      model_config("input_shape: [2, 2, 1], layers: [flatten, {dense: {units: 3}}]"),
      "nan.yaml"));
  auto& model = dynamic_cast<stages::SequentialModel&>(p.stage("m"));
  model.network().parameters()[0].value->data()[0] = std::numeric_limits<float>::quiet_NaN();
  stages::Batch b;
  b.stream = "train";
  b.epoch = 2;
  b.number = 6;
  b.x = xt::ones<float>({std::size_t{2}, std::size_t{2}, std::size_t{2}, std::size_t{1}});
  b.y = xt::zeros<float>({std::size_t{2}, std::size_t{3}});
  b.y(0, 0) = b.y(1, 1) = 1;
  b.labels = {0, 1};
  b.indices = {0, 1};
  class Null : public pipeline::Emitter {
    void emit(pipeline::Payload) override {}
  } out;
  try {
    model.consume(pipeline::Payload::of(b), "train", out);
    FAIL() << "trained on NaN";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("at epoch 3, batch 7 of stream 'train'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("training diverged with sgd(learning_rate=0.01"), std::string::npos) << e.what();
  }
  b.x(0, 0, 0, 0) = std::numeric_limits<float>::infinity();
  try {
    model.consume(pipeline::Payload::of(b), "test", out);
    FAIL() << "evaluated infinite input";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("the input batch holds a non-finite value (inf at element 0)"),
              std::string::npos) << e.what();
  }
}

TEST(ModelStage, ClassNamesMustMatchTheModelsOutputs) {
  auto p = pipeline::Pipeline::build(pipeline::parse_config(
      model_config("input_shape: [2, 2, 1], layers: [flatten, {dense: {units: 3}}]"), "names.yaml"));
  pipeline::RunContext context;
  TempDir dir;
  context.output_dir = dir.path();
  context.class_names = {"a", "b"};
  try {
    p.stage("m").prepare(context);
    FAIL() << "2 names for 3 classes passed";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("class_names names 2 classes but the model outputs 3"), std::string::npos);
  }
}

TEST(ModelStage, AnEpochWithoutATrainBatchIsAnError) {
  auto p = pipeline::Pipeline::build(pipeline::parse_config(
      model_config("input_shape: [2, 2, 1], layers: [flatten, {dense: {units: 3}}]"), "empty.yaml"));
  auto& model = dynamic_cast<stages::SequentialModel&>(p.stage("m"));
  class Null : public pipeline::Emitter {
    void emit(pipeline::Payload) override {}
  } out;
  try {
    model.on_epoch_end(0, out);
    FAIL() << "an epoch that trained nothing passed";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("epoch 1 trained on no batch: no batch of the train stream 'train' reached "
                                         "the model (no stream did)"),
              std::string::npos) << e.what();
  }
}

TEST(ModelStage, SettingsThatCannotWorkAreConfigErrors) {
  expect_config_error(model_config("layers: [flatten, {dense: {units: 10}}], optimizer: {type: adam, epsilon: 0}"), -1, -1,
                      "optimizer (adam): parameter 'epsilon': must be > 0, got 0");
  expect_config_error(model_config("layers: [flatten, {dense: {units: 100000000000}}]"), -1, -1,
                      "(weights, gradients, optimizer state), more than this machine's");
}
