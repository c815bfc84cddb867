#pragma once
// Tensors of the network: row-major float32, batch first, image tensors in NHWC order (as Keras).
#include <cstddef>
#include <string>
#include <vector>

#include <xtensor/xarray.hpp>

namespace nn {

using Tensor = xt::xarray<float>;
using Shape = std::vector<std::size_t>;  // per-sample shape, without the batch dimension

std::string shape_string(const Shape& shape);
std::size_t shape_size(const Shape& shape);
// Shape of a batch of `n` samples of `sample` shape.
Shape batch_shape(std::size_t n, const Shape& sample);
// Resizes only when the shape differs, so buffers are reused from batch to batch.
void ensure_shape(Tensor& t, const Shape& shape);

}  // namespace nn
