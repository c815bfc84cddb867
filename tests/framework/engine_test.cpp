// The flow-graph engine: order, bounded memory, markers, errors and stopping.
#include <gtest/gtest.h>

#include <algorithm>
#include <thread>

#include "pipeline/pipeline.hpp"
#include "support/config_helpers.hpp"
#include "support/files.hpp"
#include "support/test_stages.hpp"

using pipeline::Pipeline;
using test_stages::Recorder;

namespace {

Pipeline build(const std::string& yaml, std::vector<std::string> overrides = {}) {
  overrides.push_back(testing_support::scratch_output_dir_override());
  return Pipeline::build(pipeline::parse_config(yaml, "engine.yaml", overrides));
}

Recorder& recorder(Pipeline& p, const std::string& name = "sink") { return dynamic_cast<Recorder&>(p.stage(name)); }

const char* kParallelChain = R"(
epochs: 1
threads: 2
stages:
  src: {type: test_counter, count: 2000}
  j1: {type: test_jitter, inputs: [src]}
  j2: {type: test_jitter, inputs: [j1]}
  sink: {type: test_recorder, inputs: [j2]}
)";

}  // namespace

TEST(Engine, ParallelStagesDeliverInSourceOrder) {
  auto p = build(kParallelChain);
  p.run();
  const auto& values = recorder(p).values;
  ASSERT_EQ(values.size(), 2000u);
  for (int i = 0; i < 2000; ++i) ASSERT_EQ(values[static_cast<std::size_t>(i)], 4 * i) << "at " << i;
}

TEST(Engine, ParallelTransformReallyRunsConcurrently) {
  auto p = build(kParallelChain);
  const auto profile = p.run(on_threads(2));
  // Two jitter stages sleeping ~150 µs per item on 2 threads: their summed busy time exceeds their share of
  // the wall time only if items overlapped.
  double busy = 0;
  for (const auto& s : profile.stages)
    if (s.type == "test_jitter") busy += s.busy_seconds;
  EXPECT_GT(busy, 0.0);
  EXPECT_EQ(profile.stages[1].items_in, 2000u);
  EXPECT_EQ(profile.stages[1].items_out, 2000u);
}

// Counts are added once per chunk (not per item, to keep threads off shared cache lines): every kind of stage must
// still count every item, with chunks that do not divide the epoch and over several epochs.
TEST(Engine, ProfileCountsEveryItemOfEveryStageKind) {
  const char* yaml = R"(
epochs: 3
threads: 2
chunk: 7
stages:
  src: {type: test_counter, count: 101}
  take: {type: test_taker, inputs: [src]}
  pairs: {type: test_pairs, inputs: [take]}
  sink: {type: test_recorder, inputs: [pairs]}
)";
  auto p = build(yaml);
  const auto profile = p.run(on_threads(2));
  ASSERT_EQ(profile.stages.size(), 4u);
  EXPECT_EQ(profile.stages[0].items_out, 303u);  // source
  EXPECT_EQ(profile.stages[1].items_in, 303u);   // transform
  EXPECT_EQ(profile.stages[1].items_out, 303u);
  EXPECT_EQ(profile.stages[2].items_in, 303u);   // processor: 101 items an epoch in 50 pairs and a leftover
  EXPECT_EQ(profile.stages[2].items_out, 153u);
  EXPECT_EQ(profile.stages[3].items_in, 153u);   // sink
  EXPECT_EQ(recorder(p).values.size(), 153u);
}

TEST(Engine, EpochMarkersAndStreamInterleavingAreDeterministic) {
  const char* yaml = R"(
epochs: 2
stages:
  train: {type: test_counter, count: 3}
  test: {type: test_counter, count: 2, stream: test}
  j: {type: test_jitter, inputs: [train, test]}
  sink: {type: test_recorder, inputs: [j]}
)";
  std::vector<std::string> expected = {
      "d:train:0", "d:train:2", "d:train:4", "end:train:0", "d:test:0", "d:test:2", "end:test:0", "epoch:0",
      "d:train:0", "d:train:2", "d:train:4", "end:train:1", "d:test:0", "d:test:2", "end:test:1", "epoch:1", "finish"};
  for (int threads : {1, 2}) {
    auto p = build(yaml);
    p.run(on_threads(threads));
    EXPECT_EQ(recorder(p).events, expected) << "threads " << threads;
  }
}

TEST(Engine, ProcessorRenumbersItsOutputAndForwardsMarkers) {
  auto p = build(R"(
epochs: 2
stages:
  src: {type: test_counter, count: 5}
  j: {type: test_jitter, inputs: [src]}
  pairs: {type: test_pairs, inputs: [j]}
  j2: {type: test_jitter, inputs: [pairs]}
  sink: {type: test_recorder, inputs: [j2]}
)");
  p.run(on_threads(2));
  // 0,2,4,6,8 → pairs (2, 10, 8) → doubled (4, 20, 16), per epoch.
  const std::vector<std::string> expected = {"d:train:4", "d:train:20", "d:train:16", "end:train:0", "epoch:0",
                                             "d:train:4", "d:train:20", "d:train:16", "end:train:1", "epoch:1", "finish"};
  EXPECT_EQ(recorder(p).events, expected);
}

