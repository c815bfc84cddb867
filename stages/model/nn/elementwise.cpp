#include "model/nn/elementwise.hpp"

#include <stdexcept>

#include <xtensor/xoperation.hpp>

#include "model/nn/parallel.hpp"

namespace nn {

void ReLU::forward(const Tensor& x, Tensor& y, const PassContext&) {
  ensure_shape(y, Shape(x.shape().begin(), x.shape().end()));
  const std::size_t per_sample = shape_size(input_shape_);
  for_each_slice(x.shape()[0], kSamplesPerTask, [&](std::size_t, std::size_t first, std::size_t last) {
    const std::size_t n = (last - first) * per_sample;
    xt::noalias(flat(y.data() + first * per_sample, n)) = xt::maximum(flat(x.data() + first * per_sample, n), 0.0f);
  });
}

void ReLU::backward(const Tensor& x, const Tensor&, const Tensor& dy, Tensor& dx, bool want_dx) {
  if (!want_dx) return;
  ensure_shape(dx, Shape(x.shape().begin(), x.shape().end()));
  const std::size_t per_sample = shape_size(input_shape_);
  for_each_slice(x.shape()[0], kSamplesPerTask, [&](std::size_t, std::size_t first, std::size_t last) {
    const std::size_t n = (last - first) * per_sample, at = first * per_sample;
    xt::noalias(flat(dx.data() + at, n)) = xt::where(flat(x.data() + at, n) > 0.0f, flat(dy.data() + at, n), 0.0f);
  });
}

void Flatten::forward(const Tensor& x, Tensor& y, const PassContext&) {
  ensure_shape(y, batch_shape(x.shape()[0], output_shape_));
  xt::noalias(flat(y.data(), y.size())) = flat(x.data(), x.size());
}

void Flatten::backward(const Tensor& x, const Tensor&, const Tensor& dy, Tensor& dx, bool want_dx) {
  if (!want_dx) return;
  ensure_shape(dx, Shape(x.shape().begin(), x.shape().end()));
  xt::noalias(flat(dx.data(), dx.size())) = flat(dy.data(), dy.size());
}

Dropout::Dropout(Shape input_shape, double rate) : Layer(std::move(input_shape)), rate_(rate) {
  if (!(rate >= 0.0 && rate < 1.0)) throw std::invalid_argument("dropout rate must be in [0, 1)");
  output_shape_ = input_shape_;
}

void Dropout::forward(const Tensor& x, Tensor& y, const PassContext& context) {
  ensure_shape(y, Shape(x.shape().begin(), x.shape().end()));
  if (!context.training || rate_ == 0.0) {
    mask_.resize({0});
    xt::noalias(flat(y.data(), y.size())) = flat(x.data(), x.size());
    return;
  }
  mask_.resize({x.size()});
  // One generator per batch, drawn in order: the mask depends only on the batch's seed.
  std::mt19937_64 rng(context.seed);
  const float keep = static_cast<float>(1.0 / (1.0 - rate_));
  const auto threshold = static_cast<std::uint64_t>(rate_ * 18446744073709551616.0);
  for (auto& m : mask_) m = rng() < threshold ? 0.0f : keep;
  xt::noalias(flat(y.data(), y.size())) = flat(x.data(), x.size()) * mask_;
}

void Dropout::backward(const Tensor& x, const Tensor&, const Tensor& dy, Tensor& dx, bool want_dx) {
  if (!want_dx) return;
  ensure_shape(dx, Shape(x.shape().begin(), x.shape().end()));
  if (mask_.size() == 0)
    xt::noalias(flat(dx.data(), dx.size())) = flat(dy.data(), dy.size());
  else
    xt::noalias(flat(dx.data(), dx.size())) = flat(dy.data(), dy.size()) * mask_;
}

}  // namespace nn
