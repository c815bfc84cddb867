#pragma once
#include <optional>
#include <string>

#include "model/data_parallel.hpp"
#include "model/model_config.hpp"
#include "model/nn/checkpoint.hpp"
#include "model/nn/trainer.hpp"
#include "model/results.hpp"
#include "pipeline/params.hpp"
#include "pipeline/stage.hpp"

namespace stages {

// The model stage: trains on batches of the train stream in order, evaluates every other stream, and emits a
// BatchResult per batch. A thin adapter between payloads and nn::Trainer, which does the work.
class SequentialModel : public pipeline::Processor {
 public:
  explicit SequentialModel(const pipeline::Params& params);
  void prepare(const pipeline::RunContext& context) override;
  std::vector<std::filesystem::path> output_files(const std::filesystem::path& output_dir) const override;
  std::string summary() const override;
  void consume(const pipeline::Payload& input, std::string_view stream, pipeline::Emitter& out) override;
  void on_epoch_end(int epoch, pipeline::Emitter& out) override;
  void finish(bool interrupted, pipeline::Emitter& out) override;

  // The run state holds a checkpoint: weights, optimizer state and position. Mid-epoch (an interrupted run) it
  // also holds the results of the epoch's batches trained so far: on --resume they are not trained again but
  // replayed, so the sinks' metrics match an uninterrupted run exactly.
  std::optional<std::string> save_state(bool mid_epoch) override;
  void restore_state(const std::string& state) override;

  // `pipeline export -o model.onnx`: the weights of a checkpoint as an ONNX model.
  std::vector<std::string> export_formats() const override { return {"onnx"}; }
  void export_to(const pipeline::ExportRequest& request) override;

  nn::Sequential& network() { return trainer_->network(); }
  nn::Trainer& trainer() { return *trainer_; }
  nn::Checkpoint make_checkpoint();
  const std::string& checkpoint_path() const { return checkpoint_path_; }

 private:
  void save();
  void publish_weights(int epoch) const;
  nn::TrainingPosition load(const std::string& path);
  void check_batch(const Batch& b) const;
  BatchResult result_of(const Batch& b, std::string_view stream, bool training, int epoch);
  nn::StepResult step(const Batch& b, std::string_view stream, bool training, int epoch);
  bool reports() const { return !parallel_ || parallel_->rank() == 0; }  // rank 0 feeds the sinks and saves

  std::unique_ptr<nn::Trainer> trainer_;
  std::string train_stream_;
  bool train_;
  std::string checkpoint_path_;
  int checkpoint_every_;
  std::string load_path_;
  bool overlap_allreduce_;
  std::unique_ptr<DataParallel> parallel_;  // with mpirun -np N > 1
  std::uint64_t seed_ = 0;
  int epochs_ = 1;
  int epoch_offset_ = 0;     // epochs a `load`ed checkpoint had done before this run
  int run_epochs_done_ = 0;  // complete epochs of this run (engine numbering)
  std::vector<nn::BatchRecord> trained_;  // this epoch's train batches so far
  std::vector<nn::BatchRecord> replay_;   // from a resumed checkpoint, for epoch replay_epoch_
  int replay_epoch_ = -1;
  std::string summary_;
  std::vector<LayerOptions> written_layers_;
  std::shared_ptr<ModelRecord> record_;  // made in prepare(), when the weights exist
  std::map<std::string, std::int64_t> batches_seen_;  // per stream, in the current epoch
  std::map<std::string, std::int64_t> batches_per_epoch_;
};

}  // namespace stages
