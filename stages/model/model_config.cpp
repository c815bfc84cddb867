#include "model/model_config.hpp"

#include <cstdio>
#include <optional>
#include <set>

#include "model/nn/conv2d.hpp"
#include "model/nn/dense.hpp"
#include "model/nn/elementwise.hpp"
#include "model/nn/max_pool2d.hpp"

namespace stages {
namespace {

// Options of one layer or optimizer entry, each read once and checked for unknown keys at the end.
class Options {
 public:
  Options(const YAML::Node& node, std::string what, const ConfigFail& fail)
      : node_(node), what_(std::move(what)), fail_(fail) {
    if (node_.IsDefined() && !node_.IsNull() && !node_.IsMap()) fail_(node_, what_ + ": options must be a map");
  }
  bool has(const std::string& key) const { return node_.IsMap() && node_[key].IsDefined(); }
  long long integer(const std::string& key, std::optional<long long> fallback, long long min_value) {
    used_.insert(key);
    if (!has(key)) {
      if (!fallback) fail_(node_, what_ + ": missing '" + key + "'");
      return *fallback;
    }
    const YAML::Node v = node_[key];
    long long value = 0;
    try {
      value = v.as<long long>();
    } catch (const YAML::Exception&) {
      fail_(v, what_ + ": '" + key + "' must be an integer");
    }
    if (value < min_value) fail_(v, what_ + ": '" + key + "' must be >= " + std::to_string(min_value));
    return value;
  }
  double number(const std::string& key, double fallback, double min_value, double max_value) {
    used_.insert(key);
    if (!has(key)) return fallback;
    const YAML::Node v = node_[key];
    double value = 0;
    try {
      value = v.as<double>();
    } catch (const YAML::Exception&) {
      fail_(v, what_ + ": '" + key + "' must be a number");
    }
    if (!(value >= min_value && value <= max_value)) {
      char range[96];
      std::snprintf(range, sizeof range, "[%g, %g]", min_value, max_value);
      fail_(v, what_ + ": '" + key + "' must be in " + range + ", got " + v.Scalar());
    }
    return value;
  }
  bool boolean(const std::string& key, bool fallback) {
    used_.insert(key);
    if (!has(key)) return fallback;
    try {
      return node_[key].as<bool>();
    } catch (const YAML::Exception&) {
      fail_(node_[key], what_ + ": '" + key + "' must be true or false");
    }
    return fallback;
  }
  std::string choice(const std::string& key, const std::string& fallback, const std::vector<std::string>& choices) {
    used_.insert(key);
    if (!has(key)) return fallback;
    const YAML::Node v = node_[key];
    const std::string value = v.IsScalar() ? v.Scalar() : std::string();
    for (const auto& c : choices)
      if (c == value) return value;
    std::string list;
    for (const auto& c : choices) list += (list.empty() ? "" : ", ") + c;
    fail_(v, what_ + ": '" + key + "' must be one of " + list);
    return fallback;
  }
  YAML::Node node(const std::string& key) {
    used_.insert(key);
    return has(key) ? node_[key] : YAML::Node();
  }
  void reject_unknown() const {
    if (!node_.IsMap()) return;
    for (const auto& kv : node_) {
      if (!kv.first.IsScalar()) fail_(kv.first, what_ + ": an option name must be a plain name");
      const std::string key = kv.first.Scalar();
      if (!used_.count(key)) {
        std::string list;
        for (const auto& u : used_) list += (list.empty() ? "" : ", ") + u;
        fail_(kv.first, what_ + ": unknown option '" + key + "'" + (list.empty() ? " (it takes none)" : "; known: " + list));
      }
    }
  }

