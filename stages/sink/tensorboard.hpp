#pragma once
// TensorBoard event files written without TensorFlow: TFRecord framing around hand-encoded Event protos.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "pipeline/params.hpp"
#include "pipeline/stage.hpp"
#include "sink/epoch_history.hpp"

namespace stages {

std::uint32_t crc32c(const std::uint8_t* data, std::size_t size);
// TFRecord: u64 length, u32 masked crc32c(length), data, u32 masked crc32c(data).
std::string tfrecord(const std::string& data);
// An Event {wall_time, step, file_version} or {wall_time, step, summary {value {tag, simple_value}}}.
std::string event_file_version(double wall_time);
std::string event_scalar(double wall_time, std::int64_t step, const std::string& tag, float value);

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
  void remove_earlier_event_files() const;
  std::string logdir_param_;
  std::filesystem::path logdir_;
  std::string file_name_;
  EpochHistory history_;
  std::map<std::string, std::filesystem::path> files_;  // per run
};

}  // namespace stages
