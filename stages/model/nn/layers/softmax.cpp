// softmax as a model's last layer: fused with the categorical cross-entropy loss (softmax_cross_entropy.hpp), so
// it is a registry entry without a layer object of its own.
#include "model/nn/layer_registry.hpp"

namespace nn {
namespace {

LayerSpec softmax_spec() {
  LayerSpec spec;
  spec.type = "softmax";
  spec.summary = "the last layer of a classifier: softmax fused with categorical cross-entropy (needs a flat input)";
  spec.fused_with_loss = true;
  return spec;
}

}  // namespace
}  // namespace nn

PIPELINE_REGISTER_LAYER(nn::softmax_spec())