TEST(Engine, FanOutDeliversEverythingToEveryConsumer) {
  auto p = build(R"(
stages:
  src: {type: test_counter, count: 100}
  j: {type: test_jitter, inputs: [src]}
  a: {type: test_recorder, inputs: [j]}
  b: {type: test_recorder, inputs: [j]}
)");
  p.run();
  EXPECT_EQ(recorder(p, "a").values.size(), 100u);
  EXPECT_EQ(recorder(p, "a").values, recorder(p, "b").values);
}

TEST(Engine, StageFedBySomeSourcesOnlyGetsItsOwnStreams) {
  auto p = build(R"(
stages:
  train: {type: test_counter, count: 4}
  test: {type: test_counter, count: 3, stream: test}
  all: {type: test_recorder, inputs: [train, test]}
  only_test: {type: test_recorder, inputs: [test]}
)");
  p.run(on_threads(2));
  EXPECT_EQ(recorder(p, "all").values.size(), 7u);
  const std::vector<std::string> expected = {"d:test:0", "d:test:1", "d:test:2", "end:test:0", "epoch:0", "finish"};
  EXPECT_EQ(recorder(p, "only_test").events, expected);
}

// Runs 3000 items into a slow sink; returns the most items alive at once.
long most_live_items(const std::string& settings) {
  test_stages::reset_counters();
  auto p = build(settings + R"(
stages:
  src: {type: test_counter, count: 3000}
  j: {type: test_jitter, inputs: [src]}
  sink: {type: test_recorder, inputs: [j], sleep_us: 20}
)");
  p.run(on_threads(2));
  EXPECT_EQ(recorder(p).values.size(), 3000u);
  EXPECT_EQ(test_stages::live_items.load(), 0);
  return test_stages::max_live_items.load();
}

TEST(Engine, InFlightItemsStayBoundedWithASlowConsumer) {
  // buffer 16: chunks of 2 items (an eighth of the buffer), 8 admitted, one for the source's end marker, one for the
  // sink; each item lives as the source's copy and the transform's, plus the chunk the source is making.
  EXPECT_LE(most_live_items("buffer: 16\n"), 2 * 2 * (8 + 2) + 2) << "the source ran ahead of the consumer";
  // buffer 64, chunk 32: cut to chunks of 8, likewise.
  EXPECT_LE(most_live_items("buffer: 64\nchunk: 32\n"), 2 * 8 * (8 + 2) + 8) << "the source ran ahead of the consumer";
}

TEST(Engine, ProcessorsHoldingItemsDoNotDeadlockTheBound) {
  auto p = build(R"(
buffer: 1
stages:
  src: {type: test_counter, count: 101}
  pairs: {type: test_pairs, inputs: [src]}
  sink: {type: test_recorder, inputs: [pairs]}
)");
  p.run(on_threads(2));
  EXPECT_EQ(recorder(p).values.size(), 51u);
}

TEST(Engine, ThrowingTransformStopsTheRunNamingTheStage) {
  auto p = build(R"(
stages:
  src: {type: test_counter, count: 100000}
  bad: {type: test_jitter, inputs: [src], throw_at: 500}
  sink: {type: test_recorder, inputs: [bad]}
)");
  try {
    p.run(on_threads(2));
    FAIL() << "expected a StageError";
  } catch (const pipeline::StageError& e) {
    EXPECT_EQ(e.stage(), "bad");
    EXPECT_NE(e.message().find("jitter cannot take 500"), std::string::npos);
  }
  EXPECT_LT(recorder(p).values.size(), 100000u);
}

TEST(Engine, ThrowingSourceStopsTheRunNamingTheStage) {
  auto p = build(R"(
stages:
  src: {type: test_counter, count: 100, throw_at: 10}
  sink: {type: test_recorder, inputs: [src]}
)");
  try {
    p.run();
    FAIL() << "expected a StageError";
  } catch (const pipeline::StageError& e) {
    EXPECT_EQ(e.stage(), "src");
    EXPECT_NE(e.message().find("counter failed at 10"), std::string::npos);
  }
}

TEST(Engine, StopRequestFinishesStagesAsInterrupted) {
  auto p = build(R"(
epochs: 1000
stages:
  src: {type: test_counter, count: 100}
  sink: {type: test_recorder, inputs: [src], sleep_us: 50}
)");
  std::thread stopper([] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    pipeline::request_stop();
  });
  p.run(on_threads(2));
  stopper.join();
  pipeline::clear_stop_request();
  const auto& events = recorder(p).events;
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back(), "finish:interrupted");
  EXPECT_LT(std::count(events.begin(), events.end(), std::string("finish:interrupted")), 2);
}

