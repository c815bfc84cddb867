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
