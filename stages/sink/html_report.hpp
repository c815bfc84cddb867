#pragma once
#include <filesystem>

#include "pipeline/params.hpp"
#include "pipeline/stage.hpp"
#include "sink/epoch_history.hpp"

namespace stages {

struct Misclassified {
  std::int64_t index = 0;
  int label = 0, predicted = 0;
  float confidence = 0;
  std::string png;
};

// One self-contained HTML file: run summary and config, loss and accuracy curves (inline SVG), confusion
// matrix heat map, per-class table, the test images the model got wrong, and the per-stage profile.
class HtmlReportSink : public pipeline::Processor {
 public:
  explicit HtmlReportSink(const pipeline::Params& params);
  void prepare(const pipeline::RunContext& context) override;
  std::vector<std::filesystem::path> output_files(const std::filesystem::path& output_dir) const override;
  void consume(const pipeline::Payload& input, std::string_view, pipeline::Emitter&) override;
  void on_epoch_end(int epoch, pipeline::Emitter&) override;
  void finish(bool interrupted, pipeline::Emitter&) override;
  std::string render(const pipeline::Profile& profile, bool interrupted) const;
  // The closed epochs, the last epoch's misclassified images and the model section: all the report is drawn from
  // (a run resumed after its last epoch sees no result, yet writes the whole report).
  std::optional<std::string> save_state(bool mid_epoch) override;
  void restore_state(const std::string& state) override;

 private:
  std::string path_param_;
  std::filesystem::path path_;
  std::size_t max_images_;
  bool log_loss_;
  EpochHistory history_;
  pipeline::RunContext context_;
  std::vector<Misclassified> wrong_, last_wrong_;
  std::size_t wrong_count_ = 0, last_wrong_count_ = 0;
  std::string model_section_;  // the layer table and graph, drawn from the first result's model
};

}  // namespace stages