TEST(Engine, ChunkSizeChangesNothingStagesSee) {
  // Sources send their items in chunks (the `chunk` setting); stages must see the same items, markers and order
  // whatever the chunk size, including chunks cut short by an epoch's end (101 and 50 items).
  const char* yaml = R"(
epochs: 2
threads: 2
stages:
  train: {type: test_counter, count: 101}
  test: {type: test_counter, count: 50, stream: test}
  j: {type: test_jitter, inputs: [train, test]}
  pairs: {type: test_pairs, inputs: [j]}
  j2: {type: test_jitter, inputs: [pairs]}
  sink: {type: test_recorder, inputs: [j2]}
  direct: {type: test_recorder, inputs: [j]}
)";
  auto one_by_one = build(yaml, {"chunk=1"});
  one_by_one.run();
  ASSERT_EQ(std::count(recorder(one_by_one, "direct").events.begin(), recorder(one_by_one, "direct").events.end(),
                       std::string("epoch:1")), 1);
  for (const char* chunk : {"chunk=7", "chunk=64", "chunk=4096"}) {
    auto chunked = build(yaml, {chunk});
    chunked.run();
    EXPECT_EQ(recorder(chunked).events, recorder(one_by_one).events) << chunk;
    EXPECT_EQ(recorder(chunked, "direct").events, recorder(one_by_one, "direct").events) << chunk;
  }
}

TEST(Engine, ATransformTakesOnlyWhatNoOtherStageSees) {
  // Chained alone after its sources (both feed nothing else), the taker gets every input handed over; beside a
  // recorder on the same source it must get them shared, or the recorder could read a moved-from value.
  auto alone = build(R"(
epochs: 2
threads: 2
stages:
  train: {type: test_counter, count: 300}
  test: {type: test_counter, count: 40, stream: test}
  take: {type: test_taker, inputs: [train, test]}
  sink: {type: test_recorder, inputs: [take]}
)");
  test_stages::reset_counters();
  alone.run();
  EXPECT_EQ(test_stages::handed_over_inputs.load(), 680);
  EXPECT_EQ(test_stages::shared_inputs.load(), 0);
  ASSERT_EQ(recorder(alone).values.size(), 680u);
  for (int i = 0; i < 300; ++i) ASSERT_EQ(recorder(alone).values[static_cast<std::size_t>(i)], i + 1);

  auto beside = build(R"(
threads: 2
stages:
  src: {type: test_counter, count: 300}
  take: {type: test_taker, inputs: [src]}
  sink: {type: test_recorder, inputs: [take]}
  direct: {type: test_recorder, inputs: [src]}
)");
  test_stages::reset_counters();
  beside.run();
  EXPECT_EQ(test_stages::handed_over_inputs.load(), 0);
  EXPECT_EQ(test_stages::shared_inputs.load(), 300);
  for (int i = 0; i < 300; ++i) {
    ASSERT_EQ(recorder(beside, "direct").values[static_cast<std::size_t>(i)], i);
    ASSERT_EQ(recorder(beside).values[static_cast<std::size_t>(i)], i + 1);
  }
}

TEST(Engine, TransformsAreAskedToPrefetchItemsAheadOfApplyingThem) {
  auto p = build(R"(
threads: 2
chunk: 16
stages:
  src: {type: test_counter, count: 100}
  log: {type: test_prefetch_log, inputs: [src]}
  sink: {type: test_recorder, inputs: [log]}
)");
  test_stages::take_call_log();
  p.run();
  const auto calls = test_stages::take_call_log();  // the transform is serial: one chunk at a time, in order
  std::vector<int> prefetched_at(100, -1), applied_at(100, -1);
  for (std::size_t i = 0; i < calls.size(); ++i) {
    auto& at = calls[i].kind == 'p' ? prefetched_at : applied_at;
    const auto v = static_cast<std::size_t>(calls[i].value);
    ASSERT_EQ(at[v], -1) << calls[i].kind << " twice for item " << v;
    at[v] = static_cast<int>(i);
  }
  int well_ahead = 0;  // hinted before the previous item was applied
  for (std::size_t v = 0; v < 100; ++v) {
    ASSERT_GE(prefetched_at[v], 0) << "item " << v << " was never prefetched";
    EXPECT_LT(prefetched_at[v], applied_at[v]) << "item " << v;
    if (v > 0 && prefetched_at[v] < applied_at[v - 1]) ++well_ahead;
  }
  EXPECT_GE(well_ahead, 90);
  std::vector<int> expected(100);
  for (int v = 0; v < 100; ++v) expected[static_cast<std::size_t>(v)] = v;
  EXPECT_EQ(recorder(p).values, expected);
}
