#include "model/nn/conv2d.hpp"

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include <xtensor-blas/xblas.hpp>
#include <xtensor/xreducer.hpp>

#include "model/nn/parallel.hpp"

namespace nn {

Conv2D::Conv2D(Shape input_shape, std::size_t filters, std::size_t kernel, std::size_t stride, Padding padding,
               ConvAlgorithm algorithm)
    : Layer(std::move(input_shape)), filters_(filters), ksize_(kernel), stride_(stride) {
  if (input_shape_.size() != 3)
    throw std::invalid_argument("conv2d needs an input of shape (height, width, channels), got " +
                                shape_string(input_shape_));
  if (filters == 0 || kernel == 0 || stride == 0) throw std::invalid_argument("conv2d filters, kernel and stride must be positive");
  in_h_ = input_shape_[0];
  in_w_ = input_shape_[1];
  in_c_ = input_shape_[2];
  if (padding == Padding::Same) {
    // TensorFlow/Keras 'same': output ceil(in / stride), the extra padding pixel goes at the bottom/right.
    out_h_ = (in_h_ + stride - 1) / stride;
    out_w_ = (in_w_ + stride - 1) / stride;
    const std::size_t pad_h = std::max<std::ptrdiff_t>(0, static_cast<std::ptrdiff_t>((out_h_ - 1) * stride + kernel) -
                                                              static_cast<std::ptrdiff_t>(in_h_));
    const std::size_t pad_w = std::max<std::ptrdiff_t>(0, static_cast<std::ptrdiff_t>((out_w_ - 1) * stride + kernel) -
                                                              static_cast<std::ptrdiff_t>(in_w_));
    pad_top_ = pad_h / 2;
    pad_left_ = pad_w / 2;
  } else {
    if (kernel > in_h_ || kernel > in_w_)
      throw std::invalid_argument("conv2d kernel " + std::to_string(kernel) + " is larger than its input " +
                                  shape_string(input_shape_) + " with padding 'valid'");
    out_h_ = (in_h_ - kernel) / stride + 1;
    out_w_ = (in_w_ - kernel) / stride + 1;
    pad_top_ = pad_left_ = 0;
  }
  patch_ = kernel * kernel * in_c_;
  output_shape_ = {out_h_, out_w_, filters_};
  weights_ = Tensor::from_shape({kernel, kernel, in_c_, filters_});
  weights_.fill(0);
  bias_ = Tensor::from_shape({filters_});
  bias_.fill(0);
  kernel_grad_ = weights_;
  bias_grad_ = bias_;
  padded_h_ = (out_h_ - 1) * stride_ + ksize_;
  padded_w_ = (out_w_ - 1) * stride_ + ksize_;
  const bool winograd_fits = kernel == 5 && stride == 1;
  if (algorithm == ConvAlgorithm::Winograd && !winograd_fits)
    throw std::invalid_argument("conv2d algorithm 'winograd' needs kernel 5 and stride 1, got kernel " +
                                std::to_string(kernel) + " and stride " + std::to_string(stride));
  // With few input channels the per-tile transforms cost more than the multiplies they save (conv1 of LeNet, one
  // channel: 2.3x slower than im2col; bench/README.md).
  constexpr std::size_t kWinogradMinChannels = 8;
  if (winograd_fits && (algorithm == ConvAlgorithm::Winograd ||
                        (algorithm == ConvAlgorithm::Auto && in_c_ >= kWinogradMinChannels))) {
    winograd_.emplace(ConvGeometry{in_h_, in_w_, in_c_, filters_, out_h_, out_w_, pad_top_, pad_left_});
    winograd_kernel_grad_.resize(winograd_->kernel_gradient_size());
  } else if (algorithm == ConvAlgorithm::Auto && filters_ <= kDirectMaxFilters) {
    direct_ = &simd::kernels();
  }
  filters_pad_ = simd::round_up(filters_, direct_ ? direct_->lanes : 1);
}

std::string Conv2D::implementation() const {
  if (winograd_) return "winograd F(2x2,5x5), " + winograd_->kernel_name() + " kernels";
  return direct_ ? std::string("direct, ") + direct_->name + " kernels" : "im2col + SGEMM";
}

void Conv2D::initialize(std::mt19937_64& rng) {
  glorot_uniform(weights_, ksize_ * ksize_ * in_c_, ksize_ * ksize_ * filters_, rng);
  bias_.fill(0);
}

double Conv2D::forward_flops() const { return 2.0 * static_cast<double>(out_h_ * out_w_ * patch_ * filters_); }

// In NHWC the kw x in_c values of one kernel row are contiguous in the input, so each kernel row is one copy
// (clipped at the borders), not kernel x in_c tiny ones.
void Conv2D::im2col(const float* x, std::size_t samples, float* cols) const {
  const std::size_t row_values = ksize_ * in_c_;
  for (std::size_t n = 0; n < samples; ++n) {
    const float* image = x + n * in_h_ * in_w_ * in_c_;
    for (std::size_t oh = 0; oh < out_h_; ++oh) {
      for (std::size_t ow = 0; ow < out_w_; ++ow) {
        float* row = cols + ((n * out_h_ + oh) * out_w_ + ow) * patch_;
        const std::ptrdiff_t iw0 = static_cast<std::ptrdiff_t>(ow * stride_) - static_cast<std::ptrdiff_t>(pad_left_);
        const std::size_t skip = iw0 < 0 ? static_cast<std::size_t>(-iw0) : 0;
        const std::ptrdiff_t end = std::min<std::ptrdiff_t>(iw0 + static_cast<std::ptrdiff_t>(ksize_), static_cast<std::ptrdiff_t>(in_w_));
        const std::size_t take = end > iw0 + static_cast<std::ptrdiff_t>(skip) ? static_cast<std::size_t>(end - iw0) - skip : 0;
        for (std::size_t kh = 0; kh < ksize_; ++kh) {
          const std::ptrdiff_t ih = static_cast<std::ptrdiff_t>(oh * stride_ + kh) - static_cast<std::ptrdiff_t>(pad_top_);
          float* dst = row + kh * row_values;
          if (ih < 0 || ih >= static_cast<std::ptrdiff_t>(in_h_) || take == 0) {
            std::memset(dst, 0, row_values * sizeof(float));
            continue;
          }
          if (skip) std::memset(dst, 0, skip * in_c_ * sizeof(float));
          std::memcpy(dst + skip * in_c_,
                      image + (static_cast<std::size_t>(ih) * in_w_ + static_cast<std::size_t>(iw0 + static_cast<std::ptrdiff_t>(skip))) * in_c_,
                      take * in_c_ * sizeof(float));
          if (skip + take < ksize_) std::memset(dst + (skip + take) * in_c_, 0, (ksize_ - skip - take) * in_c_ * sizeof(float));
        }
      }
    }
  }
}

void Conv2D::col2im(const float* cols, std::size_t samples, float* dx) const {
  std::memset(dx, 0, samples * in_h_ * in_w_ * in_c_ * sizeof(float));
  const std::size_t row_values = ksize_ * in_c_;
  for (std::size_t n = 0; n < samples; ++n) {
    float* image = dx + n * in_h_ * in_w_ * in_c_;
    for (std::size_t oh = 0; oh < out_h_; ++oh) {
      for (std::size_t ow = 0; ow < out_w_; ++ow) {
        const float* row = cols + ((n * out_h_ + oh) * out_w_ + ow) * patch_;
        const std::ptrdiff_t iw0 = static_cast<std::ptrdiff_t>(ow * stride_) - static_cast<std::ptrdiff_t>(pad_left_);
        const std::size_t skip = iw0 < 0 ? static_cast<std::size_t>(-iw0) : 0;
        const std::ptrdiff_t end = std::min<std::ptrdiff_t>(iw0 + static_cast<std::ptrdiff_t>(ksize_), static_cast<std::ptrdiff_t>(in_w_));
        if (end <= iw0 + static_cast<std::ptrdiff_t>(skip)) continue;
        const std::size_t values = (static_cast<std::size_t>(end - iw0) - skip) * in_c_;
        for (std::size_t kh = 0; kh < ksize_; ++kh) {
          const std::ptrdiff_t ih = static_cast<std::ptrdiff_t>(oh * stride_ + kh) - static_cast<std::ptrdiff_t>(pad_top_);
          if (ih < 0 || ih >= static_cast<std::ptrdiff_t>(in_h_)) continue;
          float* dst = image + (static_cast<std::size_t>(ih) * in_w_ + static_cast<std::size_t>(iw0 + static_cast<std::ptrdiff_t>(skip))) * in_c_;
          const float* src = row + kh * row_values + skip * in_c_;
          for (std::size_t v = 0; v < values; ++v) dst[v] += src[v];
        }
      }
    }
  }
}

namespace {
float* sized(AlignedFloats& buffer, std::size_t size) {
  if (buffer.size() < size) buffer.resize(size);
  return buffer.data();
}

// Rows of `width` floats copied to a stride of whole vector registers, zero-padded. Row copies, not an xtensor
// strided view: the view assignment made LeNet's conv1 backward 3x slower (1.5 → 4.5 ms at batch 128).
void widen(const float* rows, std::size_t count, std::size_t width, std::size_t padded_width, float* out) {
  for (std::size_t r = 0; r < count; ++r) {
    std::memcpy(out + r * padded_width, rows + r * width, width * sizeof(float));
    std::fill(out + r * padded_width + width, out + (r + 1) * padded_width, 0.0f);
  }
}

// The inverse: the first `width` floats of each padded row.
void narrow(const float* wide, std::size_t count, std::size_t padded_width, std::size_t width, float* out) {
  for (std::size_t r = 0; r < count; ++r) std::memcpy(out + r * width, wide + r * padded_width, width * sizeof(float));
}
}  // namespace

// The image inside a zero border, (padded_h, padded_w, in_c): every tap of every output pixel is then in bounds.
const float* Conv2D::padded_image(const float* image, AlignedFloats& buffer) const {
  float* out = sized(buffer, padded_h_ * padded_w_ * in_c_);
  std::fill(out, out + padded_h_ * padded_w_ * in_c_, 0.0f);
  const std::size_t first_w = std::min(pad_left_, padded_w_);
  const std::size_t width = std::min(in_w_, padded_w_ - first_w);
  for (std::size_t ih = 0; ih < in_h_ && ih + pad_top_ < padded_h_; ++ih)
    std::memcpy(out + ((ih + pad_top_) * padded_w_ + first_w) * in_c_, image + ih * in_w_ * in_c_,
                width * in_c_ * sizeof(float));
  return out;
}

// Output row oh of one image: A(ow, (kh, kw·c)) = padded[(oh·s + kh, ow·s + kw, c)], B = the kernel as
// (kh·kw·c) × filters, so each kernel row is one run of kw·in_c contiguous floats. The kernel writes y's rows
// directly, starting from the bias.
void Conv2D::forward_direct(const Tensor& x, Tensor& y) {
  const std::size_t in_size = in_h_ * in_w_ * in_c_, pixels = out_h_ * out_w_, row_floats = padded_w_ * in_c_;
  AlignedFloats kernel(patch_ * filters_pad_), bias(filters_pad_);
  widen(weights_.data(), patch_, filters_, filters_pad_, kernel.data());
  widen(bias_.data(), 1, filters_, filters_pad_, bias.data());
  for_each_slice(x.shape()[0], kSamplesPerTask, [&](std::size_t, std::size_t first, std::size_t last) {
    Scratch& scratch = scratch_.local();
    for (std::size_t n = first; n < last; ++n) {
      const float* image = padded_image(x.data() + n * in_size, scratch.image);
      float* out = y.data() + n * pixels * filters_;
      for (std::size_t oh = 0; oh < out_h_; ++oh)
        direct_->narrow_gemm(out_w_, filters_pad_ / direct_->lanes,
                             {image + oh * stride_ * row_floats, stride_ * in_c_, ksize_, row_floats, ksize_ * in_c_, 1},
                             kernel.data(), filters_pad_,
                             {out + oh * out_w_ * filters_, filters_, filters_, false, bias.data()});
    }
  });
}

// Kernel row kh of the gradient: rows (kw·c), summed over all output pixels (oh, ow) of each image.
void Conv2D::backward_direct(const Tensor& x, const Tensor& dy) {
  const std::size_t batch = x.shape()[0], in_size = in_h_ * in_w_ * in_c_, pixels = out_h_ * out_w_;
  const std::size_t row_floats = padded_w_ * in_c_, kernel_values = patch_ * filters_pad_;
  const std::size_t tasks = (batch + kSamplesPerTask - 1) / kSamplesPerTask;
  if (chunk_kernel_grads_.size() < tasks) {
    chunk_kernel_grads_.resize(tasks, AlignedFloats(kernel_values));
    chunk_bias_grads_.resize(tasks, AlignedFloats(filters_));
  }
  for_each_slice(batch, kSamplesPerTask, [&](std::size_t task, std::size_t first, std::size_t last) {
    float* grad = chunk_kernel_grads_[task].data();
    std::fill(grad, grad + kernel_values, 0.0f);
    Scratch& scratch = scratch_.local();
    float* wide = sized(scratch.wide, pixels * filters_pad_);
    for (std::size_t n = first; n < last; ++n) {
      const float* image = padded_image(x.data() + n * in_size, scratch.image);
      widen(dy.data() + n * pixels * filters_, pixels, filters_, filters_pad_, wide);
      for (std::size_t kh = 0; kh < ksize_; ++kh)
        direct_->narrow_gemm(ksize_ * in_c_, filters_pad_ / direct_->lanes,
                             {image + kh * row_floats, 1, out_h_, stride_ * row_floats, out_w_, stride_ * in_c_}, wide,
                             filters_pad_,
                             {grad + kh * ksize_ * in_c_ * filters_pad_, filters_pad_, filters_pad_, true, nullptr});
    }
    sum_bias_gradient(dy.data() + first * pixels * filters_, (last - first) * pixels, chunk_bias_grads_[task].data());
  });
  AlignedFloats sum(kernel_values);
  reduce_chunk_gradients(tasks, kernel_values, sum.data());
  narrow(sum.data(), patch_, filters_pad_, filters_, kernel_grad_.data());
}

void Conv2D::forward(const Tensor& x, Tensor& y, const PassContext&) {
  const std::size_t batch = x.shape()[0];
  ensure_shape(y, batch_shape(batch, output_shape_));
  if (winograd_) return forward_winograd(x, y);
  if (direct_) return forward_direct(x, y);
  const std::size_t in_size = in_h_ * in_w_ * in_c_, out_pixels = out_h_ * out_w_;
  for_each_slice(batch, kSamplesPerTask, [&](std::size_t, std::size_t first, std::size_t last) {
    const std::size_t rows = (last - first) * out_pixels;
    float* cols = sized(scratch_.local().cols, rows * patch_);
    im2col(x.data() + first * in_size, last - first, cols);
    auto out = matrix(y.data() + first * out_pixels * filters_, rows, filters_);
    repeat_rows(bias_.data(), filters_, rows, out.data());
    xt::blas::gemm(matrix(cols, rows, patch_), matrix(weights_.data(), patch_, filters_), out, false, false, 1.0f, 1.0f);
  });
}

void Conv2D::sum_bias_gradient(const float* grad_out, std::size_t rows, float* bias_grad) const {
  xt::noalias(flat(bias_grad, filters_)) = xt::sum(matrix(grad_out, rows, filters_), {0}, xt::evaluation_strategy::immediate);
}

// Adds the per-task partial sums in task order, for each value: the same sums on any number of threads.
void Conv2D::reduce_chunk_gradients(std::size_t tasks, std::size_t kernel_values, float* kernel_sum) {
  constexpr std::size_t kValuesPerTask = 4096;
  for_each_slice(kernel_values, kValuesPerTask, [&](std::size_t, std::size_t first, std::size_t last) {
    auto sum = flat(kernel_sum + first, last - first);
    sum.fill(0.0f);
    for (std::size_t t = 0; t < tasks; ++t) xt::noalias(sum) += flat(chunk_kernel_grads_[t].data() + first, last - first);
  });
  auto bias_sum = flat(bias_grad_.data(), filters_);
  bias_sum.fill(0.0f);
  for (std::size_t t = 0; t < tasks; ++t) xt::noalias(bias_sum) += flat(chunk_bias_grads_[t].data(), filters_);
}

void Conv2D::backward(const Tensor& x, const Tensor&, const Tensor& dy, Tensor& dx, bool want_dx) {
  const std::size_t batch = x.shape()[0];
  if (want_dx) ensure_shape(dx, batch_shape(batch, input_shape_));
  if (winograd_) return backward_winograd(x, dy, dx, want_dx);
  // The direct path computes the parameters' gradients; dL/dx (not wanted of a first layer, as LeNet's conv1)
  // comes from im2col below.
  if (direct_) {
    backward_direct(x, dy);
    if (!want_dx) return;
  }
  const std::size_t in_size = in_h_ * in_w_ * in_c_, out_pixels = out_h_ * out_w_;
  const std::size_t tasks = (batch + kSamplesPerTask - 1) / kSamplesPerTask;
  if (chunk_kernel_grads_.size() < tasks) {
    chunk_kernel_grads_.resize(tasks, AlignedFloats(weights_.size()));
    chunk_bias_grads_.resize(tasks, AlignedFloats(filters_));
  }
  for_each_slice(batch, kSamplesPerTask, [&](std::size_t task, std::size_t first, std::size_t last) {
    const std::size_t samples = last - first, rows = samples * out_pixels;
    float* cols = sized(scratch_.local().cols, rows * patch_);
    im2col(x.data() + first * in_size, samples, cols);
    const float* grad_out = dy.data() + first * out_pixels * filters_;
    auto columns = matrix(cols, rows, patch_);
    const auto dy_rows = matrix(grad_out, rows, filters_);
    if (!direct_) {
      auto kernel_grad = matrix(chunk_kernel_grads_[task].data(), patch_, filters_);
      xt::blas::gemm(columns, dy_rows, kernel_grad, true, false, 1.0f, 0.0f);
      sum_bias_gradient(grad_out, rows, chunk_bias_grads_[task].data());
    }
    if (want_dx) {
      // cols is free again: reuse it for d(cols) = dy · kernelᵀ.
      xt::blas::gemm(dy_rows, matrix(weights_.data(), patch_, filters_), columns, false, true, 1.0f, 0.0f);
      col2im(cols, samples, dx.data() + first * in_size);
    }
  });
  if (!direct_) reduce_chunk_gradients(tasks, weights_.size(), kernel_grad_.data());
}

void Conv2D::forward_winograd(const Tensor& x, Tensor& y) {
  const std::size_t in_size = in_h_ * in_w_ * in_c_, out_size = out_h_ * out_w_ * filters_;
  winograd_->set_kernel(weights_.data());
  for_each_slice(x.shape()[0], kSamplesPerTask, [&](std::size_t, std::size_t first, std::size_t last) {
    winograd_->forward(x.data() + first * in_size, last - first, bias_.data(), y.data() + first * out_size);
  });
}

// Kernel gradients are summed in the transformed domain and brought back once: the transform is linear.
void Conv2D::backward_winograd(const Tensor& x, const Tensor& dy, Tensor& dx, bool want_dx) {
  const std::size_t batch = x.shape()[0];
  const std::size_t in_size = in_h_ * in_w_ * in_c_, out_pixels = out_h_ * out_w_;
  const std::size_t tasks = (batch + kSamplesPerTask - 1) / kSamplesPerTask;
  if (chunk_kernel_grads_.size() < tasks) {
    chunk_kernel_grads_.resize(tasks, AlignedFloats(winograd_kernel_grad_.size()));
    chunk_bias_grads_.resize(tasks, AlignedFloats(filters_));
  }
  winograd_->set_kernel(weights_.data());
  for_each_slice(batch, kSamplesPerTask, [&](std::size_t task, std::size_t first, std::size_t last) {
    const std::size_t samples = last - first;
    const float* grad_out = dy.data() + first * out_pixels * filters_;
    float* du = chunk_kernel_grads_[task].data();
    std::fill(du, du + winograd_kernel_grad_.size(), 0.0f);
    winograd_->backward(x.data() + first * in_size, grad_out, samples, du, want_dx ? dx.data() + first * in_size : nullptr);
    sum_bias_gradient(grad_out, samples * out_pixels, chunk_bias_grads_[task].data());
  });
  reduce_chunk_gradients(tasks, winograd_kernel_grad_.size(), winograd_kernel_grad_.data());
  winograd_->kernel_gradient(winograd_kernel_grad_.data(), kernel_grad_.data());
}

}  // namespace nn
