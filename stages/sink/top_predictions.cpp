#include "sink/top_predictions.hpp"

#include <algorithm>
#include <iostream>
#include <numeric>

#include "common/number_text.hpp"
#include "common/output_file.hpp"
#include "pipeline/registry.hpp"
#include "pipeline/state_codec.hpp"
#include "sink/metrics.hpp"

namespace stages {

TopPredictionsSink::TopPredictionsSink(const pipeline::Params& p)
    : path_param_(p.get_string("path")), k_(static_cast<std::size_t>(p.get_int("top"))) {}

std::vector<std::filesystem::path> TopPredictionsSink::output_files(const std::filesystem::path& output_dir) const {
  return {output_path(path_param_, output_dir, "top_predictions.csv")};
}

void TopPredictionsSink::prepare(const pipeline::RunContext& context) {
  path_ = output_path(path_param_, context.output_dir, "top_predictions.csv");
  class_names_ = context.class_names;
  ensure_writable_folder(path_);
}

void TopPredictionsSink::consume(const pipeline::Payload& input, std::string_view, pipeline::Emitter&) {
  const auto& r = input.get<BatchResult>();
  if (r.training) return;
  const std::size_t classes = r.probabilities.shape()[1], k = std::min(k_, classes);
  columns_ = k;
  std::vector<std::size_t> order(classes);
  for (std::size_t i = 0; i < r.size(); ++i) {
    std::iota(order.begin(), order.end(), 0);
    // Most probable first; ties by class number, so the file never depends on the sort's whims.
    std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(k), order.end(),
                      [&](std::size_t a, std::size_t b) {
                        const float pa = r.probabilities(i, a), pb = r.probabilities(i, b);
                        return pa != pb ? pa > pb : a < b;
                      });
    const std::int64_t index = r.indices[i];
    const bool named = r.names && index >= 0 && static_cast<std::size_t>(index) < r.names->size();
    std::string line = csv_field(named ? (*r.names)[static_cast<std::size_t>(index)] : r.stream + "#" + std::to_string(index));
    for (std::size_t j = 0; j < k; ++j)
      line += "," + csv_field(class_label(order[j], class_names_)) + "," + shortest_text(r.probabilities(i, order[j]));
    rows_[{r.stream, index}] = line + "\n";
  }
}

void TopPredictionsSink::on_epoch_end(int, pipeline::Emitter&) {
  if (rows_.empty()) return;  // an epoch that evaluated nothing keeps the last one's
  last_rows_.swap(rows_);
  rows_.clear();
}

void TopPredictionsSink::finish(bool, pipeline::Emitter&) {
  const auto& rows = last_rows_.empty() ? rows_ : last_rows_;
  std::string csv = "file";
  for (std::size_t j = 1; j <= (columns_ ? columns_ : k_); ++j) csv += ",class_" + std::to_string(j) + ",probability_" + std::to_string(j);
  csv += "\n";
  for (const auto& [key, line] : rows) csv += line;
  write_file_atomically(path_, csv);
  std::cout << "top_predictions: " << rows.size() << " samples in " << path_.string() << "\n";
}

std::optional<std::string> TopPredictionsSink::save_state(bool mid_epoch) {
  if (mid_epoch) return std::nullopt;  // the model replays the interrupted epoch's results
  pipeline::StateWriter w;
  w.u64(columns_).u64(last_rows_.size());
  for (const auto& [key, line] : last_rows_) w.str(key.first).i64(key.second).str(line);
  return w.take();
}

void TopPredictionsSink::restore_state(const std::string& state) {
  pipeline::StateReader r(state);
  const std::uint64_t columns = r.u64();
  last_rows_.clear();
  for (std::size_t n = r.count(24); n > 0; --n) {
    std::string stream = r.str();
    const std::int64_t index = r.i64();
    last_rows_[{std::move(stream), index}] = r.str();
  }
  r.expect_end();
  columns_ = static_cast<std::size_t>(columns);
}

static pipeline::StageSpec top_predictions_spec() {
  using namespace pipeline;
  StageSpec spec;
  spec.type = "top_predictions";
  spec.summary = "Sink: the top classes and their probabilities per evaluated sample, named by its file when the "
                 "source has file names (top_predictions.csv), e.g. to predict a folder of new images.";
  spec.kind = StageKind::Processor;
  spec.input = kBatchResultType;
  spec.params = {
      string_param("path", "", "CSV path (default <output_dir>/top_predictions.csv)"),
      int_param("top", 3, "classes per sample, most probable first").min(1),
  };
  spec.create = [](const Params& p) { return std::make_unique<TopPredictionsSink>(p); };
  return spec;
}

}  // namespace stages

PIPELINE_REGISTER_STAGE(stages::top_predictions_spec())
