#include "sink/epoch_history.hpp"

#include <cmath>

namespace stages {

bool EpochHistory::close_epoch() {
  const auto end = last_finished_ > epoch_start_ ? last_finished_ : std::chrono::steady_clock::now();
  EpochRow row;
  row.epoch = result_epoch_ + 1;
  row.seconds = std::chrono::duration<double>(end - epoch_start_).count();
  epoch_start_ = end;
  row.streams = tracker_.close_epoch();
  if (row.streams.empty()) return false;
  auto train = row.streams.find(train_stream_);
  row.learning_rate = train != row.streams.end() ? train->second.learning_rate : 0.0;
  rows_.push_back(std::move(row));
  return true;
}

void EpochHistory::save(pipeline::StateWriter& w) const {
  w.u64(rows_.size());
  for (const EpochRow& row : rows_) {
    w.i64(row.epoch).f64(row.seconds).f64(row.learning_rate).u64(row.streams.size());
    for (const auto& [stream, stats] : row.streams) {
      w.str(stream);
      stats.save(w);
    }
  }
  w.u64(last_confusion().size());
  for (const auto& [stream, matrix] : last_confusion()) {
    w.str(stream);
    matrix.save(w);
  }
  w.i64(result_epoch_);
}

void EpochHistory::load(pipeline::StateReader& r) {
  rows_.clear();
  for (std::size_t n = r.count(32); n > 0; --n) {
    EpochRow row;
    row.epoch = static_cast<int>(r.i64());
    row.seconds = r.f64();
    row.learning_rate = r.f64();
    for (std::size_t k = r.count(48); k > 0; --k) {
      std::string stream = r.str();
      row.streams[stream] = StreamStats::load(r);
    }
    rows_.push_back(std::move(row));
  }
  std::map<std::string, ConfusionMatrix> matrices;
  for (std::size_t n = r.count(16); n > 0; --n) {
    std::string stream = r.str();
    matrices.emplace(stream, ConfusionMatrix::load(r));
  }
  tracker_.restore_last_confusion(std::move(matrices));
  result_epoch_ = static_cast<int>(r.i64());
}

std::string EpochHistory::prefix(const std::string& stream) const {
  if (stream == train_stream_) return "";
  std::size_t evaluated = 0;
  if (!rows_.empty())
    for (const auto& [name, stats] : rows_.back().streams) evaluated += name != train_stream_;
  return evaluated <= 1 ? "val_" : stream + "_";
}

std::vector<std::string> EpochHistory::metric_names() const {
  std::vector<std::string> names;
  if (rows_.empty()) return names;
  const auto& streams = rows_.back().streams;
  if (streams.count(train_stream_)) names = {"accuracy", "loss"};
  for (const auto& [stream, stats] : streams)
    if (stream != train_stream_) {
      names.push_back(prefix(stream) + "accuracy");
      names.push_back(prefix(stream) + "loss");
    }
  return names;
}

double EpochHistory::metric(const EpochRow& row, const std::string& name) const {
  for (const auto& [stream, stats] : row.streams) {
    const std::string p = prefix(stream);
    if (name == p + "accuracy") return stats.accuracy();
    if (name == p + "loss") return stats.loss();
  }
  return std::nan("");
}

}  // namespace stages
