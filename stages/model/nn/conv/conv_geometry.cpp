#include "model/nn/conv/conv_geometry.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace nn {

namespace {
std::size_t same_padding(std::size_t in, std::size_t out, std::size_t kernel, std::size_t stride) {
  const auto needed = static_cast<std::ptrdiff_t>((out - 1) * stride + kernel) - static_cast<std::ptrdiff_t>(in);
  return static_cast<std::size_t>(std::max<std::ptrdiff_t>(0, needed));
}
}  // namespace

ConvGeometry conv_geometry(const Shape& input, std::size_t filters, std::size_t kernel, std::size_t stride,
                           Padding padding) {
  if (input.size() != 3)
    throw std::invalid_argument("conv2d needs an input of shape (height, width, channels), got " + shape_string(input));
  if (filters == 0 || kernel == 0 || stride == 0)
    throw std::invalid_argument("conv2d filters, kernel and stride must be positive");
  ConvGeometry g{input[0], input[1], input[2], filters, 0, 0, 0, 0, kernel, stride};
  if (padding == Padding::Same) {
    g.out_h = (g.in_h + stride - 1) / stride;
    g.out_w = (g.in_w + stride - 1) / stride;
    g.pad_top = same_padding(g.in_h, g.out_h, kernel, stride) / 2;
    g.pad_left = same_padding(g.in_w, g.out_w, kernel, stride) / 2;
    return g;
  }
  if (kernel > g.in_h || kernel > g.in_w)
    throw std::invalid_argument("conv2d kernel " + std::to_string(kernel) + " is larger than its input " +
                                shape_string(input) + " with padding 'valid'");
  g.out_h = (g.in_h - kernel) / stride + 1;
  g.out_w = (g.in_w - kernel) / stride + 1;
  return g;
}

}  // namespace nn
