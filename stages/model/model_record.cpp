#include "model/model_record.hpp"

namespace stages {

ModelRecord::ModelRecord(nn::Shape input_shape, std::vector<LayerRecord> layers)
    : input_shape_(std::move(input_shape)), layers_(std::move(layers)) {}

std::size_t ModelRecord::parameter_count() const {
  std::size_t n = 0;
  for (const LayerRecord& layer : layers_) n += layer.parameter_count;
  return n;
}

void ModelRecord::publish(std::shared_ptr<const WeightsSnapshot> weights) const {
  std::lock_guard lock(mutex_);
  weights_[weights->epoch] = std::move(weights);
  while (weights_.size() > kKeptEpochs) weights_.erase(weights_.begin());
}

std::shared_ptr<const WeightsSnapshot> ModelRecord::weights_after(int epoch) const {
  std::lock_guard lock(mutex_);
  const auto found = weights_.find(epoch);
  return found == weights_.end() ? nullptr : found->second;
}

std::shared_ptr<ModelRecord> make_model_record(nn::Sequential& network, const std::vector<LayerOptions>& written) {
  std::vector<std::string> types;
  for (const LayerOptions& w : written) types.push_back(w.type);
  const std::vector<std::string> names = unique_layer_names(types);
  std::vector<LayerRecord> layers;
  for (std::size_t i = 0; i < written.size(); ++i) {
    LayerRecord record;
    record.name = names[i];
    record.type = written[i].type;
    record.options = written[i].options;
    if (i < network.size()) {
      nn::Layer& layer = network.layer(i);
      record.input_shape = layer.input_shape();
      record.output_shape = layer.output_shape();
      for (const nn::Parameter& p : layer.parameters())
        record.parameters.push_back({p.name, nn::Shape(p.value->shape().begin(), p.value->shape().end())});
      record.parameter_count = layer.parameter_count();
      record.implementation = layer.implementation();
    } else {  // the softmax fused with the loss
      record.input_shape = record.output_shape = network.output_shape();
    }
    layers.push_back(std::move(record));
  }
  return std::make_shared<ModelRecord>(network.input_shape(), std::move(layers));
}

std::vector<std::string> unique_layer_names(const std::vector<std::string>& types) {
  std::map<std::string, int> seen;
  std::vector<std::string> names;
  for (const std::string& type : types) {
    const int n = seen[type]++;
    names.push_back(n == 0 ? type : type + "_" + std::to_string(n));
  }
  return names;
}

}  // namespace stages
