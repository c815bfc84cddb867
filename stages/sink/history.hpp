#pragma once
#include <filesystem>

#include "pipeline/params.hpp"
#include "pipeline/stage.hpp"
#include "sink/epoch_history.hpp"

namespace stages {

// history.csv in the layout of Keras' CSVLogger, history.json with the run's config, seed, versions and final
// metrics, and optionally the test predictions. Rewritten after every epoch, so a crash keeps what was done.
class HistorySink : public pipeline::Processor {
 public:
  explicit HistorySink(const pipeline::Params& params);
  void prepare(const pipeline::RunContext& context) override;
  std::vector<std::filesystem::path> output_files(const std::filesystem::path& output_dir) const override;
  void consume(const pipeline::Payload& input, std::string_view, pipeline::Emitter&) override;
  void on_epoch_end(int epoch, pipeline::Emitter&) override;
  void finish(bool interrupted, pipeline::Emitter&) override;
  // The closed epochs' rows and the last epoch's predictions; a resumed run rewrites its files from them.
  std::optional<std::string> save_state(bool mid_epoch) override;
  void restore_state(const std::string& state) override;
  std::string csv() const;
  std::string json(bool finished, bool interrupted) const;

 private:
  std::string csv_param_, json_param_, predictions_param_;
  std::filesystem::path csv_path_, json_path_, predictions_path_;
  bool write_predictions_;
  EpochHistory history_;
  pipeline::RunContext context_;
  std::string predictions_;  // rows of the evaluated streams in the current epoch
  std::string last_predictions_;
};

}  // namespace stages
