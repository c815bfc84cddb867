#include "model/nn/layers/avg_pool2d.hpp"


#include "model/nn/layers/pool_geometry.hpp"
#include "model/nn/parallel.hpp"

namespace nn {

AvgPool2D::AvgPool2D(Shape input_shape, std::size_t pool, std::size_t stride) : Layer(std::move(input_shape)) {
  g_ = pool_geometry("avg_pool2d", input_shape_, pool, stride);
  output_shape_ = {g_.out_h, g_.out_w, g_.channels};
}

template <class Visit>
void AvgPool2D::for_each_tap(const Visit& visit) const {
  for (std::size_t oh = 0; oh < g_.out_h; ++oh)
    for (std::size_t ow = 0; ow < g_.out_w; ++ow)
      for (std::size_t ph = 0; ph < g_.pool; ++ph)
        for (std::size_t pw = 0; pw < g_.pool; ++pw)
          visit(((oh * g_.stride + ph) * g_.in_w + ow * g_.stride + pw) * g_.channels, (oh * g_.out_w + ow) * g_.channels);
}

// Each tap adds its run of channels, scaled, to the output pixel: one xtensor expression per (tap, pixel).
void AvgPool2D::forward(const Tensor& x, Tensor& y, const PassContext&) {
  ensure_shape(y, batch_shape(x.shape()[0], output_shape_));
  const std::size_t in_size = g_.in_size(), out_size = g_.out_size(), c = g_.channels;
  const float scale = 1.0f / static_cast<float>(g_.pool * g_.pool);
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
  const std::size_t in_size = g_.in_size(), out_size = g_.out_size(), c = g_.channels;
  const float scale = 1.0f / static_cast<float>(g_.pool * g_.pool);
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
  return pool_spec("avg_pool2d", "average over pool x pool windows ('valid', as Keras' AveragePooling2D)",
                   [](const Shape& input, std::size_t pool, std::size_t stride) {
                     return std::make_unique<AvgPool2D>(input, pool, stride);
                   });
}
}  // namespace
}  // namespace nn

PIPELINE_REGISTER_LAYER(nn::avg_pool2d_spec())