 private:
  YAML::Node node_;
  std::string what_;
  const ConfigFail& fail_;
  std::set<std::string> used_;
};

}  // namespace

nn::Shape parse_shape(const YAML::Node& node, const ConfigFail& fail) {
  if (!node.IsSequence() || node.size() == 0) fail(node, "a shape is a list of positive sizes, e.g. [28, 28, 1]");
  nn::Shape shape;
  for (const auto& d : node) {
    long long v = 0;
    try {
      v = d.as<long long>();
    } catch (const YAML::Exception&) {
      fail(d, "a shape is a list of positive sizes, e.g. [28, 28, 1]");
    }
    if (v <= 0) fail(d, "shape sizes must be positive");
    shape.push_back(static_cast<std::size_t>(v));
  }
  return shape;
}

NetworkSpec build_network(const YAML::Node& layers, const nn::Shape& input_shape, const ConfigFail& fail) {
  if (!layers.IsSequence() || layers.size() == 0) fail(layers, "'layers' must be a non-empty list");
  NetworkSpec spec;
  spec.network = std::make_unique<nn::Sequential>(input_shape);
  nn::Shape shape = input_shape;
  for (std::size_t i = 0; i < layers.size(); ++i) {
    const YAML::Node entry = layers[i];
    std::string type;
    YAML::Node options;
    if (entry.IsScalar()) {
      type = entry.Scalar();
    } else if (entry.IsMap() && entry.size() == 1) {
      if (!entry.begin()->first.IsScalar()) fail(entry, "layer " + std::to_string(i) + ": a layer type must be a plain name");
      type = entry.begin()->first.Scalar();
      options = entry.begin()->second;
    } else {
      fail(entry, "layer " + std::to_string(i) + ": write a layer as {type: {options}} or as a bare type name");
    }
    const std::string what = "layer " + std::to_string(i) + " (" + type + ")";
    if (spec.ends_with_softmax) fail(entry, what + ": softmax must be the last layer");
    Options o(options, what, fail);
    std::unique_ptr<nn::Layer> layer;
    try {
      if (type == "conv2d") {
        const auto filters = static_cast<std::size_t>(o.integer("filters", std::nullopt, 1));
        const auto kernel = static_cast<std::size_t>(o.integer("kernel", std::nullopt, 1));
        const auto stride = static_cast<std::size_t>(o.integer("stride", 1, 1));
        const std::string padding = o.choice("padding", "valid", {"valid", "same"});
        const std::string algorithm = o.choice("algorithm", "auto", {"auto", "im2col", "winograd"});
        o.reject_unknown();
        layer = std::make_unique<nn::Conv2D>(shape, filters, kernel, stride,
                                             padding == "same" ? nn::Padding::Same : nn::Padding::Valid,
                                             algorithm == "winograd" ? nn::ConvAlgorithm::Winograd
                                             : algorithm == "im2col" ? nn::ConvAlgorithm::Im2col
                                                                     : nn::ConvAlgorithm::Auto);
      } else if (type == "max_pool2d") {
        const auto pool = o.integer("pool", 2, 1);
        const auto stride = o.integer("stride", pool, 1);
        o.reject_unknown();
        layer = std::make_unique<nn::MaxPool2D>(shape, static_cast<std::size_t>(pool), static_cast<std::size_t>(stride));
      } else if (type == "dense") {
        const auto units = o.integer("units", std::nullopt, 1);
        o.reject_unknown();
        layer = std::make_unique<nn::Dense>(shape, static_cast<std::size_t>(units));
      } else if (type == "relu") {
        o.reject_unknown();
        layer = std::make_unique<nn::ReLU>(shape);
      } else if (type == "flatten") {
        o.reject_unknown();
        layer = std::make_unique<nn::Flatten>(shape);
      } else if (type == "dropout") {
        const double rate = o.number("rate", -1, 0, 0.99);
        if (!o.has("rate")) fail(entry, what + ": missing 'rate'");
        o.reject_unknown();
        layer = std::make_unique<nn::Dropout>(shape, rate);
      } else if (type == "softmax") {
        o.reject_unknown();
        if (shape.size() != 1) fail(entry, what + ": softmax needs a flat input, got " + nn::shape_string(shape));
        spec.ends_with_softmax = true;
        continue;
      } else {
        fail(entry, "layer " + std::to_string(i) + ": unknown layer type '" + type +
                        "'; known: conv2d, max_pool2d, dense, relu, flatten, dropout, softmax");
      }
    } catch (const std::invalid_argument& e) {
      fail(entry, what + ": " + e.what());
    }
    shape = layer->output_shape();
    spec.network->add(std::move(layer));
  }
  if (spec.network->output_shape().size() != 1)
    fail(layers, "the last layer's output must be flat (classes,), got " + nn::shape_string(spec.network->output_shape()) +
                     "; add flatten and dense layers");
  return spec;
}

TrainingSpec build_training(const YAML::Node& optimizer, int epochs, const ConfigFail& fail) {
  TrainingSpec spec;
  Options o(optimizer, "optimizer", fail);
  const std::string type = o.choice("type", "sgd", {"sgd", "adam"});
  spec.learning_rate = o.number("learning_rate", type == "sgd" ? 0.01 : 0.001, 0, 10);
  const double weight_decay = o.number("weight_decay", 0, 0, 1);
  if (type == "sgd") {
    nn::SgdOptions s;
    s.momentum = o.number("momentum", 0, 0, 0.9999);
    s.nesterov = o.boolean("nesterov", false);
    s.weight_decay = weight_decay;
    if (s.nesterov && s.momentum == 0) fail(optimizer, "optimizer: nesterov needs a momentum > 0");
    spec.optimizer = std::make_unique<nn::Sgd>(s);
    char text[128];
    std::snprintf(text, sizeof text, "sgd(learning_rate=%g, momentum=%g%s%s)", spec.learning_rate, s.momentum,
                  s.nesterov ? ", nesterov" : "", s.weight_decay > 0 ? ", weight_decay" : "");
    spec.description = text;
  } else {
    nn::AdamOptions a;
    a.beta1 = o.number("beta1", 0.9, 0, 0.99999);
    a.beta2 = o.number("beta2", 0.999, 0, 0.9999999);
    a.epsilon = o.number("epsilon", 1e-7, 0, 1);
    a.weight_decay = weight_decay;
    spec.optimizer = std::make_unique<nn::Adam>(a);
    char text[96];
    std::snprintf(text, sizeof text, "adam(learning_rate=%g)", spec.learning_rate);
    spec.description = text;
  }
  const YAML::Node schedule = o.node("schedule");
  o.reject_unknown();
  spec.schedule.total_epochs = epochs;
  if (schedule.IsDefined() && !schedule.IsNull()) {
    Options s(schedule, "schedule", fail);
    const std::string kind = s.choice("type", "constant", {"constant", "step", "exponential", "cosine"});
    if (kind == "step") {
      spec.schedule.kind = nn::Schedule::Kind::Step;
      spec.schedule.step_epochs = static_cast<int>(s.integer("step_epochs", 10, 1));
      spec.schedule.gamma = s.number("gamma", 0.1, 0, 1);
    } else if (kind == "exponential") {
      spec.schedule.kind = nn::Schedule::Kind::Exponential;
      spec.schedule.gamma = s.number("gamma", 0.9, 0, 1);
    } else if (kind == "cosine") {
      spec.schedule.kind = nn::Schedule::Kind::Cosine;
      spec.schedule.min_rate = s.number("min_learning_rate", 0, 0, 10);
    }
    s.reject_unknown();
    spec.description += " schedule=" + kind;
  }
  return spec;
}

}  // namespace stages
