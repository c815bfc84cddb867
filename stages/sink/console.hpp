#pragma once
#include <chrono>
#include <cstdio>

#include "pipeline/params.hpp"
#include "pipeline/stage.hpp"
#include "sink/epoch_history.hpp"

namespace stages {

// Keras-style training log: a live progress bar on a terminal, one line per epoch, and at the end the
// classification report and confusion matrix of the evaluated stream.
class ConsoleSink : public pipeline::Processor {
 public:
  ConsoleSink(const pipeline::Params& params, std::FILE* out);
  void prepare(const pipeline::RunContext& context) override;
  void consume(const pipeline::Payload& input, std::string_view stream, pipeline::Emitter&) override;
  void on_epoch_end(int epoch, pipeline::Emitter&) override;
  void finish(bool interrupted, pipeline::Emitter&) override;
  // The closed epochs: a run resumed after its last epoch still ends with the classification report.
  std::optional<std::string> save_state(bool mid_epoch) override;
  void restore_state(const std::string& state) override;
  // The epoch line as printed, e.g. "Epoch 3/20 - 18.2s - loss: 0.0712 - accuracy: 0.9781 - ...".
  static std::string epoch_line(const EpochRow& row, int epochs, const EpochHistory& history);
  // " - loss: 0.0712 - accuracy: 0.9781 - val_loss: ..."
  static std::string metrics_text(const EpochRow& row, const EpochHistory& history);
  // On a terminal: "469/469 [==============================] - 12.1s 26ms/step - loss: ...".
  static std::string bar_line(const EpochRow& row, const EpochHistory& history);

 private:
  void progress(const BatchResult& r);
  std::FILE* out_;
  bool live_;
  bool report_;
  long long log_every_;
  EpochHistory history_;
  std::map<std::string, StreamStats> running_;  // this epoch so far, for the progress bar
  // When each stream of this epoch began: the previous stream's last result (or the epoch's start), so that an
  // evaluation's speed is its own, not the epoch's.
  std::map<std::string, std::chrono::steady_clock::time_point> stream_start_;
  std::chrono::steady_clock::time_point last_result_;
  bool epoch_header_printed_ = false;
  int epochs_ = 1;
  std::vector<std::string> class_names_;
  int last_epoch_ = -1;
  bool line_open_ = false;
};

}  // namespace stages
