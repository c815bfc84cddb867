#include "model/nn/pool_before_relu.hpp"

#include "model/nn/layers/max_pool2d.hpp"
#include "model/nn/layers/relu.hpp"
#include "model/nn/parallel.hpp"

namespace nn {

namespace {
constexpr std::size_t kValuesPerTask = 16384;
}

bool pools_before_relu(const Layer& first, const Layer& second) {
  return dynamic_cast<const ReLU*>(&first) != nullptr && dynamic_cast<const MaxPool2D*>(&second) != nullptr;
}

void pool_then_relu(Layer& pool, const Tensor& x, Tensor& y, const PassContext& context) {
  auto& max_pool = static_cast<MaxPool2D&>(pool);
  if (max_pool.forward_then_relu(x, y, context)) return;
  max_pool.forward(x, y, context);
  relu_in_place(y);
}

void pool_then_relu_backward(Layer& pool, const Tensor& x, const Tensor& y, const Tensor& dy, Tensor& relu_dx,
                             Tensor& dx, bool want_dx) {
  auto& max_pool = static_cast<MaxPool2D&>(pool);
  if (max_pool.relu_fused()) return max_pool.backward(x, y, dy, dx, want_dx);
  relu_gradient(y, dy, relu_dx);
  max_pool.backward(x, y, relu_dx, dx, want_dx);
}

void relu_in_place(Tensor& t) {
  for_each_slice(t.size(), kValuesPerTask, [&](std::size_t, std::size_t first, std::size_t last) {
    relu_values(t.data() + first, t.data() + first, last - first);
  });
}

void relu_gradient(const Tensor& y, const Tensor& dy, Tensor& dx) {
  ensure_shape(dx, Shape(y.shape().begin(), y.shape().end()));
  for_each_slice(y.size(), kValuesPerTask, [&](std::size_t, std::size_t first, std::size_t last) {
    relu_gradient_values(y.data() + first, dy.data() + first, dx.data() + first, last - first);
  });
}

}  // namespace nn
