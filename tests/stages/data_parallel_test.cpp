// The pieces of data-parallel training that need no MPI: each rank's share of the samples and batches (with a
// communicator that only says which rank it is), the gradient sync's order and failures, and the warm-up schedule.
// tests/mpi/mpi_test.py runs the real thing on 2 ranks.
#include <gtest/gtest.h>

#include <stdexcept>

#include "batch/shuffle_batcher.hpp"
#include "common/samples.hpp"
#include "io/idx_reader.hpp"
#include "model/nn/distributed/gradient_sync.hpp"
#include "model/nn/optim/schedule.hpp"
#include "support/files.hpp"
#include "support/params.hpp"

using namespace testing_support;

namespace {

// Rank `rank` of `size`; collectives as if every other rank held the same values.
class RankOf : public pipeline::SoloCommunicator {
 public:
  RankOf(int rank, int size) : rank_(rank), size_(size) {}
  int rank() const override { return rank_; }
  int size() const override { return size_; }

 private:
  int rank_, size_;
};

class Collect : public pipeline::Emitter {
 public:
  void emit(pipeline::Payload payload) override { batches.push_back(payload.get<stages::Batch>()); }
  std::vector<stages::Batch> batches;
};

stages::TensorSample sample(std::int64_t index, std::int64_t epoch_size) {
  stages::TensorSample s;
  s.index = index;
  s.epoch_size = epoch_size;
  s.label = static_cast<int>(index % 3);
  s.x = xt::xtensor<float, 3>::from_shape({2, 2, 1});
  s.x.fill(static_cast<float>(index));
  s.target = xt::xtensor<float, 1>::from_shape({3});
  s.target.fill(0.0f);
  return s;
}

std::vector<std::int64_t> indices_of(pipeline::Source& source) {
  std::vector<std::int64_t> out;
  source.start_epoch(0);
  while (auto item = source.next()) out.push_back(item->get<stages::ImageSample>().index);
  return out;
}

}  // namespace

TEST(DataParallel, EachRankOfTheSamplesModeTakesEveryNthSampleOfTheSameOrder) {
  TempDir dir;
  write_tiny_mnist(dir.file("i"), dir.file("l"), 11, false);
  const std::string yaml = "{images: " + dir.file("i") + ", labels: " + dir.file("l") + ", shuffle: true}";
  const auto indices_for = [&](int rank, int size) {
    RankOf comm(rank, size);
    stages::IdxReader reader(params_for("idx_reader", yaml));
    pipeline::RunContext context;
    context.seed = 7;
    context.comm = &comm;
    reader.prepare(context);
    return indices_of(reader);
  };
  const auto whole = indices_for(0, 1), rank0 = indices_for(0, 2), rank1 = indices_for(1, 2);
  ASSERT_EQ(whole.size(), 11u);
  ASSERT_EQ(rank0.size(), 6u);
  ASSERT_EQ(rank1.size(), 5u);
  for (std::size_t j = 0; j < whole.size(); ++j) EXPECT_EQ(whole[j], j % 2 == 0 ? rank0[j / 2] : rank1[j / 2]) << j;
  EXPECT_EQ(indices_for(0, 1), whole);  // the same order every time
}

TEST(DataParallel, TheFilesModeGivesRankRThePairsRPlusKN) {
  TempDir dir;
  for (int i = 0; i < 3; ++i)
    write_tiny_mnist(dir.file("part" + std::to_string(i) + "-i"), dir.file("part" + std::to_string(i) + "-l"),
                     static_cast<std::uint32_t>(4 + i), false);
  const std::string yaml = "{images: " + dir.file("part*-i") + ", labels: " + dir.file("part*-l") + "}";
  std::vector<std::size_t> counts;
  std::vector<std::int64_t> epoch_sizes;
  for (int rank = 0; rank < 2; ++rank) {
    RankOf comm(rank, 2);
    stages::IdxReader reader(params_for("idx_reader", yaml));
    pipeline::RunContext context;
    context.comm = &comm;
    reader.prepare(context);
    counts.push_back(reader.data().count);
    reader.start_epoch(0);
    epoch_sizes.push_back(reader.next()->get<stages::ImageSample>().epoch_size);
  }
  EXPECT_EQ(counts, (std::vector<std::size_t>{4 + 6, 5}));  // pairs 0 and 2, then pair 1
  // The batcher's count of steps: ranks x the largest share (this fake's max is the rank's own count).
  EXPECT_EQ(epoch_sizes, (std::vector<std::int64_t>{20, 10}));
}

