#include "model/nn/layers/max_pool2d.hpp"

#include <algorithm>

#include "model/nn/parallel.hpp"
#include "model/nn/layers/pool_geometry.hpp"

namespace nn {

MaxPool2D::MaxPool2D(Shape input_shape, std::size_t pool, std::size_t stride) : Layer(std::move(input_shape)) {
  g_ = pool_geometry("max_pool2d", input_shape_, pool, stride);
  output_shape_ = {g_.out_h, g_.out_w, g_.channels};
  if (pool == 2 && stride == 2) kernels_ = &simd::kernels();
}

std::string MaxPool2D::implementation() const {
  return kernels_ ? std::string(kernels_->name) + " kernels" : std::string();
}

// At inference no backward pass reads the winners: none are kept.
void MaxPool2D::forward(const Tensor& x, Tensor& y, const PassContext& context) {
  ensure_shape(y, batch_shape(x.shape()[0], output_shape_));
  winners_kept_.store(context.training, std::memory_order_relaxed);
  relu_fused_.store(false, std::memory_order_relaxed);
  if (!kernels_) return forward_general(x, y, context.training);
  if (context.training) winner_.resize(x.shape()[0] * g_.out_size());
  for_each_slice(x.shape()[0], kSamplesPerTask, [&](std::size_t, std::size_t first, std::size_t last) {
    forward_samples(x, y, first, last, context.training, false);
  });
}

bool MaxPool2D::forward_then_relu(const Tensor& x, Tensor& y, const PassContext& context) {
  if (!start_forward_then_relu(x.shape()[0], context.training, y)) return false;
  for_each_slice(x.shape()[0], kSamplesPerTask, [&](std::size_t, std::size_t first, std::size_t last) {
    forward_samples(x, y, first, last, context.training, true);
  });
  return true;
}

bool MaxPool2D::start_forward_then_relu(std::size_t batch, bool training, Tensor& y) {
  if (!kernels_) return false;
  ensure_shape(y, batch_shape(batch, output_shape_));
  winners_kept_.store(training, std::memory_order_relaxed);
  relu_fused_.store(true, std::memory_order_relaxed);
  if (training) winner_.resize(batch * g_.out_size());
  return true;
}

void MaxPool2D::forward_samples(const Tensor& x, Tensor& y, std::size_t first, std::size_t last, bool training,
                                bool then_relu) {
  const std::size_t in_size = g_.in_size(), out_size = g_.out_size();
  for (std::size_t n = first; n < last; ++n)
    kernels_->max_pool_2x2_forward(x.data() + n * in_size, g_.in_h, g_.in_w, g_.channels, y.data() + n * out_size,
                                   training ? winner_.data() + n * out_size : nullptr, then_relu);
}

void MaxPool2D::forward_general(const Tensor& x, Tensor& y, bool keep_argmax) {
  const std::size_t batch = x.shape()[0];
  const std::size_t in_size = g_.in_size(), out_size = g_.out_size();
  if (keep_argmax) argmax_.resize(batch * out_size);
  for_each_slice(batch, kSamplesPerTask, [&](std::size_t, std::size_t first, std::size_t last) {
    for (std::size_t n = first; n < last; ++n) {
      const float* in = x.data() + n * in_size;
      float* out = y.data() + n * out_size;
      std::uint32_t* arg = keep_argmax ? argmax_.data() + n * out_size : nullptr;
      for (std::size_t oh = 0; oh < g_.out_h; ++oh)
        for (std::size_t ow = 0; ow < g_.out_w; ++ow)
          for (std::size_t c = 0; c < g_.channels; ++c) {
            std::size_t best = ((oh * g_.stride) * g_.in_w + ow * g_.stride) * g_.channels + c;
            for (std::size_t ph = 0; ph < g_.pool; ++ph)
              for (std::size_t pw = 0; pw < g_.pool; ++pw) {
                const std::size_t at = ((oh * g_.stride + ph) * g_.in_w + ow * g_.stride + pw) * g_.channels + c;
                if (in[at] > in[best]) best = at;  // first maximum wins, as in the reference loop
              }
            const std::size_t o = (oh * g_.out_w + ow) * g_.channels + c;
            out[o] = in[best];
            if (arg) arg[o] = static_cast<std::uint32_t>(best);
          }
    }
  });
}

void MaxPool2D::backward(const Tensor& x, const Tensor&, const Tensor& dy, Tensor& dx, bool want_dx) {
  if (!want_dx) return;
  const bool by_kernels = start_backward(x);
  ensure_shape(dx, batch_shape(x.shape()[0], input_shape_));
  if (!by_kernels) return backward_general(dy, dx);
  for_each_slice(x.shape()[0], kSamplesPerTask, [&](std::size_t, std::size_t first, std::size_t last) {
    backward_samples(dy, dx.data() + first * g_.in_size(), first, last);
  });
}

bool MaxPool2D::start_backward(const Tensor& x) {
  if (!winners_kept_.load(std::memory_order_relaxed)) {
    Tensor pooled_again;
    if (relu_fused_.load(std::memory_order_relaxed))
      forward_then_relu(x, pooled_again, PassContext{true, 0});
    else
      forward(x, pooled_again, PassContext{true, 0});
  }
  return kernels_ != nullptr;
}

// dx holds sample `first` on.
void MaxPool2D::backward_samples(const Tensor& dy, float* dx, std::size_t first, std::size_t last) const {
  const std::size_t in_size = g_.in_size(), out_size = g_.out_size();
  for (std::size_t n = first; n < last; ++n)
    kernels_->max_pool_2x2_backward(winner_.data() + n * out_size, dy.data() + n * out_size, g_.in_h, g_.in_w,
                                    g_.channels, dx + (n - first) * in_size);
}

const float* MaxPool2D::backward_samples_here(const Tensor& dy, std::size_t first, std::size_t last) {
  float* dx = at_least(samples_dx_.local(), (last - first) * g_.in_size());
  backward_samples(dy, dx, first, last);
  return dx;
}

void MaxPool2D::backward_general(const Tensor& dy, Tensor& dx) {
  const std::size_t in_size = g_.in_size(), out_size = g_.out_size();
  for_each_slice(dy.shape()[0], kSamplesPerTask, [&](std::size_t, std::size_t first, std::size_t last) {
    for (std::size_t n = first; n < last; ++n) {
      auto grad_in = flat(dx.data() + n * in_size, in_size);
      grad_in.fill(0.0f);
      const float* grad_out = dy.data() + n * out_size;
      const std::uint32_t* arg = argmax_.data() + n * out_size;
      for (std::size_t o = 0; o < out_size; ++o) grad_in[arg[o]] += grad_out[o];
    }
  });
}

namespace {
LayerSpec max_pool2d_spec() {
  return pool_spec("max_pool2d", "maximum over pool x pool windows ('valid', as Keras); 2x2/2 runs in a vector kernel",
                   [](const Shape& input, std::size_t pool, std::size_t stride) {
                     return std::make_unique<MaxPool2D>(input, pool, stride);
                   });
}
}  // namespace

}  // namespace nn

PIPELINE_REGISTER_LAYER(nn::max_pool2d_spec())
