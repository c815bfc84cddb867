#pragma once
#include "model/nn/optim/optimizer.hpp"

namespace nn {

struct AdamOptions {
  double beta1 = 0.9, beta2 = 0.999, epsilon = 1e-7;  // Keras' defaults
  double weight_decay = 0;
};

// Adam as Keras: bias correction folded into the step size.
class Adam : public Optimizer {
 public:
  explicit Adam(AdamOptions options) : options_(options) {}
  std::string type() const override { return "adam"; }
  std::string description(double learning_rate) const override;
  void step(const std::vector<Parameter>& parameters, double learning_rate) override;
  std::vector<std::pair<std::string, Tensor*>> state(const std::vector<Parameter>& parameters) override;

 private:
  void ensure_state(const std::vector<Parameter>& parameters);
  AdamOptions options_;
  std::vector<Tensor> m_, v_;
};

}  // namespace nn
