// top_predictions: the k most probable classes per sample, named by file when the source has names.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "pipeline/state_codec.hpp"
#include "sink/top_predictions.hpp"
#include "support/files.hpp"
#include "support/null_emitter.hpp"
#include "support/params.hpp"

using namespace stages;
using testing_support::NullEmitter;
using testing_support::TempDir;

namespace {

BatchResult probabilities(std::vector<std::vector<float>> rows, std::vector<std::int64_t> indices,
                          std::shared_ptr<const SampleNames> names) {
  BatchResult r;
  r.stream = "predict";
  r.indices = std::move(indices);
  r.labels.assign(rows.size(), kUnlabeled);
  r.predicted.assign(rows.size(), 0);
  r.probabilities = xt::zeros<float>({rows.size(), rows[0].size()});
  for (std::size_t i = 0; i < rows.size(); ++i)
    for (std::size_t k = 0; k < rows[i].size(); ++k) r.probabilities(i, k) = rows[i][k];
  r.names = std::move(names);
  return r;
}

std::string run(const std::string& options, const std::vector<BatchResult>& results, std::vector<std::string> classes = {}) {
  TempDir dir;
  TopPredictionsSink sink(params_for("top_predictions", options));
  pipeline::RunContext context;
  context.output_dir = dir.path();
  context.class_names = std::move(classes);
  sink.prepare(context);
  NullEmitter out;
  for (const auto& r : results) sink.consume(pipeline::Payload::of(r), "predict", out);
  sink.on_epoch_end(0, out);
  sink.finish(false, out);
  std::ifstream in(dir.path() / "top_predictions.csv");
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

TEST(TopPredictions, MostProbableFirstNamedByFileSortedByIndex) {
  auto names = std::make_shared<const SampleNames>(SampleNames{"a.png", "b,c.png"});
  const std::string csv = run("{top: 2}", {probabilities({{0.1f, 0.7f, 0.2f}}, {1}, names),
                                          probabilities({{0.5f, 0.25f, 0.25f}}, {0}, names)});
  EXPECT_EQ(csv, "file,class_1,probability_1,class_2,probability_2\n"
                 "a.png,0,0.5,1,0.25\n"  // a tie (0.25, 0.25): the lower class first
                 "\"b,c.png\",1,0.7,2,0.2\n");
}

// --resume: the last epoch's rows come back from the run state; the file is written as an uninterrupted run's.
TEST(TopPredictions, RestoredStateWritesTheSameFile) {
  TempDir dir;
  pipeline::RunContext context;
  context.output_dir = dir.path();
  NullEmitter out;
  TopPredictionsSink first(params_for("top_predictions", "{top: 5}"));
  first.prepare(context);
  first.consume(pipeline::Payload::of(probabilities({{0.1f, 0.2f, 0.3f, 0.4f}}, {0}, nullptr)), "predict", out);
  first.on_epoch_end(0, out);
  const std::string state = *first.save_state(false);
  EXPECT_FALSE(first.save_state(true).has_value());
  first.finish(false, out);
  std::ifstream a(dir.path() / "top_predictions.csv");
  const std::string expected((std::istreambuf_iterator<char>(a)), std::istreambuf_iterator<char>());
  std::filesystem::remove(dir.path() / "top_predictions.csv");
  TopPredictionsSink resumed(params_for("top_predictions", "{top: 5}"));
  resumed.prepare(context);
  resumed.restore_state(state);
  resumed.finish(false, out);
  std::ifstream b(dir.path() / "top_predictions.csv");
  EXPECT_EQ(std::string((std::istreambuf_iterator<char>(b)), std::istreambuf_iterator<char>()), expected);
  EXPECT_EQ(expected.rfind("file,class_1,probability_1,class_2,probability_2,class_3,probability_3,class_4,probability_4\n", 0), 0u)
      << "top 5 of 4 classes: 4 columns, after the restore too";
  EXPECT_NE(expected.find("predict#0,3,0.4,2,0.3,1,0.2,0,0.1"), std::string::npos) << expected;
  EXPECT_THROW(resumed.restore_state(state.substr(0, state.size() - 2)), pipeline::StateError);
}

TEST(TopPredictions, WithoutNamesTheStreamAndIndexAndWithClassNames) {
  const std::string csv = run("{top: 5}", {probabilities({{0.2f, 0.8f}}, {4}, nullptr)}, {"cat", "dog"});
  EXPECT_EQ(csv, "file,class_1,probability_1,class_2,probability_2\npredict#4,dog,0.8,cat,0.2\n")
      << "top 5 of 2 classes: 2 columns";
}
