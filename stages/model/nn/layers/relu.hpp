#pragma once
#include "model/nn/layer.hpp"

namespace nn {

// max(x, 0), element by element.
class ReLU : public Layer {
 public:
  explicit ReLU(Shape input_shape) : Layer(std::move(input_shape)) { output_shape_ = input_shape_; }
  std::string type() const override { return "relu"; }
  void forward(const Tensor& x, Tensor& y, const PassContext& context) override;
  void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor& dx, bool want_dx) override;
};

}  // namespace nn
