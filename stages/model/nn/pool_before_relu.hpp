#pragma once
// ReLU then 2-D max pooling, run as pooling then ReLU: ReLU is monotone, so max(relu(x)) = relu(max(x)) bit for
// bit (a window's winner is the same wherever the maximum is positive, and its gradient is zero wherever it is
// not), and ReLU then passes over a quarter of the values, forward and backward. The layers stay as configured
// (summary, checkpoints, ONNX); Sequential only runs the pair in this order, in one pass where the pooling is
// the 2x2/2 kernel (1.8% of a LeNet training step was ReLU's own passes).
#include "model/nn/layer.hpp"

namespace nn {

// Whether `first` is ReLU and `second` the built-in max_pool2d, whose backward pass reads only the winners it
// recorded in its forward pass (not its input and output, which differ in the swapped order).
bool pools_before_relu(const Layer& first, const Layer& second);
// The pair's forward pass, pooling then ReLU, into y: in one pass where the pooling layer fuses them.
void pool_then_relu(Layer& pool, const Tensor& x, Tensor& y, const PassContext& context);
// The pair's backward pass: dx = dL/d(ReLU's input) from dy = dL/dy, y the pair's output; `relu_dx` holds ReLU's
// gradient on the pooled values where the pooling layer did not fuse it.
void pool_then_relu_backward(Layer& pool, const Tensor& x, const Tensor& y, const Tensor& dy, Tensor& relu_dx,
                             Tensor& dx, bool want_dx);
// max(t, 0), in place, on any shape.
void relu_in_place(Tensor& t);
// dx = dy where y > 0, else 0 (y: ReLU's output).
void relu_gradient(const Tensor& y, const Tensor& dy, Tensor& dx);

}  // namespace nn
