#pragma once
// Update rules. Gradients are of the batch-mean loss; state is kept per parameter, in parameter order.
#include <memory>
#include <string>
#include <vector>

#include "model/nn/layer.hpp"

namespace nn {

class Optimizer {
 public:
  virtual ~Optimizer() = default;
  virtual std::string type() const = 0;
  // One update of every parameter with the given learning rate.
  virtual void step(const std::vector<Parameter>& parameters, double learning_rate) = 0;
  // Named state tensors (e.g. "velocity/0_conv2d/kernel") for checkpoints; created on first use.
  virtual std::vector<std::pair<std::string, Tensor*>> state(const std::vector<Parameter>& parameters) = 0;
  std::uint64_t iterations = 0;
};

struct SgdOptions {
  double momentum = 0;
  bool nesterov = false;
  double weight_decay = 0;  // L2: adds weight_decay * w to the gradient
};

// Keras' SGD: v = momentum * v - lr * g; w += v (Nesterov: w += momentum * v - lr * g).
class Sgd : public Optimizer {
 public:
  explicit Sgd(SgdOptions options) : options_(options) {}
  std::string type() const override { return "sgd"; }
  void step(const std::vector<Parameter>& parameters, double learning_rate) override;
  std::vector<std::pair<std::string, Tensor*>> state(const std::vector<Parameter>& parameters) override;

 private:
  SgdOptions options_;
  std::vector<Tensor> velocity_;
};

struct AdamOptions {
  double beta1 = 0.9, beta2 = 0.999, epsilon = 1e-7;  // Keras' defaults
  double weight_decay = 0;
};

class Adam : public Optimizer {
 public:
  explicit Adam(AdamOptions options) : options_(options) {}
  std::string type() const override { return "adam"; }
  void step(const std::vector<Parameter>& parameters, double learning_rate) override;
  std::vector<std::pair<std::string, Tensor*>> state(const std::vector<Parameter>& parameters) override;

 private:
  void ensure_state(const std::vector<Parameter>& parameters);
  AdamOptions options_;
  std::vector<Tensor> m_, v_;
};

// Learning rate per epoch (0-based) from the base rate.
struct Schedule {
  enum class Kind { Constant, Step, Exponential, Cosine } kind = Kind::Constant;
  int step_epochs = 10;   // step: multiply by gamma every step_epochs
  double gamma = 0.1;     // step and exponential
  double min_rate = 0.0;  // cosine: the rate reached at the last epoch
  int total_epochs = 1;   // cosine
  double rate(double base, int epoch) const;
};

}  // namespace nn
