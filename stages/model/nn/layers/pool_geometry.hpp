#pragma once
// What max_pool2d and avg_pool2d share: the output size of 'valid' pool x pool windows over an (h, w, c) input, and
// their options.
#include <memory>
#include <string>

#include "model/nn/layer_registry.hpp"

namespace nn {

struct PoolGeometry {
  std::size_t in_h, in_w, channels, pool, stride, out_h, out_w;
  std::size_t in_size() const { return in_h * in_w * channels; }     // floats of one input image
  std::size_t out_size() const { return out_h * out_w * channels; }  // and of one output
};

// std::invalid_argument, naming `layer`, for an input it cannot pool.
PoolGeometry pool_geometry(const std::string& layer, const Shape& input, std::size_t pool, std::size_t stride);

// The spec of a pooling layer with options pool and stride (0 = pool); make(input, pool, stride) builds it.
template <class Make>
LayerSpec pool_spec(std::string type, std::string summary, Make make) {
  LayerSpec spec;
  spec.type = std::move(type);
  spec.summary = std::move(summary);
  spec.params = {pipeline::int_param("pool", 2, "window size").min(1),
                 pipeline::int_param("stride", 0, "step between windows (0 = pool)").min(0)};
  spec.create = [make](const Shape& input, const pipeline::Params& p) -> std::unique_ptr<Layer> {
    const auto pool = static_cast<std::size_t>(p.get_int("pool"));
    const auto stride = static_cast<std::size_t>(p.get_int("stride"));
    return make(input, pool, stride == 0 ? pool : stride);
  };
  return spec;
}

}  // namespace nn
