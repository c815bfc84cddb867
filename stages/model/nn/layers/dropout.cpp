#include "model/nn/layers/dropout.hpp"

#include <stdexcept>

#include "model/nn/layer_registry.hpp"

namespace nn {

Dropout::Dropout(Shape input_shape, double rate) : Layer(std::move(input_shape)), rate_(rate) {
  if (!(rate >= 0.0 && rate < 1.0)) throw std::invalid_argument("dropout rate must be in [0, 1)");
  output_shape_ = input_shape_;
}

void Dropout::forward(const Tensor& x, Tensor& y, const PassContext& context) {
  ensure_shape(y, Shape(x.shape().begin(), x.shape().end()));
  masked_.store(context.training && rate_ != 0.0, std::memory_order_relaxed);
  if (!context.training || rate_ == 0.0) {
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
  if (!masked_.load(std::memory_order_relaxed))
    xt::noalias(flat(dx.data(), dx.size())) = flat(dy.data(), dy.size());
  else
    xt::noalias(flat(dx.data(), dx.size())) = flat(dy.data(), dy.size()) * mask_;
}

namespace {

LayerSpec dropout_spec() {
  LayerSpec spec;
  spec.type = "dropout";
  spec.summary = "inverted dropout at training, the identity at evaluation; the mask is drawn from the batch's seed";
  spec.params = {pipeline::required_param("rate", pipeline::ParamType::Float, "probability of zeroing a value")
                     .min(0)
                     .max(0.99)};
  spec.create = [](const Shape& input, const pipeline::Params& p) {
    return std::make_unique<Dropout>(input, p.get_float("rate"));
  };
  return spec;
}
}  // namespace

}  // namespace nn

PIPELINE_REGISTER_LAYER(nn::dropout_spec())
