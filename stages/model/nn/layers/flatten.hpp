#pragma once
#include "model/nn/layer.hpp"

namespace nn {

// (H, W, C) → (H*W*C,) in NHWC order, as Keras' Flatten.
class Flatten : public Layer {
 public:
  explicit Flatten(Shape input_shape) : Layer(std::move(input_shape)) { output_shape_ = {shape_size(input_shape_)}; }
  std::string type() const override { return "flatten"; }
  bool predicts_by_slices() const override { return true; }
  bool predicts_concurrently() const override { return true; }
  void forward(const Tensor& x, Tensor& y, const PassContext& context) override;
  void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor& dx, bool want_dx) override;
};

}  // namespace nn
