#include "sink/epoch_history.hpp"

#include <cmath>

namespace stages {

bool EpochHistory::close_epoch() {
  const auto now = std::chrono::steady_clock::now();
  EpochRow row;
  row.epoch = result_epoch_ + 1;
  row.seconds = std::chrono::duration<double>(now - epoch_start_).count();
  epoch_start_ = now;
  row.streams = tracker_.close_epoch();
  if (row.streams.empty()) return false;
  auto train = row.streams.find(train_stream_);
  row.learning_rate = train != row.streams.end() ? train->second.learning_rate : 0.0;
  rows_.push_back(std::move(row));
  return true;
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
