#pragma once
// Reference pieces for the layer tests: random tensors and a direct convolution (and its gradients) in double
// precision.
#include <random>
#include <vector>

#include "model/nn/tensor.hpp"

namespace layer_reference {
using nn::Shape;
using nn::Tensor;

inline Tensor random_tensor(const Shape& shape, std::mt19937_64& rng, float scale = 1.0f) {
  Tensor t = Tensor::from_shape(shape);
  std::uniform_real_distribution<float> u(-scale, scale);
  for (auto& v : t) v = u(rng);
  return t;
}

// Direct convolution, for reference.
inline Tensor naive_conv(const Tensor& x, const Tensor& kernel, const Tensor& bias, std::size_t stride,
                         std::size_t pad_top, std::size_t pad_left, std::size_t out_h, std::size_t out_w) {
  const std::size_t n = x.shape()[0], h = x.shape()[1], w = x.shape()[2], c = x.shape()[3];
  const std::size_t k = kernel.shape()[0], f = kernel.shape()[3];
  Tensor y = Tensor::from_shape({n, out_h, out_w, f});
  for (std::size_t b = 0; b < n; ++b)
    for (std::size_t oh = 0; oh < out_h; ++oh)
      for (std::size_t ow = 0; ow < out_w; ++ow)
        for (std::size_t o = 0; o < f; ++o) {
          double sum = bias(o);
          for (std::size_t kh = 0; kh < k; ++kh)
            for (std::size_t kw = 0; kw < k; ++kw) {
              const long ih = static_cast<long>(oh * stride + kh) - static_cast<long>(pad_top);
              const long iw = static_cast<long>(ow * stride + kw) - static_cast<long>(pad_left);
              if (ih < 0 || iw < 0 || ih >= static_cast<long>(h) || iw >= static_cast<long>(w)) continue;
              for (std::size_t ci = 0; ci < c; ++ci)
                sum += static_cast<double>(x(b, static_cast<std::size_t>(ih), static_cast<std::size_t>(iw), ci)) *
                       kernel(kh, kw, ci, o);
            }
          y(b, oh, ow, o) = static_cast<float>(sum);
        }
  return y;
}

struct ConvGradients {
  Tensor dx, dkernel;
};

// Gradients of L = Σ y · dy through the direct convolution above (bias gradient is just Σ dy).
inline ConvGradients naive_conv_backward(const Tensor& x, const Tensor& kernel, const Tensor& dy, std::size_t stride,
                                         std::size_t pad_top, std::size_t pad_left) {
  const std::size_t n = x.shape()[0], h = x.shape()[1], w = x.shape()[2], c = x.shape()[3];
  const std::size_t k = kernel.shape()[0], f = kernel.shape()[3], out_h = dy.shape()[1], out_w = dy.shape()[2];
  std::vector<double> dx(x.size(), 0.0), dkernel(kernel.size(), 0.0);
  for (std::size_t b = 0; b < n; ++b)
    for (std::size_t oh = 0; oh < out_h; ++oh)
      for (std::size_t ow = 0; ow < out_w; ++ow)
        for (std::size_t kh = 0; kh < k; ++kh)
          for (std::size_t kw = 0; kw < k; ++kw) {
            const long ih = static_cast<long>(oh * stride + kh) - static_cast<long>(pad_top);
            const long iw = static_cast<long>(ow * stride + kw) - static_cast<long>(pad_left);
            if (ih < 0 || iw < 0 || ih >= static_cast<long>(h) || iw >= static_cast<long>(w)) continue;
            const std::size_t x_at = ((b * h + static_cast<std::size_t>(ih)) * w + static_cast<std::size_t>(iw)) * c;
            for (std::size_t ci = 0; ci < c; ++ci)
              for (std::size_t o = 0; o < f; ++o) {
                const double g = dy(b, oh, ow, o);
                dx[x_at + ci] += g * kernel(kh, kw, ci, o);
                dkernel[((kh * k + kw) * c + ci) * f + o] += g * x.data()[x_at + ci];
              }
          }
  ConvGradients out{Tensor::from_shape(x.shape()), Tensor::from_shape(kernel.shape())};
  for (std::size_t i = 0; i < dx.size(); ++i) out.dx.data()[i] = static_cast<float>(dx[i]);
  for (std::size_t i = 0; i < dkernel.size(); ++i) out.dkernel.data()[i] = static_cast<float>(dkernel[i]);
  return out;
}

}  // namespace layer_reference
