#pragma once
// Layer types by name, as stages are: `{dense: {units: 500}}` in a model's `layers` creates the layer registered
// as dense, with its options checked against the parameters it declares (types, defaults, ranges, docs). A new
// layer is one file with one PIPELINE_REGISTER_LAYER line, and its test.
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "model/nn/layer.hpp"
#include "pipeline/params.hpp"
#include "pipeline/spec_registry.hpp"

namespace nn {

struct LayerSpec {
  std::string type;
  std::string summary;
  std::vector<pipeline::ParamSpec> params;
  // The layer for one sample's input shape; std::invalid_argument for a shape or option it cannot take (the
  // message is shown with the layer's place in the config).
  std::function<std::unique_ptr<Layer>(const Shape& input_shape, const pipeline::Params& options)> create;
  // The softmax that ends a classifier: not a layer of its own, it is fused with the cross-entropy loss.
  bool fused_with_loss = false;
};

using LayerRegistry = pipeline::SpecRegistry<LayerSpec>;

}  // namespace nn

#define PIPELINE_REGISTER_LAYER(spec_expression) PIPELINE_REGISTER_SPEC(::nn::LayerRegistry, spec_expression)
