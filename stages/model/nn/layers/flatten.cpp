#include "model/nn/layers/flatten.hpp"

#include "model/nn/layer_registry.hpp"

namespace nn {

void Flatten::forward(const Tensor& x, Tensor& y, const PassContext&) {
  ensure_shape(y, batch_shape(x.shape()[0], output_shape_));
  xt::noalias(flat(y.data(), y.size())) = flat(x.data(), x.size());
}

void Flatten::backward(const Tensor& x, const Tensor&, const Tensor& dy, Tensor& dx, bool want_dx) {
  if (!want_dx) return;
  ensure_shape(dx, Shape(x.shape().begin(), x.shape().end()));
  xt::noalias(flat(dx.data(), dx.size())) = flat(dy.data(), dy.size());
}

namespace {

LayerSpec flatten_spec() {
  LayerSpec spec;
  spec.type = "flatten";
  spec.summary = "(H, W, C) to (H·W·C,) in NHWC order, as Keras' Flatten";
  spec.create = [](const Shape& input, const pipeline::Params&) { return std::make_unique<Flatten>(input); };
  return spec;
}
}  // namespace

}  // namespace nn

PIPELINE_REGISTER_LAYER(nn::flatten_spec())
