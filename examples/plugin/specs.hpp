#pragma once
// What this plugin adds: one stage and one layer, each defined in its own file.
#include "model/nn/layer_registry.hpp"
#include "pipeline/registry.hpp"

namespace examples {
pipeline::StageSpec gaussian_noise_spec();
nn::LayerSpec leaky_relu_spec();
}  // namespace examples
