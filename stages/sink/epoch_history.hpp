#pragma once
// Per-epoch rows shared by the history and report sinks: the same numbers the console prints.
#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "sink/metrics.hpp"

namespace stages {

struct EpochRow {
  int epoch = 0;  // 1-based, as Keras' logs show it
  std::map<std::string, StreamStats> streams;
  double seconds = 0;
  double learning_rate = 0;
};

// Collects BatchResults into rows, one per epoch; names metrics the Keras way (loss, val_loss, ...).
class EpochHistory {
 public:
  explicit EpochHistory(std::string train_stream) : train_stream_(std::move(train_stream)) {}
  void start() { epoch_start_ = std::chrono::steady_clock::now(); }
  void add(const BatchResult& r) {
    tracker_.add(r);
    result_epoch_ = r.epoch;
    if (r.finished > last_finished_) last_finished_ = r.finished;
  }
  // Closes the epoch; returns false when nothing was seen in it. Rows are numbered by the model's epoch,
  // which continues from a loaded checkpoint.
  bool close_epoch();
  const std::vector<EpochRow>& rows() const { return rows_; }
  const std::map<std::string, ConfusionMatrix>& last_confusion() const { return tracker_.last_confusion(); }
  // "", "val_" or "<stream>_" prefix of a stream's metrics.
  std::string prefix(const std::string& stream) const;
  // Metric names in a stable order: accuracy, loss, then each evaluated stream's.
  std::vector<std::string> metric_names() const;
  double metric(const EpochRow& row, const std::string& name) const;
  const std::string& train_stream() const { return train_stream_; }
  // The closed epochs, exactly (a durable run's state; see Processor::save_state).
  void save(pipeline::StateWriter& w) const;
  void load(pipeline::StateReader& r);

 private:
  std::string train_stream_;
  EpochTracker tracker_;
  std::vector<EpochRow> rows_;
  int result_epoch_ = 0;
  std::chrono::steady_clock::time_point epoch_start_ = std::chrono::steady_clock::now();
  // When the epoch's last result was computed: sinks may run late (one thread, busy with the model), so an epoch's
  // time is taken from the model's clock, not from when the sink saw the epoch end.
  std::chrono::steady_clock::time_point last_finished_{};
};

}  // namespace stages
