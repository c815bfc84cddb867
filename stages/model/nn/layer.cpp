#include "model/nn/layer.hpp"

#include <cmath>

namespace nn {

void glorot_uniform(Tensor& t, std::size_t fan_in, std::size_t fan_out, std::mt19937_64& rng) {
  const double limit = std::sqrt(6.0 / static_cast<double>(fan_in + fan_out));
  for (auto& v : t) {
    // 53 random bits → [0, 1): the same values from every standard library.
    const double u = static_cast<double>(rng() >> 11) * (1.0 / 9007199254740992.0);
    v = static_cast<float>((2.0 * u - 1.0) * limit);
  }
}

}  // namespace nn
