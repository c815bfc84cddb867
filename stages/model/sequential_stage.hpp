#pragma once
#include <string>

#include "model/model_config.hpp"
#include "model/nn/checkpoint.hpp"
#include "model/results.hpp"
#include "pipeline/params.hpp"
#include "pipeline/stage.hpp"

namespace stages {

// The model stage: trains on batches of the train stream in order, evaluates every other stream, and
// emits a BatchResult per batch.
class SequentialModel : public pipeline::Processor {
 public:
  explicit SequentialModel(const pipeline::Params& params);
  void prepare(const pipeline::RunContext& context) override;
  std::string summary() const override;
  void consume(const pipeline::Payload& input, std::string_view stream, pipeline::Emitter& out) override;
  void on_epoch_end(int epoch, pipeline::Emitter& out) override;
  void finish(bool interrupted, pipeline::Emitter& out) override;

  nn::Sequential& network() { return *network_.network; }
  nn::Checkpoint make_checkpoint(int epochs_done);
  void restore(const nn::Checkpoint& checkpoint, const std::string& name);
  const std::string& checkpoint_path() const { return checkpoint_path_; }

 private:
  void save(int epochs_done);

  NetworkSpec network_;
  TrainingSpec training_;
  std::string train_stream_;
  bool train_;
  std::string checkpoint_path_;
  int checkpoint_every_;
  std::string load_path_;
  std::uint64_t seed_ = 0;
  int epochs_ = 1;
  int epoch_offset_ = 0;  // epochs already done in a loaded checkpoint
  int last_epoch_ = -1;
  std::string summary_;
  std::map<std::string, std::int64_t> batches_seen_;  // per stream, in the current epoch
  std::map<std::string, std::int64_t> batches_per_epoch_;
  nn::Tensor input_, probabilities_, grad_;
};

}  // namespace stages
