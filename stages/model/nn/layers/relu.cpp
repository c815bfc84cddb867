#include "model/nn/layers/relu.hpp"

#include <xtensor/xoperation.hpp>

#include "model/nn/layer_registry.hpp"
#include "model/nn/parallel.hpp"

namespace nn {

void relu_values(const float* x, float* y, std::size_t n) {
  xt::noalias(flat(y, n)) = xt::maximum(flat(x, n), 0.0f);
}

void relu_gradient_values(const float* values, const float* dy, float* dx, std::size_t n) {
  xt::noalias(flat(dx, n)) = xt::where(flat(values, n) > 0.0f, flat(dy, n), 0.0f);
}

void ReLU::forward(const Tensor& x, Tensor& y, const PassContext&) {
  ensure_shape(y, Shape(x.shape().begin(), x.shape().end()));
  const std::size_t per_sample = shape_size(input_shape_);
  for_each_slice(x.shape()[0], kSamplesPerTask, [&](std::size_t, std::size_t first, std::size_t last) {
    relu_values(x.data() + first * per_sample, y.data() + first * per_sample, (last - first) * per_sample);
  });
}

void ReLU::backward(const Tensor& x, const Tensor&, const Tensor& dy, Tensor& dx, bool want_dx) {
  if (!want_dx) return;
  ensure_shape(dx, Shape(x.shape().begin(), x.shape().end()));
  const std::size_t per_sample = shape_size(input_shape_);
  for_each_slice(x.shape()[0], kSamplesPerTask, [&](std::size_t, std::size_t first, std::size_t last) {
    const std::size_t at = first * per_sample;
    relu_gradient_values(x.data() + at, dy.data() + at, dx.data() + at, (last - first) * per_sample);
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
