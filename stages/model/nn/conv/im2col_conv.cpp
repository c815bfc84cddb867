#include "model/nn/conv/im2col_conv.hpp"

#include <algorithm>
#include <cstring>

#include <xtensor-blas/xblas.hpp>

#include "model/nn/parallel.hpp"

namespace nn {

// In NHWC the kw x in_c values of one kernel row are contiguous in the input, so each kernel row is one copy
// (clipped at the borders), not kernel x in_c tiny ones.
void Im2colConv::im2col(const float* x, std::size_t samples, float* cols) const {
  const std::size_t row_values = g_.kernel * g_.in_c;
  for (std::size_t n = 0; n < samples; ++n) {
    const float* image = x + n * g_.in_h * g_.in_w * g_.in_c;
    for (std::size_t oh = 0; oh < g_.out_h; ++oh) {
      for (std::size_t ow = 0; ow < g_.out_w; ++ow) {
        float* row = cols + ((n * g_.out_h + oh) * g_.out_w + ow) * g_.patch();
        const std::ptrdiff_t iw0 = static_cast<std::ptrdiff_t>(ow * g_.stride) - static_cast<std::ptrdiff_t>(g_.pad_left);
        const std::size_t skip = iw0 < 0 ? static_cast<std::size_t>(-iw0) : 0;
        const std::ptrdiff_t end = std::min<std::ptrdiff_t>(iw0 + static_cast<std::ptrdiff_t>(g_.kernel), static_cast<std::ptrdiff_t>(g_.in_w));
        const std::size_t take = end > iw0 + static_cast<std::ptrdiff_t>(skip) ? static_cast<std::size_t>(end - iw0) - skip : 0;
        for (std::size_t kh = 0; kh < g_.kernel; ++kh) {
          const std::ptrdiff_t ih = static_cast<std::ptrdiff_t>(oh * g_.stride + kh) - static_cast<std::ptrdiff_t>(g_.pad_top);
          float* dst = row + kh * row_values;
          if (ih < 0 || ih >= static_cast<std::ptrdiff_t>(g_.in_h) || take == 0) {
            std::memset(dst, 0, row_values * sizeof(float));
            continue;
          }
          if (skip) std::memset(dst, 0, skip * g_.in_c * sizeof(float));
          std::memcpy(dst + skip * g_.in_c,
                      image + (static_cast<std::size_t>(ih) * g_.in_w + static_cast<std::size_t>(iw0 + static_cast<std::ptrdiff_t>(skip))) * g_.in_c,
                      take * g_.in_c * sizeof(float));
          if (skip + take < g_.kernel) std::memset(dst + (skip + take) * g_.in_c, 0, (g_.kernel - skip - take) * g_.in_c * sizeof(float));
        }
      }
    }
  }
}

void Im2colConv::col2im(const float* cols, std::size_t samples, float* dx) const {
  std::memset(dx, 0, samples * g_.in_h * g_.in_w * g_.in_c * sizeof(float));
  const std::size_t row_values = g_.kernel * g_.in_c;
  for (std::size_t n = 0; n < samples; ++n) {
    float* image = dx + n * g_.in_h * g_.in_w * g_.in_c;
    for (std::size_t oh = 0; oh < g_.out_h; ++oh) {
      for (std::size_t ow = 0; ow < g_.out_w; ++ow) {
        const float* row = cols + ((n * g_.out_h + oh) * g_.out_w + ow) * g_.patch();
        const std::ptrdiff_t iw0 = static_cast<std::ptrdiff_t>(ow * g_.stride) - static_cast<std::ptrdiff_t>(g_.pad_left);
        const std::size_t skip = iw0 < 0 ? static_cast<std::size_t>(-iw0) : 0;
        const std::ptrdiff_t end = std::min<std::ptrdiff_t>(iw0 + static_cast<std::ptrdiff_t>(g_.kernel), static_cast<std::ptrdiff_t>(g_.in_w));
        if (end <= iw0 + static_cast<std::ptrdiff_t>(skip)) continue;
        const std::size_t values = (static_cast<std::size_t>(end - iw0) - skip) * g_.in_c;
        for (std::size_t kh = 0; kh < g_.kernel; ++kh) {
          const std::ptrdiff_t ih = static_cast<std::ptrdiff_t>(oh * g_.stride + kh) - static_cast<std::ptrdiff_t>(g_.pad_top);
          if (ih < 0 || ih >= static_cast<std::ptrdiff_t>(g_.in_h)) continue;
          float* dst = image + (static_cast<std::size_t>(ih) * g_.in_w + static_cast<std::size_t>(iw0 + static_cast<std::ptrdiff_t>(skip))) * g_.in_c;
          const float* src = row + kh * row_values + skip * g_.in_c;
          for (std::size_t v = 0; v < values; ++v) dst[v] += src[v];
        }
      }
    }
  }
}

void Im2colConv::forward(const Tensor& x, const Tensor& kernel, const Tensor& bias, Tensor& y,
                         const SliceHook& after_slice) {
  const std::size_t in_size = g_.in_size(), out_pixels = g_.out_pixels(), patch = g_.patch(), filters = g_.filters;
  for_each_slice(x.shape()[0], kSamplesPerTask, [&](std::size_t, std::size_t first, std::size_t last) {
    const std::size_t rows = (last - first) * out_pixels;
    float* cols = at_least(columns_.local(), rows * patch);
    im2col(x.data() + first * in_size, last - first, cols);
    auto out = matrix(y.data() + first * out_pixels * filters, rows, filters);
    repeat_rows(bias.data(), filters, rows, out.data());
    xt::blas::gemm(matrix(cols, rows, patch), matrix(kernel.data(), patch, filters), out, false, false, 1.0f, 1.0f);
    if (after_slice) after_slice(first, last);
  });
}

void Im2colConv::backward(const Tensor& x, const Tensor& dy, const Tensor& kernel, Tensor& kernel_grad,
                          Tensor& bias_grad, Tensor* dx, const SliceGradient& gradient_of) {
  const std::size_t in_size = g_.in_size(), out_pixels = g_.out_pixels(), patch = g_.patch(), filters = g_.filters;
  task_gradients_.prepare(x.shape()[0], patch * filters, filters);
  for_each_slice(x.shape()[0], kSamplesPerTask, [&](std::size_t task, std::size_t first, std::size_t last) {
    const std::size_t samples = last - first, rows = samples * out_pixels;
    float* cols = at_least(columns_.local(), rows * patch);
    im2col(x.data() + first * in_size, samples, cols);
    const float* grad_out = gradient_of ? gradient_of(first, last) : dy.data() + first * out_pixels * filters;
    auto columns = matrix(cols, rows, patch);
    const auto dy_rows = matrix(grad_out, rows, filters);
    auto task_kernel_grad = matrix(task_gradients_.kernel(task), patch, filters);
    xt::blas::gemm(columns, dy_rows, task_kernel_grad, true, false, 1.0f, 0.0f);
    sum_bias_gradient(grad_out, rows, filters, task_gradients_.bias(task));
    if (!dx) return;
    // cols is free again: it takes d(cols) = dy · kernelᵀ.
    xt::blas::gemm(dy_rows, matrix(kernel.data(), patch, filters), columns, false, true, 1.0f, 0.0f);
    col2im(cols, samples, dx->data() + first * in_size);
  });
  task_gradients_.reduce(kernel_grad.data(), bias_grad.data());
}

void Im2colConv::input_gradient_samples(const float* dy, std::size_t samples, const Tensor& kernel, float* dx) {
  const std::size_t rows = samples * g_.out_pixels(), patch = g_.patch(), filters = g_.filters;
  float* cols = at_least(columns_.local(), rows * patch);
  auto columns = matrix(cols, rows, patch);
  xt::blas::gemm(matrix(dy, rows, filters), matrix(kernel.data(), patch, filters), columns, false, true, 1.0f, 0.0f);
  col2im(cols, samples, dx);
}

}  // namespace nn
