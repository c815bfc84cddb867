#include "model/model_record.hpp"

namespace stages {

std::string LayerRecord::option(const std::string& name, const std::string& otherwise) const {
  for (const auto& [key, text] : options)
    if (key == name) return text;
  return otherwise;
}

long long LayerRecord::int_option(const std::string& name, long long otherwise) const {
  return std::stoll(option(name, std::to_string(otherwise)));
}

ModelRecord::ModelRecord(nn::Shape input_shape, std::vector<LayerRecord> layers)
    : input_shape_(std::move(input_shape)), layers_(std::move(layers)) {}

std::size_t ModelRecord::parameter_count() const {
  std::size_t n = 0;
  for (const LayerRecord& layer : layers_) n += layer.parameter_count;
  return n;
}

void ModelRecord::want_weights() const {
  std::lock_guard lock(mutex_);
  ++readers_;
  for (auto& [epoch, published] : weights_) ++published.readers_left;  // not taken by this reader yet
}

bool ModelRecord::weights_wanted() const {
  std::lock_guard lock(mutex_);
  return readers_ > 0;
}

// With no reader yet, the first epoch's weights are kept anyway, in case a sink's first result reaches it only
// after the model ended an epoch (an epoch of one batch); dropped at the next publication if still unclaimed.
void ModelRecord::publish(std::shared_ptr<const WeightsSnapshot> weights) const {
  std::lock_guard lock(mutex_);
  const bool first = !published_any_;
  published_any_ = true;
  if (readers_ == 0) {
    weights_.clear();
    if (!first) return;
  }
  const int epoch = weights->epoch;
  weights_[epoch] = Published{std::move(weights), readers_};
}

std::shared_ptr<const WeightsSnapshot> ModelRecord::take_weights(int epoch) const {
  std::lock_guard lock(mutex_);
  std::shared_ptr<const WeightsSnapshot> taken;
  for (auto it = weights_.begin(); it != weights_.end() && it->first <= epoch;) {
    if (it->first == epoch) taken = it->second.weights;
    // This reader is done with this epoch and every earlier one.
    if (--it->second.readers_left <= 0) it = weights_.erase(it);
    else ++it;
  }
  return taken;
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
