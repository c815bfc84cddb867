#include "model/nn/dense.hpp"

#include <cstring>
#include <stdexcept>

#include "model/nn/gemm.hpp"
#include "model/nn/parallel.hpp"

namespace nn {

namespace {
// Tasks split output columns, never the batch: each task reads its slice of the kernel once for all samples
// (a split by rows would stream the whole kernel per task), and owns its outputs, so nothing is reduced.
constexpr std::size_t kColumnsPerTask = 64;
}  // namespace

Dense::Dense(Shape input_shape, std::size_t units) : Layer(std::move(input_shape)), units_(units) {
  if (input_shape_.size() != 1)
    throw std::invalid_argument("dense needs a flat input, got " + shape_string(input_shape_) +
                                "; add {flatten: {}} before it");
  if (units == 0) throw std::invalid_argument("dense units must be positive");
  inputs_ = input_shape_[0];
  output_shape_ = {units_};
  kernel_ = Tensor::from_shape({inputs_, units_});
  kernel_.fill(0);
  bias_ = Tensor::from_shape({units_});
  bias_.fill(0);
  kernel_grad_ = kernel_;
  bias_grad_ = bias_;
}

void Dense::initialize(std::mt19937_64& rng) {
  glorot_uniform(kernel_, inputs_, units_, rng);
  bias_.fill(0);
}

void Dense::forward(const Tensor& x, Tensor& y, const PassContext&) {
  const std::size_t batch = x.shape()[0];
  ensure_shape(y, {batch, units_});
  for (std::size_t r = 0; r < batch; ++r) std::memcpy(y.data() + r * units_, bias_.data(), units_ * sizeof(float));
  for_each_slice(units_, kColumnsPerTask, [&](std::size_t, std::size_t first, std::size_t last) {
    gemm(false, false, batch, last - first, inputs_, 1.0f, x.data(), inputs_, kernel_.data() + first, units_, 1.0f,
         y.data() + first, units_);
  });
}

void Dense::backward(const Tensor& x, const Tensor&, const Tensor& dy, Tensor& dx, bool want_dx) {
  const std::size_t batch = x.shape()[0];
  for_each_slice(units_, kColumnsPerTask, [&](std::size_t, std::size_t first, std::size_t last) {
    gemm(true, false, inputs_, last - first, batch, 1.0f, x.data(), inputs_, dy.data() + first, units_, 0.0f,
         kernel_grad_.data() + first, units_);
    for (std::size_t u = first; u < last; ++u) {
      float sum = 0;
      for (std::size_t n = 0; n < batch; ++n) sum += dy.data()[n * units_ + u];
      bias_grad_.data()[u] = sum;
    }
  });
  if (!want_dx) return;
  ensure_shape(dx, {batch, inputs_});
  // dx = dy · kernelᵀ, split by columns of dx (= rows of the kernel).
  for_each_slice(inputs_, 4 * kColumnsPerTask, [&](std::size_t, std::size_t first, std::size_t last) {
    gemm(false, true, batch, last - first, units_, 1.0f, dy.data(), units_, kernel_.data() + first * units_, units_, 0.0f,
         dx.data() + first, inputs_);
  });
}

}  // namespace nn
