#pragma once
// Tensors of the network: row-major float32, batch first, image tensors in NHWC order (as Keras).
#include <array>
#include <cstddef>
#include <string>
#include <vector>

#include <xtensor/xadapt.hpp>
#include <xtensor/xarray.hpp>
#include <xtensor/xnoalias.hpp>

namespace nn {

using Tensor = xt::xarray<float>;
using Shape = std::vector<std::size_t>;  // per-sample shape, without the batch dimension

std::string shape_string(const Shape& shape);
std::size_t shape_size(const Shape& shape);
// Shape of a batch of `n` samples of `sample` shape.
Shape batch_shape(std::size_t n, const Shape& sample);
// Resizes only when the shape differs, so buffers are reused from batch to batch.
void ensure_shape(Tensor& t, const Shape& shape);

// xtensor views of floats that live elsewhere (a slice of a batch, a scratch buffer), without a copy: for xtensor
// expressions and xtensor-blas, which reads row-major adaptors in place. Assign to them through xt::noalias: a plain
// `=` evaluates into a temporary first (measured: ReLU 6-11% slower).
template <class T>
auto flat(T* data, std::size_t n) {
  return xt::adapt(data, n, xt::no_ownership(), std::array<std::size_t, 1>{n});
}
// `rows` copies of `row` (a bias before a GEMM adds into it). Row copies: xtensor's broadcast assignment steps
// element by element (3 µs of dense2's 16 µs forward pass at batch 128).
void repeat_rows(const float* row, std::size_t width, std::size_t rows, float* out);

template <class T>
auto matrix(T* data, std::size_t rows, std::size_t cols) {
  return xt::adapt(data, rows * cols, xt::no_ownership(), std::array<std::size_t, 2>{rows, cols});
}

}  // namespace nn
