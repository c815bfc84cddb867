#pragma once
// top_predictions: what the model says of each sample, as a prediction service would answer: the sample's name
// (its file, for sources that have names; else stream#index), the k most probable classes and their probabilities,
// in a CSV file written at the end of the run (the last epoch's predictions, sorted by stream and index).
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "model/results.hpp"
#include "pipeline/params.hpp"
#include "pipeline/stage.hpp"

namespace stages {

class TopPredictionsSink : public pipeline::Processor {
 public:
  explicit TopPredictionsSink(const pipeline::Params& params);
  void prepare(const pipeline::RunContext& context) override;
  std::vector<std::filesystem::path> output_files(const std::filesystem::path& output_dir) const override;
  void consume(const pipeline::Payload& input, std::string_view stream, pipeline::Emitter&) override;
  void on_epoch_end(int epoch, pipeline::Emitter&) override;
  void finish(bool interrupted, pipeline::Emitter&) override;
  std::optional<std::string> save_state(bool mid_epoch) override;
  void restore_state(const std::string& state) override;

 private:
  std::string path_param_;
  std::filesystem::path path_;
  std::size_t k_;
  std::size_t columns_ = 0;  // k, or fewer when the model has fewer classes
  std::vector<std::string> class_names_;
  std::map<std::pair<std::string, std::int64_t>, std::string> rows_, last_rows_;  // (stream, index) -> CSV line
};

}  // namespace stages
