#include "model/nn/layers/relu.hpp"

#include <xtensor/xoperation.hpp>

#include "model/nn/layer_registry.hpp"
#include "model/nn/parallel.hpp"

namespace nn {

void ReLU::forward(const Tensor& x, Tensor& y, const PassContext&) {
  ensure_shape(y, Shape(x.shape().begin(), x.shape().end()));
  const std::size_t per_sample = shape_size(input_shape_);
  for_each_slice(x.shape()[0], kSamplesPerTask, [&](std::size_t, std::size_t first, std::size_t last) {
    const std::size_t n = (last - first) * per_sample;
    xt::noalias(flat(y.data() + first * per_sample, n)) = xt::maximum(flat(x.data() + first * per_sample, n), 0.0f);
  });
}

void ReLU::backward(const Tensor& x, const Tensor&, const Tensor& dy, Tensor& dx, bool want_dx) {
  if (!want_dx) return;
  ensure_shape(dx, Shape(x.shape().begin(), x.shape().end()));
  const std::size_t per_sample = shape_size(input_shape_);
  for_each_slice(x.shape()[0], kSamplesPerTask, [&](std::size_t, std::size_t first, std::size_t last) {
    const std::size_t n = (last - first) * per_sample, at = first * per_sample;
    xt::noalias(flat(dx.data() + at, n)) = xt::where(flat(x.data() + at, n) > 0.0f, flat(dy.data() + at, n), 0.0f);
  });
}

namespace {

LayerSpec relu_spec() {
  LayerSpec spec;
  spec.type = "relu";
  spec.summary = "max(x, 0), element by element";
  spec.create = [](const Shape& input, const pipeline::Params&) { return std::make_unique<ReLU>(input); };
  return spec;
}
}  // namespace

}  // namespace nn

PIPELINE_REGISTER_LAYER(nn::relu_spec())
