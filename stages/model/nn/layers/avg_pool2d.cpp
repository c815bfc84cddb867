#include "model/nn/layers/avg_pool2d.hpp"

#include <stdexcept>

#include "model/nn/layer_registry.hpp"
#include "model/nn/parallel.hpp"

namespace nn {

AvgPool2D::AvgPool2D(Shape input_shape, std::size_t pool, std::size_t stride)
    : Layer(std::move(input_shape)), pool_(pool), stride_(stride) {
  if (input_shape_.size() != 3)
    throw std::invalid_argument("avg_pool2d needs an input of shape (height, width, channels), got " +
                                shape_string(input_shape_));
  if (pool == 0 || stride == 0) throw std::invalid_argument("avg_pool2d pool and stride must be positive");
  in_h_ = input_shape_[0];
  in_w_ = input_shape_[1];
  channels_ = input_shape_[2];
  if (pool > in_h_ || pool > in_w_)
    throw std::invalid_argument("avg_pool2d pool " + std::to_string(pool) + " is larger than its input " +
                                shape_string(input_shape_));
  out_h_ = (in_h_ - pool) / stride + 1;
  out_w_ = (in_w_ - pool) / stride + 1;
  output_shape_ = {out_h_, out_w_, channels_};
}

template <class Visit>
void AvgPool2D::for_each_tap(const Visit& visit) const {
  for (std::size_t oh = 0; oh < out_h_; ++oh)
    for (std::size_t ow = 0; ow < out_w_; ++ow)
      for (std::size_t ph = 0; ph < pool_; ++ph)
        for (std::size_t pw = 0; pw < pool_; ++pw)
          visit(((oh * stride_ + ph) * in_w_ + ow * stride_ + pw) * channels_, (oh * out_w_ + ow) * channels_);
}

// Each tap adds its run of channels, scaled, to the output pixel: one xtensor expression per (tap, pixel).
void AvgPool2D::forward(const Tensor& x, Tensor& y, const PassContext&) {
  ensure_shape(y, batch_shape(x.shape()[0], output_shape_));
  const std::size_t in_size = in_h_ * in_w_ * channels_, out_size = out_h_ * out_w_ * channels_, c = channels_;
  const float scale = 1.0f / static_cast<float>(pool_ * pool_);
  for_each_slice(x.shape()[0], kSamplesPerTask, [&](std::size_t, std::size_t first, std::size_t last) {
    for (std::size_t n = first; n < last; ++n) {
      const float* in = x.data() + n * in_size;
      float* out = y.data() + n * out_size;
      flat(out, out_size).fill(0.0f);
      for_each_tap([&](std::size_t i, std::size_t o) { xt::noalias(flat(out + o, c)) += scale * flat(in + i, c); });
    }
  });
}

void AvgPool2D::backward(const Tensor& x, const Tensor&, const Tensor& dy, Tensor& dx, bool want_dx) {
  if (!want_dx) return;
  ensure_shape(dx, batch_shape(x.shape()[0], input_shape_));
  const std::size_t in_size = in_h_ * in_w_ * channels_, out_size = out_h_ * out_w_ * channels_, c = channels_;
  const float scale = 1.0f / static_cast<float>(pool_ * pool_);
  for_each_slice(x.shape()[0], kSamplesPerTask, [&](std::size_t, std::size_t first, std::size_t last) {
    for (std::size_t n = first; n < last; ++n) {
      float* grad_in = dx.data() + n * in_size;
      const float* grad_out = dy.data() + n * out_size;
      flat(grad_in, in_size).fill(0.0f);
      for_each_tap([&](std::size_t i, std::size_t o) { xt::noalias(flat(grad_in + i, c)) += scale * flat(grad_out + o, c); });
    }
  });
}

namespace {

LayerSpec avg_pool2d_spec() {
  LayerSpec spec;
  spec.type = "avg_pool2d";
  spec.summary = "average over pool x pool windows ('valid', as Keras' AveragePooling2D)";
  spec.params = {pipeline::int_param("pool", 2, "window size").min(1),
                 pipeline::int_param("stride", 0, "step between windows (0 = pool)").min(0)};
  spec.create = [](const Shape& input, const pipeline::Params& p) {
    const auto pool = static_cast<std::size_t>(p.get_int("pool"));
    const auto stride = static_cast<std::size_t>(p.get_int("stride"));
    return std::make_unique<AvgPool2D>(input, pool, stride == 0 ? pool : stride);
  };
  return spec;
}

}  // namespace
}  // namespace nn

PIPELINE_REGISTER_LAYER(nn::avg_pool2d_spec())
