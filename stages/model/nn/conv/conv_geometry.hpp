#pragma once
// The shape arithmetic of a 2-D convolution over NHWC images.
#include <cstddef>

#include "model/nn/tensor.hpp"

namespace nn {

enum class Padding { Same, Valid };

struct ConvGeometry {
  std::size_t in_h, in_w, in_c, filters, out_h, out_w, pad_top, pad_left;
  std::size_t kernel = 5, stride = 1;
  std::size_t in_size() const { return in_h * in_w * in_c; }  // floats of one input image
  std::size_t out_pixels() const { return out_h * out_w; }
  std::size_t patch() const { return kernel * kernel * in_c; }  // one output pixel's taps
};

// Output size and padding for an (h, w, c) input: 'same' as TensorFlow/Keras (output ceil(in / stride), the extra
// padding pixel at the bottom/right), 'valid' without padding. std::invalid_argument for what cannot be computed.
ConvGeometry conv_geometry(const Shape& input, std::size_t filters, std::size_t kernel, std::size_t stride,
                           Padding padding);

// The direct convolution's operations per image: one product (the forward pass), and in training the kernel
// gradient too, and dL/dx when input_gradient.
inline double direct_forward_flops(const ConvGeometry& g) {
  return 2.0 * static_cast<double>(g.out_pixels() * g.patch() * g.filters);
}
inline double direct_training_flops(const ConvGeometry& g, bool input_gradient) {
  return direct_forward_flops(g) * (input_gradient ? 3 : 2);
}

}  // namespace nn
