// scale, one_hot, shuffle_batcher and augment, alone and wired together with idx_reader.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "common/samples.hpp"
#include "io/idx_reader.hpp"
#include "pipeline/pipeline.hpp"
#include "pipeline/registry.hpp"
#include "support/config_helpers.hpp"
#include "support/files.hpp"
#include "support/params.hpp"
#include "transform/augment.hpp"
#include "transform/one_hot.hpp"
#include "transform/scale.hpp"

using namespace testing_support;
using stages::Batch;
using stages::ImageSample;
using stages::TensorSample;

namespace {

class BatchRecorder : public pipeline::Processor {
 public:
  void consume(const pipeline::Payload& input, std::string_view, pipeline::Emitter&) override {
    const Batch& b = input.get<Batch>();
    Batch kept;  // everything but the pixels, so that real-data runs stay small
    kept.stream = b.stream;
    kept.epoch = b.epoch;
    kept.number = b.number;
    kept.labels = b.labels;
    kept.indices = b.indices;
    batches.push_back(std::move(kept));
  }
  std::vector<Batch> batches;
};

pipeline::StageSpec batch_recorder_spec() {
  pipeline::StageSpec s;
  s.type = "test_batch_recorder";
  s.summary = "test sink: keeps every batch";
  s.kind = pipeline::StageKind::Processor;
  s.input = stages::kBatchType;
  s.create = [](const pipeline::Params&) { return std::make_unique<BatchRecorder>(); };
  return s;
}


ImageSample image(std::vector<std::uint8_t> pixels, std::uint32_t rows, std::uint32_t cols, int label = 3) {
  ImageSample s;
  s.rows = rows;
  s.cols = cols;
  s.label = label;
  s.index = 17;
  s.storage = std::make_shared<std::vector<std::uint8_t>>(std::move(pixels));
  return s;
}

std::string pipeline_yaml(const std::string& dir, int batch_size, const std::string& extra_batcher = "",
                          const std::string& reader_options = "shuffle: true") {
  return "seed: 5\nepochs: 2\nstages:\n"
         "  train: {type: idx_reader, split: train, " + reader_options + ", images: " + dir + "/ti, labels: " + dir + "/tl}\n"
         "  test: {type: idx_reader, split: test, images: " + dir + "/ei, labels: " + dir + "/el}\n"
         "  scale: {type: scale, inputs: [train, test]}\n"
         "  hot: {type: one_hot, inputs: [scale]}\n"
         "  batches: {type: shuffle_batcher, inputs: [hot], batch_size: " + std::to_string(batch_size) + extra_batcher + "}\n"
         "  sink: {type: test_batch_recorder, inputs: [batches]}\n";
}

struct Epochs {
  std::vector<std::vector<std::int64_t>> train, test;  // sample indices in batch order, per epoch
  std::vector<std::vector<std::size_t>> train_sizes;
};

Epochs run_tiny(const TempDir& dir, int batch_size, int threads, const std::string& extra = "",
                const std::string& reader_options = "shuffle: true") {
  auto p = pipeline::Pipeline::build(pipeline::parse_config(pipeline_yaml(dir.path().string(), batch_size, extra, reader_options), "t.yaml", {scratch_output_dir_override()}));
  p.run(on_threads(threads));
  Epochs e;
  e.train.resize(2);
  e.test.resize(2);
  e.train_sizes.resize(2);
  for (const auto& b : dynamic_cast<BatchRecorder&>(p.stage("sink")).batches) {
    auto& target = b.stream == "train" ? e.train : e.test;
    auto& indices = target[static_cast<std::size_t>(b.epoch)];
    indices.insert(indices.end(), b.indices.begin(), b.indices.end());
    if (b.stream == "train") e.train_sizes[static_cast<std::size_t>(b.epoch)].push_back(b.size());
  }
  return e;
}

}  // namespace

PIPELINE_REGISTER_STAGE(batch_recorder_spec())

