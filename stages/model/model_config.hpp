#pragma once
// The network and its training are data: built here from the model stage's YAML parameters.
#include <yaml-cpp/yaml.h>

#include <functional>
#include <memory>
#include <string>

#include "model/nn/optimizer.hpp"
#include "model/nn/sequential.hpp"

namespace stages {

// Reports a problem at a YAML node (the caller turns it into a ConfigError with file:line:col).
using ConfigFail = std::function<void(const YAML::Node& where, const std::string& message)>;

// layers: [{conv2d: {filters: 20, kernel: 5, padding: same}}, relu, {max_pool2d: {pool: 2}}, flatten, ...]
// A trailing softmax is accepted and fused into the loss. Shapes are inferred and checked here.
struct NetworkSpec {
  std::unique_ptr<nn::Sequential> network;
  bool ends_with_softmax = false;
};
NetworkSpec build_network(const YAML::Node& layers, const nn::Shape& input_shape, const ConfigFail& fail);

// optimizer: {type: sgd, learning_rate: 0.01, momentum: 0.9, nesterov: true, weight_decay: 0,
//             schedule: {type: step, step_epochs: 5, gamma: 0.5}}
struct TrainingSpec {
  std::unique_ptr<nn::Optimizer> optimizer;
  double learning_rate = 0.01;
  nn::Schedule schedule;
  std::string description;
};
TrainingSpec build_training(const YAML::Node& optimizer, int epochs, const ConfigFail& fail);

nn::Shape parse_shape(const YAML::Node& node, const ConfigFail& fail);

}  // namespace stages
