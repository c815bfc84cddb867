#pragma once
// Update rules, registered by type name like layers: `optimizer: {type: sgd, learning_rate: 0.01, ...}` creates the
// one registered as sgd with its options checked against its parameters. Gradients are of the batch-mean loss;
// state is kept per parameter, in parameter order.
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "model/nn/layer.hpp"
#include "pipeline/params.hpp"
#include "pipeline/spec_registry.hpp"

namespace nn {

class Optimizer {
 public:
  virtual ~Optimizer() = default;
  virtual std::string type() const = 0;
  // "sgd(learning_rate=0.01, momentum=0.9)" for the model summary.
  virtual std::string description(double learning_rate) const = 0;
  // One update of every parameter with the given learning rate.
  virtual void step(const std::vector<Parameter>& parameters, double learning_rate) = 0;
  // Named state tensors (e.g. "velocity/0_conv2d/kernel") for checkpoints; created on first use.
  virtual std::vector<std::pair<std::string, Tensor*>> state(const std::vector<Parameter>& parameters) = 0;
  std::uint64_t iterations = 0;
};

struct OptimizerSpec {
  std::string type;
  std::string summary;
  std::vector<pipeline::ParamSpec> params;  // learning_rate and schedule are read by the model, the rest here
  std::function<std::unique_ptr<Optimizer>(const pipeline::Params& options)> create;
};
using OptimizerRegistry = pipeline::SpecRegistry<OptimizerSpec>;

// learning_rate (with this default), weight_decay and schedule: what every optimizer takes.
std::vector<pipeline::ParamSpec> common_optimizer_params(double default_learning_rate);

}  // namespace nn

#define PIPELINE_REGISTER_OPTIMIZER(spec_expression) PIPELINE_REGISTER_SPEC(::nn::OptimizerRegistry, spec_expression)
