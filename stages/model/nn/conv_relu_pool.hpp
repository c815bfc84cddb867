#pragma once
// Convolution, ReLU and 2x2 max pooling as one pass per task (Caffe's and oneDNN's fused post-ops, here between
// layers that stay as configured): each task of the convolution pools, with ReLU (pool_before_relu.hpp), the
// samples it has just convolved, and in the backward pass routes their gradient back through the pooling just
// before it reads it. The convolution's output and its gradient (LeNet's conv1: 8 MB each at batch 128) are then
// read back from the core's cache, not from memory. Same results bit for bit: only independent per-sample work
// moves.
#include "model/nn/layer.hpp"

namespace nn {

// Whether `conv` is a conv2d followed by the pair `relu`, `pool` that Sequential runs as pooling then ReLU.
bool fuses_conv_relu_pool(const Layer& conv, const Layer& relu, const Layer& pool);
// conv_y = conv(x), y = pool(relu(conv_y)), fused. False, with nothing done, where the pooling cannot run by
// samples: the caller then runs the layers one by one.
bool conv_relu_pool_forward(Layer& conv, Layer& pool, const Tensor& x, Tensor& conv_y, Tensor& y,
                            const PassContext& context);
// From dy = dL/dy: the convolution's gradients, and dx = dL/dx when want_dx. dL/dconv_y never exists whole: each
// task computes its samples' in a buffer of its thread's. False, with nothing done, where the last forward pass did
// not fuse ReLU into the pooling: the caller runs the layers one by one.
bool conv_relu_pool_backward(Layer& conv, Layer& pool, const Tensor& x, const Tensor& conv_y, const Tensor& dy,
                             Tensor& dx, bool want_dx);

}  // namespace nn
