#pragma once
// Training apart from the network (Caffe's Solver apart from its Net): a step on a batch (forward, loss, backward,
// update), evaluation, the learning-rate schedule, and snapshots of weights, optimizer state and training position.
// It knows nothing of stages or payloads; the model stage adapts it to the flow graph.
#include <memory>
#include <string>
#include <vector>

#include "model/nn/checkpoint.hpp"
#include "model/nn/distributed/gradient_sync.hpp"
#include "model/nn/optim/optimizer.hpp"
#include "model/nn/optim/schedule.hpp"
#include "model/nn/sequential.hpp"

namespace nn {

struct StepResult {
  double loss = 0;        // mean over the rows given
  double total_loss = 0;  // sum over them
  std::size_t correct = 0;
  double learning_rate = 0;
  std::vector<int> predicted;
  const Tensor* probabilities = nullptr;  // (N, classes), valid until the next step
};

class Trainer {
 public:
  Trainer(std::unique_ptr<Sequential> network, std::unique_ptr<Optimizer> optimizer, std::unique_ptr<Schedule> schedule,
          double base_learning_rate);
  Sequential& network() { return *network_; }
  const Sequential& network() const { return *network_; }
  Optimizer& optimizer() { return *optimizer_; }

  void set_epochs(int epochs) { epochs_ = epochs; }
  double learning_rate(int epoch) const { return schedule_->rate(base_learning_rate_, epoch, epochs_); }

  // Data-parallel training: every update applies the gradients summed over the ranks (see GradientSync).
  void set_gradient_sync(std::unique_ptr<GradientSync> sync) { sync_ = std::move(sync); }
  const GradientSync* gradient_sync() const { return sync_.get(); }

  // x (N, input...) and one-hot y (N, classes). `seed` draws the batch's randomness (dropout). Throws
  // std::runtime_error, before any update, when the loss is not finite. With a gradient sync, x is this rank's
  // share of a batch of `batch_rows` rows (the loss is the whole batch's mean) and may have no rows at all.
  StepResult train(const Tensor& x, const Tensor& y, int epoch, std::uint64_t seed, std::size_t batch_rows = 0);
  StepResult evaluate(const Tensor& x, const Tensor& y, int epoch);

  // Weights, optimizer state and `position` (the optimizer's iteration count is filled in here).
  Checkpoint snapshot(TrainingPosition position);
  // Loads a snapshot of the same architecture; the optimizer state only when it is of the same type. Throws
  // CheckpointError naming `name` on a mismatch.
  TrainingPosition restore(const Checkpoint& checkpoint, const std::string& name);

 private:
  std::string non_finite_loss(const Tensor& x, double loss, double learning_rate) const;
  StepResult pass(const Tensor& x, const Tensor& y, int epoch, std::uint64_t seed, bool training,
                  std::size_t batch_rows);
  void backward_and_sum(std::size_t rows);

  std::unique_ptr<Sequential> network_;
  std::unique_ptr<Optimizer> optimizer_;
  std::unique_ptr<Schedule> schedule_;
  std::unique_ptr<GradientSync> sync_;
  double base_learning_rate_;
  int epochs_ = 1;
  Tensor probabilities_, grad_;
};

}  // namespace nn
