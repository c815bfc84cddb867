#include "model/nn/layers/pool_geometry.hpp"

#include <stdexcept>

namespace nn {

PoolGeometry pool_geometry(const std::string& layer, const Shape& input, std::size_t pool, std::size_t stride) {
  if (input.size() != 3)
    throw std::invalid_argument(layer + " needs an input of shape (height, width, channels), got " + shape_string(input));
  if (pool == 0 || stride == 0) throw std::invalid_argument(layer + " pool and stride must be positive");
  if (pool > input[0] || pool > input[1])
    throw std::invalid_argument(layer + " pool " + std::to_string(pool) + " is larger than its input " +
                                shape_string(input));
  return {input[0], input[1], input[2], pool, stride, (input[0] - pool) / stride + 1, (input[1] - pool) / stride + 1};
}

}  // namespace nn
