#pragma once
#include "model/nn/optim/optimizer.hpp"

namespace nn {

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
  std::string description(double learning_rate) const override;
  void step(const std::vector<Parameter>& parameters, double learning_rate) override;
  std::vector<std::pair<std::string, Tensor*>> state(const std::vector<Parameter>& parameters) override;

 private:
  SgdOptions options_;
  std::vector<Tensor> velocity_;
};

}  // namespace nn