TEST(Scale, ScalesAndNormalisesIntoHeightWidthChannels) {
  stages::ScaleTransform scale(params_for("scale", "{factor: 0.5, mean: 1, std: 2}"));
  const auto out = scale.apply(pipeline::Payload::of(image({0, 2, 4, 6, 8, 10}, 2, 3)), "train").get<TensorSample>();
  ASSERT_EQ(out.x.shape()[0], 2u);
  ASSERT_EQ(out.x.shape()[1], 3u);
  ASSERT_EQ(out.x.shape()[2], 1u);
  EXPECT_FLOAT_EQ(out.x(0, 0, 0), -0.5f);  // (0 * 0.5 - 1) / 2
  EXPECT_FLOAT_EQ(out.x(1, 2, 0), 2.0f);   // (10 * 0.5 - 1) / 2
  EXPECT_EQ(out.label, 3);
  EXPECT_EQ(out.index, 17);
  stages::ScaleTransform unit(params_for("scale", ""));
  const auto u = unit.apply(pipeline::Payload::of(image({255, 0}, 1, 2)), "train").get<TensorSample>();
  EXPECT_FLOAT_EQ(u.x(0, 0, 0), 1.0f);
  EXPECT_FLOAT_EQ(u.x(0, 1, 0), 0.0f);
}

TEST(OneHot, HandedOverItKeepsTheImageAndGivesWhatApplyGives) {
  stages::OneHotTransform hot(params_for("one_hot", "{classes: 3, label_smoothing: 0.3}"));
  TensorSample s;
  s.label = 1;
  s.index = 5;
  s.x = xt::xtensor<float, 3>({2, 2, 1}, 0.25f);  // any xtensor assigns to a sample's tensor
  const auto shared = hot.apply(pipeline::Payload::of(s), "train").get<TensorSample>();
  pipeline::Payload input = pipeline::Payload::of(s);
  const TensorSample* sample = &input.get<TensorSample>();
  const float* pixels = sample->x.data();
  const pipeline::Payload moved = hot.apply_moved(std::move(input), "train");
  const auto& out = moved.get<TensorSample>();
  EXPECT_EQ(&out, sample);          // edited in place: no new payload
  EXPECT_EQ(out.x.data(), pixels);  // not copied
  EXPECT_EQ(out.x, shared.x);
  EXPECT_EQ(out.target, shared.target);
  EXPECT_EQ(out.label, 1);
  EXPECT_EQ(out.index, 5);
  // Handed a payload someone else still holds, it leaves theirs alone.
  pipeline::Payload held = pipeline::Payload::of(s);
  const pipeline::Payload other_holder = held;
  const pipeline::Payload made = hot.apply_moved(std::move(held), "train");
  EXPECT_EQ(other_holder.get<TensorSample>().target.size(), 0u);
  EXPECT_EQ(made.get<TensorSample>().target, shared.target);
}

TEST(Scale, PrefetchIsOnlyAHint) {
  // The engine hints every input before applying it; a payload of another kind (never wired to scale, as port
  // types are checked) is ignored rather than an error, and a hint changes nothing.
  stages::ScaleTransform scale(params_for("scale", ""));
  const auto input = pipeline::Payload::of(image({255, 0, 51}, 1, 3));
  EXPECT_NO_THROW(scale.prefetch(input));
  EXPECT_NO_THROW(scale.prefetch(pipeline::Payload::of(3.5)));
  const auto out = scale.apply(input, "train").get<TensorSample>();
  EXPECT_FLOAT_EQ(out.x(0, 2, 0), 0.2f);
}

TEST(Scale, NonPositiveStdIsAConfigError) {
  EXPECT_THROW(stages::ScaleTransform(params_for("scale", "{std: 0}")), pipeline::ConfigError);
}

TEST(OneHot, EncodesAndRejectsOutOfRangeLabelsNamingTheSample) {
  stages::OneHotTransform hot(params_for("one_hot", "{classes: 4}"));
  TensorSample s;
  s.label = 2;
  s.index = 41;
  s.x = xt::zeros<float>({1, 1, 1});
  const auto out = hot.apply(pipeline::Payload::of(s), "train").get<TensorSample>();
  ASSERT_EQ(out.target.size(), 4u);
  EXPECT_EQ(out.target(0), 0.0f);
  EXPECT_EQ(out.target(2), 1.0f);
  s.label = 4;
  try {
    hot.apply(pipeline::Payload::of(s), "test");
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("sample 41 of stream 'test' has label 4, outside 0..3"), std::string::npos);
  }
  s.label = stages::kUnlabeled;  // an image to predict: a zero target, no loss
  const auto unlabeled = hot.apply(pipeline::Payload::of(s), "predict").get<TensorSample>();
  ASSERT_EQ(unlabeled.target.size(), 4u);
  EXPECT_EQ(xt::sum(unlabeled.target)(), 0.0f);
  s.label = -2;
  EXPECT_THROW(hot.apply(pipeline::Payload::of(s), "test"), std::runtime_error);
}

