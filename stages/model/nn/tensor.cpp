#include "model/nn/tensor.hpp"

#include <algorithm>

namespace nn {

std::string shape_string(const Shape& shape) {
  std::string out = "(";
  for (std::size_t i = 0; i < shape.size(); ++i) out += (i ? ", " : "") + std::to_string(shape[i]);
  return out + (shape.size() == 1 ? ",)" : ")");
}

std::size_t shape_size(const Shape& shape) {
  std::size_t n = 1;
  for (auto d : shape) n *= d;
  return n;
}

Shape batch_shape(std::size_t n, const Shape& sample) {
  Shape out{n};
  out.insert(out.end(), sample.begin(), sample.end());
  return out;
}

void repeat_rows(const float* row, std::size_t width, std::size_t rows, float* out) {
  for (std::size_t r = 0; r < rows; ++r) std::copy(row, row + width, out + r * width);
}

void ensure_shape(Tensor& t, const Shape& shape) {
  if (t.dimension() == shape.size() && std::equal(shape.begin(), shape.end(), t.shape().begin())) return;
  t.resize(shape);
}

}  // namespace nn
