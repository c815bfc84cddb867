#include "model/nn/layers/batch_norm.hpp"

#include <stdexcept>
#include <vector>

#include <xtensor/xmath.hpp>
#include <xtensor/xreducer.hpp>
#include <xtensor/xview.hpp>

#include "model/nn/layer_registry.hpp"
#include "model/nn/parallel.hpp"

namespace nn {

namespace {
// Σ over the batch of partial(first_row, rows), a per-channel sum over one slice of samples, added in slice order.
template <class Partial>
xt::xtensor<double, 1> sum_over_slices(std::size_t batch, std::size_t rows_per_sample, std::size_t channels,
                                       const Partial& partial) {
  std::vector<xt::xtensor<double, 1>> parts((batch + kSamplesPerTask - 1) / kSamplesPerTask);
  for_each_slice(batch, kSamplesPerTask, [&](std::size_t task, std::size_t first, std::size_t last) {
    parts[task] = partial(first * rows_per_sample, (last - first) * rows_per_sample);
  });
  xt::xtensor<double, 1> total = xt::zeros<double>({channels});
  for (const auto& part : parts) total += part;
  return total;
}
// Adds, per channel, Σ over `rows` rows of value(i) (i the flat index) to sums, in double. A plain loop the compiler
// vectorizes: xtensor's axis-0 reduction through a cast to double stepped value by value (bn1 forward 2.1 ms).
template <class Value>
void add_column_sums(std::size_t rows, std::size_t channels, const Value& value, double* sums) {
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t c = 0; c < channels; ++c) sums[c] += static_cast<double>(value(r * channels + c));
}
}  // namespace

BatchNorm::BatchNorm(Shape input_shape, double momentum, double epsilon)
    : Layer(std::move(input_shape)), momentum_(momentum), epsilon_(epsilon) {
  if (input_shape_.empty()) throw std::invalid_argument("batch_norm needs an input with a channel axis");
  channels_ = input_shape_.back();
  pixels_ = shape_size(input_shape_) / channels_;
  output_shape_ = input_shape_;
}

void BatchNorm::allocate() {
  if (gamma_.dimension() != 0) return;  // a default xarray is a 0-d scalar, not an empty tensor
  for (Tensor* t : {&gamma_, &beta_, &gamma_grad_, &beta_grad_, &moving_mean_, &moving_variance_})
    *t = Tensor::from_shape({channels_});
  gamma_.fill(1);
  beta_.fill(0);
  moving_mean_.fill(0);
  moving_variance_.fill(1);
}

void BatchNorm::initialize(std::mt19937_64&) {
  allocate();
  gamma_.fill(1);
  beta_.fill(0);
  moving_mean_.fill(0);
  moving_variance_.fill(1);
}

// Mean and biased variance per channel from one pass of Σx and Σx² in double (no cancellation to fear at float
// activations' range), summed over fixed slices in order.
void BatchNorm::batch_statistics(const Tensor& x) {
  const std::size_t batch = x.shape()[0], rows = batch * pixels_, c = channels_;
  const xt::xtensor<double, 1> sums = sum_over_slices(batch, pixels_, 2 * c, [&](std::size_t r, std::size_t n) {
    xt::xtensor<double, 1> part = xt::zeros<double>({2 * c});
    const float* values = x.data() + r * c;
    add_column_sums(n, c, [values](std::size_t i) { return values[i]; }, part.data());
    add_column_sums(n, c, [values](std::size_t i) { return values[i] * static_cast<double>(values[i]); }, part.data() + c);
    return part;
  });
  const xt::xtensor<double, 1> mean = xt::view(sums, xt::range(0, c)) / static_cast<double>(rows);
  const xt::xtensor<double, 1> variance =
      xt::maximum(xt::view(sums, xt::range(c, 2 * c)) / static_cast<double>(rows) - mean * mean, 0.0);
  mean_ = xt::cast<float>(mean);
  inv_std_ = xt::cast<float>(1.0 / xt::sqrt(variance + epsilon_));
  auto moving_mean = flat(moving_mean_.data(), c), moving_variance = flat(moving_variance_.data(), c);
  const auto m = static_cast<float>(momentum_);
  xt::noalias(moving_mean) = m * moving_mean + (1 - m) * xt::cast<float>(mean);
  xt::noalias(moving_variance) = m * moving_variance + (1 - m) * xt::cast<float>(variance);
}

void BatchNorm::moving_statistics(xt::xtensor<float, 1>& mean, xt::xtensor<float, 1>& inv_std) const {
  mean = flat(moving_mean_.data(), channels_);
  inv_std = 1.0f / xt::sqrt(flat(moving_variance_.data(), channels_) + static_cast<float>(epsilon_));
}