TEST(DataParallel, FileListsMustPairAndGlobsMustMatch) {
  TempDir dir;
  write_tiny_mnist(dir.file("a-i"), dir.file("a-l"), 4, false);
  write_tiny_mnist(dir.file("b-i"), dir.file("b-l"), 4, false);
  const auto error_of = [](const std::string& yaml) {
    try {
      stages::IdxReader reader(params_for("idx_reader", yaml));
    } catch (const pipeline::ConfigError& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_NE(error_of("{images: [" + dir.file("a-i") + ", " + dir.file("b-i") + "], labels: " + dir.file("a-l") + "}")
                .find("1 labels file(s) for 2 images file(s)"),
            std::string::npos);
  EXPECT_NE(error_of("{images: " + dir.file("z*") + ", labels: " + dir.file("a-l") + "}").find("no file matches"),
            std::string::npos);
  EXPECT_NE(error_of("{images: {a: 1}, labels: x}").find("expected a file path"), std::string::npos);
  // Read one after the other with one rank.
  stages::IdxReader reader(params_for("idx_reader", "{images: [" + dir.file("a-i") + ", " + dir.file("b-i") +
                                                        "], labels: [" + dir.file("a-l") + ", " + dir.file("b-l") + "]}"));
  reader.prepare(pipeline::RunContext{});
  EXPECT_EQ(reader.data().count, 8u);
}

TEST(DataParallel, TheBatcherStacksARanksShareAndPadsToTheSameNumberOfSteps) {
  stages::ShuffleBatcher batcher(params_for("shuffle_batcher", "{batch_size: 4}"));
  RankOf comm(1, 2);
  pipeline::RunContext context;
  context.comm = &comm;
  batcher.prepare(context);
  Collect out;
  // Five samples in all: rank 1 holds positions 1 and 3 (one share of 2), and the epoch has 2 batches.
  for (std::int64_t index : {1, 3}) batcher.consume(pipeline::Payload::of(sample(index, 5)), "train", out);
  batcher.on_stream_end("train", 0, out);
  ASSERT_EQ(out.batches.size(), 2u);
  EXPECT_EQ(out.batches[0].size(), 2u);
  EXPECT_EQ(out.batches[0].batches_in_epoch, 2);
  EXPECT_EQ(out.batches[1].size(), 0u);  // rank 0 holds the fifth sample; this rank still takes the step
  EXPECT_EQ(out.batches[1].number, 1);
  EXPECT_EQ(out.batches[1].x.shape(), (xt::xarray<float>::shape_type{0, 2, 2, 1}));
}

TEST(DataParallel, WithDropLastAFullShareOfAPartialBatchIsDroppedToo) {
  // 7 samples, batch 4 on 2 ranks: one whole batch; rank 0's share of the rest (positions 4, 6) fills a share of
  // 2, yet a one-process run drops those 3 samples, so rank 0 must too.
  stages::ShuffleBatcher batcher(params_for("shuffle_batcher", "{batch_size: 4, drop_last: true}"));
  RankOf comm(0, 2);
  pipeline::RunContext context;
  context.comm = &comm;
  batcher.prepare(context);
  Collect out;
  for (std::int64_t index : {0, 2, 4, 6}) batcher.consume(pipeline::Payload::of(sample(index, 7)), "train", out);
  batcher.on_stream_end("train", 0, out);
  ASSERT_EQ(out.batches.size(), 1u);
  EXPECT_EQ(out.batches[0].indices, (std::vector<std::int64_t>{0, 2}));
}

TEST(DataParallel, GradientSyncSumsEveryLayerOnceInBackwardOrderWithAndWithoutOverlap) {
  for (bool overlap : {false, true}) {
    std::vector<std::size_t> order;
    nn::GradientSync sync([&](float* data, std::size_t n) {
      order.push_back(n);
      for (std::size_t i = 0; i < n; ++i) data[i] *= 2.0f;  // as if a second rank held the same gradient
    }, overlap);
    nn::Tensor g1 = xt::ones<float>({3}), g2 = xt::ones<float>({5}), w = xt::zeros<float>({1});
    for (int step = 0; step < 3; ++step) {
      g1.fill(1.0f), g2.fill(1.0f);
      sync.gradients_ready({nn::Parameter{"b", &w, &g2}});
      sync.gradients_ready({nn::Parameter{"a", &w, &g1}});
      sync.wait();
      EXPECT_EQ(g1(0), 2.0f);
      EXPECT_EQ(g2(4), 2.0f);
    }
    EXPECT_EQ(order, (std::vector<std::size_t>{5, 3, 5, 3, 5, 3})) << "overlap " << overlap;
    EXPECT_EQ(sync.steps(), 3u);
    EXPECT_EQ(sync.bytes(), 3u * 8 * sizeof(float));
  }
}

TEST(DataParallel, AFailedSumReachesTheTrainingThread) {
  for (bool overlap : {false, true}) {
    nn::GradientSync sync([](float*, std::size_t) { throw std::runtime_error("peer lost"); }, overlap);
    nn::Tensor g = xt::ones<float>({3}), w = xt::zeros<float>({1});
    sync.gradients_ready({nn::Parameter{"a", &w, &g}});
    EXPECT_THROW(sync.wait(), std::runtime_error);
  }
}

TEST(DataParallel, WarmUpRisesLinearlyToTheWrappedSchedule) {
  class Constant : public nn::Schedule {
   public:
    double rate(double base, int, int) const override { return base; }
  };
  nn::WarmUp warmup(std::make_unique<Constant>(), 3);
  EXPECT_DOUBLE_EQ(warmup.rate(0.8, 0, 10), 0.2);
  EXPECT_DOUBLE_EQ(warmup.rate(0.8, 1, 10), 0.4);
  EXPECT_DOUBLE_EQ(warmup.rate(0.8, 2, 10), 0.6);
  EXPECT_DOUBLE_EQ(warmup.rate(0.8, 3, 10), 0.8);
  EXPECT_DOUBLE_EQ(warmup.rate(0.8, 9, 10), 0.8);
}
