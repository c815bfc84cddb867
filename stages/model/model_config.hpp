#pragma once
// The network and its training are data: built here from the model stage's parameters, every layer, optimizer and
// schedule through its registry, so nested options get the framework's checks and messages.
#include <memory>
#include <string>

#include "model/model_record.hpp"
#include "model/nn/optim/optimizer.hpp"
#include "model/nn/optim/schedule.hpp"
#include "model/nn/sequential.hpp"
#include "pipeline/params.hpp"

namespace stages {

// layers: [{conv2d: {filters: 20, kernel: 5, padding: same}}, relu, {max_pool2d: {pool: 2}}, flatten, ...]
// A trailing softmax is fused into the loss. Shapes are inferred and checked here.
struct NetworkSpec {
  std::unique_ptr<nn::Sequential> network;
  bool ends_with_softmax = false;
  std::vector<LayerOptions> written;  // every entry of the list, the softmax included, with its options
};
// From the list in `parent`'s parameter `parameter`; errors name its file:line:col and stage.
NetworkSpec build_network(const pipeline::Params& parent, const std::string& parameter, const nn::Shape& input_shape);
// The same from YAML text, for tests and benchmarks.
NetworkSpec build_network(const std::string& layers_yaml, const nn::Shape& input_shape);

// optimizer: {type: sgd, learning_rate: 0.01, momentum: 0.9, nesterov: true, weight_decay: 0,
//             schedule: {type: step, step_epochs: 5, gamma: 0.5}}
struct TrainingSpec {
  std::unique_ptr<nn::Optimizer> optimizer;
  double learning_rate = 0.01;
  std::unique_ptr<nn::Schedule> schedule;
  std::string description;
};
TrainingSpec build_training(const pipeline::Params& parent, const std::string& parameter);

nn::Shape parse_shape(const pipeline::Params& parent, const std::string& parameter);

// Every layer, optimizer and schedule with its parameters, for `pipeline stages sequential`.
std::string describe_model_options();

}  // namespace stages