// At evaluation x̂ goes through y (the same two roundings as through normalized_), and nothing else is written.
void BatchNorm::forward(const Tensor& x, Tensor& y, const PassContext& context) {
  allocate();
  const std::size_t batch = x.shape()[0], c = channels_;
  trained_.store(context.training, std::memory_order_relaxed);
  ensure_shape(y, Shape(x.shape().begin(), x.shape().end()));
  if (!context.training) {
    xt::xtensor<float, 1> mean, inv_std;
    moving_statistics(mean, inv_std);
    for_each_slice(batch, kSamplesPerTask, [&](std::size_t, std::size_t first, std::size_t last) {
      const std::size_t r = first * pixels_, n = (last - first) * pixels_;
      auto out = matrix(y.data() + r * c, n, c);
      xt::noalias(out) = (matrix(x.data() + r * c, n, c) - mean) * inv_std;
      xt::noalias(out) = out * flat(gamma_.data(), c) + flat(beta_.data(), c);
    });
    return;
  }
  batch_statistics(x);
  ensure_shape(normalized_, Shape(x.shape().begin(), x.shape().end()));
  for_each_slice(batch, kSamplesPerTask, [&](std::size_t, std::size_t first, std::size_t last) {
    const std::size_t r = first * pixels_, n = (last - first) * pixels_;
    auto normalized = matrix(normalized_.data() + r * c, n, c);
    xt::noalias(normalized) = (matrix(x.data() + r * c, n, c) - mean_) * inv_std_;
    xt::noalias(matrix(y.data() + r * c, n, c)) = normalized * flat(gamma_.data(), c) + flat(beta_.data(), c);
  });
}

// dgamma = Σ dy·x̂, dbeta = Σ dy; dx = gamma/σ · (dy − dbeta/M − x̂·dgamma/M) at training (M values per channel),
// gamma/σ · dy at evaluation, where the statistics are constants.
void BatchNorm::backward(const Tensor& x, const Tensor&, const Tensor& dy, Tensor& dx, bool want_dx) {
  allocate();
  const std::size_t batch = x.shape()[0], c = channels_;
  auto rows_of = [&](const Tensor& t, std::size_t r, std::size_t n) { return matrix(t.data() + r * c, n, c); };
  const bool trained = trained_.load(std::memory_order_relaxed);
  if (!trained) {  // the evaluation pass kept nothing: its statistics and x̂ again
    moving_statistics(mean_, inv_std_);
    ensure_shape(normalized_, Shape(x.shape().begin(), x.shape().end()));
    xt::noalias(matrix(normalized_.data(), batch * pixels_, c)) =
        (matrix(x.data(), batch * pixels_, c) - mean_) * inv_std_;
  }
  const xt::xtensor<double, 1> sums = sum_over_slices(batch, pixels_, 2 * c, [&](std::size_t r, std::size_t n) {
    xt::xtensor<double, 1> part = xt::zeros<double>({2 * c});
    const float *g = dy.data() + r * c, *normalized = normalized_.data() + r * c;
    add_column_sums(n, c, [g](std::size_t i) { return g[i]; }, part.data());
    add_column_sums(n, c, [g, normalized](std::size_t i) { return g[i] * normalized[i]; }, part.data() + c);
    return part;
  });
  const xt::xtensor<double, 1> dbeta = xt::view(sums, xt::range(0, c)), dgamma = xt::view(sums, xt::range(c, 2 * c));
  xt::noalias(flat(beta_grad_.data(), c)) = xt::cast<float>(dbeta);
  xt::noalias(flat(gamma_grad_.data(), c)) = xt::cast<float>(dgamma);
  if (!want_dx) return;
  ensure_shape(dx, Shape(x.shape().begin(), x.shape().end()));
  const auto m = static_cast<double>(batch * pixels_);
  const xt::xtensor<float, 1> scale = flat(gamma_.data(), c) * inv_std_;
  const xt::xtensor<float, 1> mean_dy = trained ? xt::xtensor<float, 1>(xt::cast<float>(dbeta / m)) : xt::zeros<float>({c});
  const xt::xtensor<float, 1> mean_dy_x = trained ? xt::xtensor<float, 1>(xt::cast<float>(dgamma / m)) : xt::zeros<float>({c});
  for_each_slice(batch, kSamplesPerTask, [&](std::size_t, std::size_t first, std::size_t last) {
    const std::size_t r = first * pixels_, n = (last - first) * pixels_;
    xt::noalias(matrix(dx.data() + r * c, n, c)) =
        scale * (rows_of(dy, r, n) - mean_dy - rows_of(normalized_, r, n) * mean_dy_x);
  });
}

namespace {

LayerSpec batch_norm_spec() {
  LayerSpec spec;
  spec.type = "batch_norm";
  spec.summary = "batch normalization over the last axis, as Keras' BatchNormalization (running statistics at "
                 "evaluation, saved in checkpoints)";
  spec.params = {
      pipeline::float_param("momentum", 0.99, "weight of the old running statistics at each training batch").min(0).max(1),
      pipeline::float_param("epsilon", 1e-3, "added to the variance").min(1e-12).max(1),
  };
  spec.create = [](const Shape& input, const pipeline::Params& p) {
    return std::make_unique<BatchNorm>(input, p.get_float("momentum"), p.get_float("epsilon"));
  };
  return spec;
}

}  // namespace
}  // namespace nn

PIPELINE_REGISTER_LAYER(nn::batch_norm_spec())