TEST(ShuffleBatcher, EveryEpochIsAPermutationInFullBatchesAndAPartialLastOne) {
  TempDir dir;
  write_tiny_mnist(dir.file("ti"), dir.file("tl"), 50, true);
  write_tiny_mnist(dir.file("ei"), dir.file("el"), 20, false);
  const auto e = run_tiny(dir, 8, 2);
  for (int epoch = 0; epoch < 2; ++epoch) {
    auto sorted = e.train[static_cast<std::size_t>(epoch)];
    std::sort(sorted.begin(), sorted.end());
    std::vector<std::int64_t> all(50);
    std::iota(all.begin(), all.end(), 0);
    EXPECT_EQ(sorted, all) << "a sample was lost or duplicated in epoch " << epoch;
    EXPECT_EQ(e.train_sizes[static_cast<std::size_t>(epoch)], (std::vector<std::size_t>{8, 8, 8, 8, 8, 8, 2}));
    std::vector<std::int64_t> in_order(20);
    std::iota(in_order.begin(), in_order.end(), 0);
    EXPECT_EQ(e.test[static_cast<std::size_t>(epoch)], in_order) << "the test split must not be shuffled";
  }
  EXPECT_NE(e.train[0], e.train[1]) << "each epoch must have a new order";
}

TEST(ShuffleBatcher, SameSeedSameOrderOnAnyThreadCount) {
  TempDir dir;
  write_tiny_mnist(dir.file("ti"), dir.file("tl"), 300, true);
  write_tiny_mnist(dir.file("ei"), dir.file("el"), 10, true);
  const auto one = run_tiny(dir, 16, 1, ", shuffle_window: 32");
  const auto two = run_tiny(dir, 16, 2, ", shuffle_window: 32");
  EXPECT_EQ(one.train, two.train);
  EXPECT_EQ(one.test, two.test);
}

TEST(ShuffleBatcher, WindowShufflesAStreamingSourceWithoutLosingSamples) {
  TempDir dir;
  write_tiny_mnist(dir.file("ti"), dir.file("tl"), 100, true);
  write_tiny_mnist(dir.file("ei"), dir.file("el"), 10, true);
  const auto e = run_tiny(dir, 10, 2, ", shuffle_window: 20, drop_last: true", "shuffle: false");
  auto sorted = e.train[0];
  std::sort(sorted.begin(), sorted.end());
  std::vector<std::int64_t> all(100);
  std::iota(all.begin(), all.end(), 0);
  EXPECT_EQ(sorted, all);
  EXPECT_NE(e.train[0], all) << "the window did not shuffle";
  // A window of 20 can move a sample at most 20 places earlier.
  for (std::size_t pos = 0; pos < e.train[0].size(); ++pos) EXPECT_LE(e.train[0][pos], static_cast<std::int64_t>(pos) + 20);
}

TEST(ShuffleBatcher, DropLastDropsOnlyThePartialBatch) {
  TempDir dir;
  write_tiny_mnist(dir.file("ti"), dir.file("tl"), 50, true);
  write_tiny_mnist(dir.file("ei"), dir.file("el"), 20, true);
  const auto e = run_tiny(dir, 8, 2, ", drop_last: true");
  EXPECT_EQ(e.train_sizes[0], (std::vector<std::size_t>(6, 8)));
}

TEST(ShuffleBatcher, DropLastThatDropsEverySampleIsAnError) {
  TempDir dir;
  write_tiny_mnist(dir.file("ti"), dir.file("tl"), 50, true);
  write_tiny_mnist(dir.file("ei"), dir.file("el"), 20, true);
  try {
    run_tiny(dir, 64, 2, ", drop_last: true");
    FAIL() << "an epoch without a batch passed";
  } catch (const pipeline::StageError& e) {
    EXPECT_NE(std::string(e.what()).find("stage 'batches': stream 'train' has 50 samples in epoch 1, fewer than "
                                         "batch_size 64, and drop_last drops them all"),
              std::string::npos) << e.what();
  }
}

