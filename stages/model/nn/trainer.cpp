#include "model/nn/trainer.hpp"

#include <algorithm>

#include <cmath>
#include <functional>
#include <stdexcept>

#include "model/nn/gemm.hpp"
#include "model/nn/softmax_cross_entropy.hpp"

namespace nn {

Trainer::Trainer(std::unique_ptr<Sequential> network, std::unique_ptr<Optimizer> optimizer,
                 std::unique_ptr<Schedule> schedule, double base_learning_rate)
    : network_(std::move(network)),
      optimizer_(std::move(optimizer)),
      schedule_(std::move(schedule)),
      base_learning_rate_(base_learning_rate) {
  use_single_threaded_blas();  // layers split their work over TBB's threads; BLAS must not start its own
}

// Why the loss is not a number: bad input (then the data is to blame), else the training diverged with the
// optimizer's settings, named in full (a learning rate is not always the culprit).
std::string Trainer::non_finite_loss(const Tensor& x, double loss, double learning_rate) const {
  const auto bad = std::find_if(x.begin(), x.end(), [](float v) { return !std::isfinite(v); });
  if (bad != x.end())
    return "the input batch holds a non-finite value (" + std::to_string(*bad) + " at element " +
           std::to_string(bad - x.begin()) + "): check the data and the transforms before the model";
  return "loss is " + std::to_string(loss) + ": training diverged with " + optimizer_->description(learning_rate) +
         " (lower the learning rate, or check the optimizer's other settings)";
}

// Back-propagates (or, for a rank without rows, contributes zeros) and, in a data-parallel run, hands every
// layer's gradients to the sync as soon as they are final, then waits for the sums.
void Trainer::backward_and_sum(std::size_t rows) {
  std::function<void(Layer&)> ready;
  if (sync_) ready = [this](Layer& layer) { sync_->gradients_ready(layer.parameters()); };
  if (rows > 0) network_->backward(grad_, ready);
  else network_->backward_nothing(ready);
  if (sync_) sync_->wait();
}

StepResult Trainer::pass(const Tensor& x, const Tensor& y, int epoch, std::uint64_t seed, bool training,
                         std::size_t batch_rows) {
  StepResult r;
  r.learning_rate = learning_rate(epoch);
  const std::size_t rows = x.dimension() > 0 ? x.shape()[0] : 0;
  if (rows > 0) {
    const Tensor& logits = network_->forward(x, PassContext{training, seed});
    LossResult loss = softmax_cross_entropy(logits, y, probabilities_, training ? &grad_ : nullptr, batch_rows);
    if (!std::isfinite(loss.loss)) throw std::runtime_error(non_finite_loss(x, loss.loss, r.learning_rate));
    r.loss = loss.loss;
    r.total_loss = loss.total;
    r.correct = loss.correct;
    r.predicted = std::move(loss.predicted);
  } else {
    ensure_shape(probabilities_, {0, network_->output_shape()[0]});
  }
  if (training) {
    backward_and_sum(rows);
    optimizer_->step(network_->parameters(), r.learning_rate);
  }
  r.probabilities = &probabilities_;
  return r;
}

StepResult Trainer::train(const Tensor& x, const Tensor& y, int epoch, std::uint64_t seed, std::size_t batch_rows) {
  return pass(x, y, epoch, seed, true, batch_rows);
}

StepResult Trainer::evaluate(const Tensor& x, const Tensor& y, int epoch) { return pass(x, y, epoch, 0, false, 0); }

Checkpoint Trainer::snapshot(TrainingPosition position) {
  Checkpoint c;
  c.header["architecture"] = network_->architecture();
  c.header["optimizer"] = optimizer_->type();
  position.iterations = optimizer_->iterations;
  c.position = std::move(position);
  auto parameters = network_->parameters();
  for (const auto& p : parameters) c.tensors.emplace_back(p.name, *p.value);
  for (const auto& [name, tensor] : network_->state()) c.tensors.emplace_back(name, *tensor);
  for (const auto& [name, tensor] : optimizer_->state(parameters)) c.tensors.emplace_back(name, *tensor);
  return c;
}

TrainingPosition Trainer::restore(const Checkpoint& c, const std::string& name) {
  auto header = [&](const std::string& key) {
    auto it = c.header.find(key);
    if (it == c.header.end()) throw CheckpointError(name + ": checkpoint has no '" + key + "' entry");
    return it->second;
  };
  const std::string architecture = network_->architecture();
  if (header("architecture") != architecture)
    throw CheckpointError(name + ": checkpoint is of a different network\n  checkpoint: " + header("architecture") +
                          "\n  config:     " + architecture);
  auto parameters = network_->parameters();
  for (const auto& p : parameters) {
    const Tensor* t = c.find(p.name);
    if (!t || t->shape() != p.value->shape())
      throw CheckpointError(name + ": checkpoint lacks tensor '" + p.name + "' of the right shape");
    *p.value = *t;
  }
  for (auto& [state_name, tensor] : network_->state()) {
    const Tensor* t = c.find(state_name);
    if (!t || t->shape() != tensor->shape())
      throw CheckpointError(name + ": checkpoint lacks layer state '" + state_name + "' of the right shape");
    *tensor = *t;
  }
  if (header("optimizer") == optimizer_->type()) {
    for (auto& [state_name, tensor] : optimizer_->state(parameters)) {
      const Tensor* t = c.find(state_name);
      if (!t || t->shape() != tensor->shape())
        throw CheckpointError(name + ": checkpoint lacks optimizer state '" + state_name + "'");
      *tensor = *t;
    }
    optimizer_->iterations = c.position.iterations;
  }
  return c.position;
}

}  // namespace nn
