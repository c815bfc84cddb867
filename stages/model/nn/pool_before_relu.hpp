#pragma once
// ReLU then 2-D max pooling, run as pooling then ReLU: ReLU is monotone, so max(relu(x)) = relu(max(x)) bit for
// bit (a window's winner is the same wherever the maximum is positive, and its gradient is zero wherever it is
// not), and ReLU then passes over a quarter of the values, forward and backward. The layers stay as configured
// (summary, checkpoints, ONNX); Sequential only runs the pair in this order.
#include "model/nn/layer.hpp"

namespace nn {

// Whether `first` is ReLU and `second` the built-in max_pool2d, whose backward pass reads only the winners it
// recorded in its forward pass (not its input and output, which differ in the swapped order).
bool pools_before_relu(const Layer& first, const Layer& second);
// max(t, 0), in place, on any shape.
void relu_in_place(Tensor& t);
// dx = dy where y > 0, else 0 (y: ReLU's output).
void relu_gradient(const Tensor& y, const Tensor& dy, Tensor& dx);

}  // namespace nn
