#include "model/nn/conv_relu_pool.hpp"

#include "model/nn/layers/conv2d.hpp"
#include "model/nn/layers/max_pool2d.hpp"
#include "model/nn/pool_before_relu.hpp"

namespace nn {

bool fuses_conv_relu_pool(const Layer& conv, const Layer& relu, const Layer& pool) {
  return dynamic_cast<const Conv2D*>(&conv) != nullptr && pools_before_relu(relu, pool);
}

bool conv_relu_pool_forward(Layer& conv, Layer& pool, const Tensor& x, Tensor& conv_y, Tensor& y,
                            const PassContext& context) {
  auto& max_pool = static_cast<MaxPool2D&>(pool);
  if (!max_pool.start_forward_then_relu(x.shape()[0], context.training, y)) return false;
  static_cast<Conv2D&>(conv).forward_then(x, conv_y, [&](std::size_t first, std::size_t last) {
    max_pool.forward_samples(conv_y, y, first, last, context.training, true);
  });
  return true;
}

bool conv_relu_pool_backward(Layer& conv, Layer& pool, const Tensor& x, const Tensor& conv_y, const Tensor& dy,
                             Tensor& dx, bool want_dx) {
  auto& max_pool = static_cast<MaxPool2D&>(pool);
  if (!max_pool.relu_fused() || !max_pool.start_backward(conv_y)) return false;
  // conv_y stands in for dL/dconv_y, which the convolution then does not read.
  static_cast<Conv2D&>(conv).backward_from(x, conv_y, dx, want_dx, [&](std::size_t first, std::size_t last) {
    return max_pool.backward_samples_here(dy, first, last);
  });
  return true;
}

}  // namespace nn