TEST(ShuffleBatcher, SourceShuffleIsRoughlyUniform) {
  // Over many epochs every sample should land in the first position about equally often.
  TempDir dir;
  write_tiny_mnist(dir.file("ti"), dir.file("tl"), 10, false);
  write_tiny_mnist(dir.file("ei"), dir.file("el"), 1, false);
  auto p = pipeline::Pipeline::build(pipeline::parse_config(
      "epochs: 2000\nstages:\n  train: {type: idx_reader, shuffle: true, images: " + dir.file("ti") + ", labels: " +
          dir.file("tl") + "}\n  s: {type: scale, inputs: train}\n  h: {type: one_hot, inputs: s}\n"
          "  b: {type: shuffle_batcher, inputs: h, batch_size: 10}\n  sink: {type: test_batch_recorder, inputs: b}\n",
      "u.yaml", {scratch_output_dir_override()}));
  p.run();
  std::vector<int> first(10);
  for (const auto& b : dynamic_cast<BatchRecorder&>(p.stage("sink")).batches) ++first[static_cast<std::size_t>(b.indices[0])];
  for (int count : first) EXPECT_NEAR(count, 200, 60);  // ~4.5 standard deviations
}

TEST(Augment, DeterministicPerSampleAndLabelPreserving) {
  stages::AugmentTransform augment(params_for("augment", "{rotation: 15, shift: 0.1, zoom: 0.1}"));
  pipeline::RunContext context;
  context.seed = 3;
  augment.prepare(context);
  std::vector<std::uint8_t> pixels(28 * 28, 0);
  for (int y = 8; y < 20; ++y)
    for (int x = 12; x < 16; ++x) pixels[static_cast<std::size_t>(y * 28 + x)] = 255;
  auto input = pipeline::Payload::of(image(pixels, 28, 28, 7));
  const auto a = augment.apply(input, "train").get<ImageSample>();
  const auto b = augment.apply(input, "train").get<ImageSample>();
  EXPECT_EQ(a.label, 7);
  EXPECT_TRUE(std::equal(a.pixels(), a.pixels() + a.size(), b.pixels())) << "same sample, same result";
  EXPECT_FALSE(std::equal(a.pixels(), a.pixels() + a.size(), pixels.data())) << "the image must change";
  ImageSample next_epoch = input.get<ImageSample>();
  next_epoch.epoch = 1;
  const auto c = augment.apply(pipeline::Payload::of(next_epoch), "train").get<ImageSample>();
  EXPECT_FALSE(std::equal(a.pixels(), a.pixels() + a.size(), c.pixels())) << "a new epoch gets a new jitter";
  const auto untouched = augment.apply(input, "test").get<ImageSample>();
  EXPECT_EQ(untouched.storage, input.get<ImageSample>().storage) << "the test stream is never augmented";
}

TEST(Augment, IdentityJitterKeepsTheImage) {
  std::vector<std::uint8_t> pixels(5 * 7);
  for (std::size_t i = 0; i < pixels.size(); ++i) pixels[i] = static_cast<std::uint8_t>(i * 5);
  const auto in = image(pixels, 5, 7);
  const auto out = stages::random_affine(in, stages::AffineJitter{0, 0, 0}, 99);
  EXPECT_TRUE(std::equal(out.pixels(), out.pixels() + out.size(), pixels.data()));
}

TEST(DataPipeline, RealMnistStreamsEveryImageEachEpoch) {
  REQUIRE_MNIST();
  auto p = pipeline::Pipeline::build(pipeline::parse_config(
      "epochs: 2\nvars: {d: " + mnist_dir() + "}\nstages:\n"
      "  train: {type: idx_reader, shuffle: true, images: \"${d}/train-images-idx3-ubyte.gz\", labels: \"${d}/train-labels-idx1-ubyte.gz\"}\n"
      "  test: {type: idx_reader, split: test, images: \"${d}/t10k-images-idx3-ubyte.gz\", labels: \"${d}/t10k-labels-idx1-ubyte.gz\"}\n"
      "  aug: {type: augment, inputs: [train, test]}\n"
      "  scale: {type: scale, inputs: aug}\n  hot: {type: one_hot, inputs: scale}\n"
      "  batches: {type: shuffle_batcher, inputs: hot}\n  sink: {type: test_batch_recorder, inputs: batches}\n",
      "mnist.yaml", {scratch_output_dir_override()}));
  p.run();
  std::map<std::pair<int, std::string>, std::size_t> samples;
  for (const auto& b : dynamic_cast<BatchRecorder&>(p.stage("sink")).batches) samples[{b.epoch, b.stream}] += b.size();
  for (int epoch : {0, 1}) {
    EXPECT_EQ((samples[{epoch, "train"}]), 60000u);
    EXPECT_EQ((samples[{epoch, "test"}]), 10000u);
  }
}
