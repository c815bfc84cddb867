#include "model/nn/layers/avg_pool2d.hpp"


#include "model/nn/layers/pool_geometry.hpp"
#include "model/nn/parallel.hpp"

namespace nn {

AvgPool2D::AvgPool2D(Shape input_shape, std::size_t pool, std::size_t stride) : Layer(std::move(input_shape)) {
  const PoolGeometry g = pool_geometry("avg_pool2d", input_shape_, pool, stride);
  in_h_ = g.in_h, in_w_ = g.in_w, channels_ = g.channels, pool_ = g.pool, stride_ = g.stride;
  out_h_ = g.out_h, out_w_ = g.out_w;
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
  return pool_spec("avg_pool2d", "average over pool x pool windows ('valid', as Keras' AveragePooling2D)", [](const Shape& input, std::size_t pool, std::size_t stride) {
    return std::make_unique<AvgPool2D>(input, pool, stride);
  });
}
}  // namespace
}  // namespace nn

PIPELINE_REGISTER_LAYER(nn::avg_pool2d_spec())
