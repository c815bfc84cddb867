#pragma once
#include "model/nn/layer.hpp"

namespace nn {

// The element-wise maths, shared with pool_before_relu: y = max(x, 0) (y may be x), and dx = dy where
// `values` > 0 (ReLU's input or output: both are positive at the same places).
void relu_values(const float* x, float* y, std::size_t n);
void relu_gradient_values(const float* values, const float* dy, float* dx, std::size_t n);

// max(x, 0), element by element.
class ReLU : public Layer {
 public:
  explicit ReLU(Shape input_shape) : Layer(std::move(input_shape)) { output_shape_ = input_shape_; }
  std::string type() const override { return "relu"; }
  bool predicts_by_slices() const override { return true; }
  bool predicts_concurrently() const override { return true; }
  void forward(const Tensor& x, Tensor& y, const PassContext& context) override;
  void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor& dx, bool want_dx) override;
};

}  // namespace nn
