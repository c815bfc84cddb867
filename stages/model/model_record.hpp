#pragma once
// What a sink may know of the model behind its results, as a Keras callback knows self.model: the layers, fixed
// when the model is built, and the weights at the end of each epoch. The model stage publishes an epoch's weights
// in its on_epoch_end, before that epoch's end travels on to the sinks, so a sink's on_epoch_end(e) finds them.
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "model/nn/sequential.hpp"

namespace stages {

struct ParameterRecord {
  std::string name;  // "kernel", "bias"
  nn::Shape shape;   // a conv kernel (kh, kw, in, out), a dense one (in, out): Keras' layouts
};

struct LayerRecord {
  std::string name;  // unique in the model, Keras-style: conv2d, conv2d_1, ...
  std::string type;  // the registered layer type
  std::vector<std::pair<std::string, std::string>> options;  // every option with defaults filled in, as YAML text
  nn::Shape input_shape, output_shape;
  std::vector<ParameterRecord> parameters;
  std::size_t parameter_count = 0;
  std::string implementation;  // e.g. the convolution engine; empty when there is no choice
  // An option's YAML text, or `otherwise` when the layer has no such option.
  std::string option(const std::string& name, const std::string& otherwise = "") const;
  long long int_option(const std::string& name, long long otherwise) const;
};

// A copy of every parameter at an epoch's end, in layer order, then parameter order.
struct WeightsSnapshot {
  int epoch = 0;  // the run's 0-based epoch at whose end they were taken
  std::vector<std::vector<float>> values;
};

class ModelRecord {
 public:
  ModelRecord(nn::Shape input_shape, std::vector<LayerRecord> layers);
  const nn::Shape& input_shape() const { return input_shape_; }
  const std::vector<LayerRecord>& layers() const { return layers_; }
  std::size_t parameter_count() const;
  // Each sink that will take weights says so once, when it sees its first result (long before the first epoch
  // ends); without one the model copies nothing (LeNet's 1.3 M parameters are 5 MB a copy).
  void want_weights() const;
  bool weights_wanted() const;
  // Thread-safe. A snapshot stays until every reader took it (or took a later epoch's): usually one exists.
  void publish(std::shared_ptr<const WeightsSnapshot> weights) const;
  // The weights published for `epoch` (null if none were), for one reader; older ones are let go.
  std::shared_ptr<const WeightsSnapshot> take_weights(int epoch) const;

 private:
  nn::Shape input_shape_;
  std::vector<LayerRecord> layers_;
  struct Published {
    std::shared_ptr<const WeightsSnapshot> weights;
    int readers_left;
  };
  mutable std::mutex mutex_;
  mutable int readers_ = 0;
  mutable bool published_any_ = false;
  mutable std::map<int, Published> weights_;
};

// A layer as the config wrote it: its type and every option, defaults filled in.
struct LayerOptions {
  std::string type;
  std::vector<std::pair<std::string, std::string>> options;
};
// The record of a built network; `written` holds every config entry, the fused softmax included (recorded as a last
// layer "softmax" without parameters). Allocates the weights (a record is made when a run prepares, not to validate).
std::shared_ptr<ModelRecord> make_model_record(nn::Sequential& network, const std::vector<LayerOptions>& written);

// Keras-style unique layer names: the first conv2d is "conv2d", the next "conv2d_1".
std::vector<std::string> unique_layer_names(const std::vector<std::string>& types);

}  // namespace stages
