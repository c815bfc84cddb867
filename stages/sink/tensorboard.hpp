#pragma once
// TensorBoard event files written without TensorFlow, as Keras' TensorBoard callback writes them: scalars per
// epoch, the model graph (write_graph), weight images (write_images) and weight histograms (histogram_freq).
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "pipeline/params.hpp"
#include "pipeline/stage.hpp"
#include "sink/epoch_history.hpp"
#include "sink/tensorboard_events.hpp"

namespace stages {

// Like Keras' TensorBoard callback: logs/train and logs/validation runs with epoch_loss and epoch_accuracy,
// so both curves appear on one chart.
class TensorBoardSink : public pipeline::Processor {
 public:
  explicit TensorBoardSink(const pipeline::Params& params);
  void prepare(const pipeline::RunContext& context) override;
  std::vector<std::filesystem::path> output_files(const std::filesystem::path& output_dir) const override;
  void consume(const pipeline::Payload& input, std::string_view, pipeline::Emitter&) override;
  void on_epoch_end(int epoch, pipeline::Emitter&) override;
  // The event files and how long each was at the epoch's end; a resumed run truncates them to that length
  // (dropping what an interrupted run appended after its last saved state) and appends to them.
  std::optional<std::string> save_state(bool mid_epoch) override;
  void restore_state(const std::string& state) override;

 private:
  void append(const std::string& run, const std::string& records);
  // The run's file, started with its version record (in `records`) the first time.
  void open_run(const std::string& run, double wall_time, std::map<std::string, std::string>& records);
  void write_graph(const ModelRecord& model);
  void write_weights(const WeightsSnapshot& weights, int epoch, std::int64_t step, double wall_time);
  void remove_earlier_event_files() const;
  std::string logdir_param_;
  bool write_graph_, write_images_;
  int histogram_freq_;
  bool graph_written_ = false;
  bool warned_no_weights_ = false;
  std::shared_ptr<const ModelRecord> model_;  // from the results, when the model stage sends one
  std::filesystem::path logdir_;
  std::string file_name_;
  EpochHistory history_;
  std::map<std::string, std::filesystem::path> files_;  // per run
};

}  // namespace stages
