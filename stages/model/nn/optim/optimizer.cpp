#include "model/nn/optim/optimizer.hpp"

namespace nn {

std::vector<pipeline::ParamSpec> common_optimizer_params(double default_learning_rate) {
  return {
      pipeline::float_param("learning_rate", default_learning_rate, "base step size").min(0).max(10),
      pipeline::float_param("weight_decay", 0.0, "L2: adds weight_decay · w to the gradient").min(0).max(1),
      pipeline::yaml_param("schedule", pipeline::ParamType::Map, "{type: constant}",
                           "learning rate per epoch: {type: constant|step|exponential|cosine, ...}"),
  };
}

}  // namespace nn
