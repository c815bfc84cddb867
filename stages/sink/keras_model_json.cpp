#include "sink/keras_model_json.hpp"

#include <yaml-cpp/yaml.h>

#include <nlohmann/json.hpp>

#include "pipeline/version.hpp"

namespace stages {
namespace {

using Json = nlohmann::ordered_json;

// An option's YAML text as JSON: numbers, booleans and lists keep their type.
Json option_value(const std::string& text) {
  const YAML::Node node = YAML::Load(text);
  if (node.IsSequence()) {
    Json list = Json::array();
    for (const auto& item : node) list.push_back(option_value(YAML::Dump(item)));
    return list;
  }
  if (!node.IsScalar()) return text;
  long long i = 0;
  double d = 0;
  bool b = false;
  if (YAML::convert<long long>::decode(node, i)) return i;
  if (YAML::convert<double>::decode(node, d)) return d;
  if (YAML::convert<bool>::decode(node, b)) return b;
  return node.Scalar();
}

Json option(const LayerRecord& layer, const std::string& name, Json otherwise = nullptr) {
  const std::string text = layer.option(name);
  return text.empty() ? otherwise : option_value(text);
}

Json pair_of(const Json& v) { return Json::array({v, v}); }

Json initializer(const char* class_name, Json config = Json::object()) {
  return Json{{"class_name", class_name}, {"config", std::move(config)}};
}

// Keras' class and config for one of our layers; the common keys (name, trainable, dtype) are added by the caller.
std::pair<std::string, Json> keras_layer(const LayerRecord& layer) {
  const std::string& t = layer.type;
  if (t == "conv2d")
    return {"Conv2D", {{"filters", option(layer, "filters")}, {"kernel_size", pair_of(option(layer, "kernel"))},
                       {"strides", pair_of(option(layer, "stride", 1))}, {"padding", option(layer, "padding", "valid")},
                       {"data_format", "channels_last"}, {"dilation_rate", pair_of(1)}, {"groups", 1},
                       {"activation", "linear"}, {"use_bias", true},
                       {"kernel_initializer", initializer("GlorotUniform", {{"seed", nullptr}})},
                       {"bias_initializer", initializer("Zeros")}}};
  if (t == "dense")
    return {"Dense", {{"units", option(layer, "units")}, {"activation", "linear"}, {"use_bias", true},
                      {"kernel_initializer", initializer("GlorotUniform", {{"seed", nullptr}})},
                      {"bias_initializer", initializer("Zeros")}}};
  if (t == "max_pool2d" || t == "avg_pool2d") {
    const Json pool = option(layer, "pool", 2), stride = option(layer, "stride", 0);
    return {t == "max_pool2d" ? "MaxPooling2D" : "AveragePooling2D",
            {{"pool_size", pair_of(pool)}, {"padding", "valid"}, {"strides", pair_of(stride == 0 ? pool : stride)},
             {"data_format", "channels_last"}}};
  }
  if (t == "relu") return {"ReLU", {{"max_value", nullptr}, {"negative_slope", 0.0}, {"threshold", 0.0}}};
  if (t == "flatten") return {"Flatten", {{"data_format", "channels_last"}}};
  if (t == "dropout") return {"Dropout", {{"rate", option(layer, "rate")}, {"noise_shape", nullptr}, {"seed", nullptr}}};
  if (t == "softmax") return {"Softmax", {{"axis", -1}}};
  if (t == "batch_norm")
    return {"BatchNormalization", {{"axis", -1}, {"momentum", option(layer, "momentum")},
                                   {"epsilon", option(layer, "epsilon")}, {"center", true}, {"scale", true}}};
  Json config = Json::object();
  for (const auto& [key, text] : layer.options) config[key] = option_value(text);
  return {t, config};
}

}  // namespace

std::string keras_model_json(const ModelRecord& model) {
  Json batch_input_shape = Json::array({nullptr});
  for (std::size_t d : model.input_shape()) batch_input_shape.push_back(d);
  Json layers = Json::array();
  layers.push_back({{"class_name", "InputLayer"},
                    {"config", {{"batch_input_shape", batch_input_shape}, {"dtype", "float32"}, {"sparse", false},
                                {"ragged", false}, {"name", "input"}}}});
  for (const LayerRecord& layer : model.layers()) {
    auto [class_name, specific] = keras_layer(layer);
    Json config = {{"name", layer.name}, {"trainable", true}, {"dtype", "float32"}};
    for (auto& [key, value] : specific.items()) config[key] = value;
    layers.push_back({{"class_name", class_name}, {"config", std::move(config)}});
  }
  const Json root = {{"class_name", "Sequential"},
                     {"config", {{"name", "sequential"}, {"layers", std::move(layers)}}},
                     {"keras_version", "2.11.0"},  // the Keras serialization format this follows
                     {"backend", "pipeline " + pipeline::version()}};
  return root.dump();
}

}  // namespace stages
