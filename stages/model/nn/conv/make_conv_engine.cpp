// The one place that decides how a convolution computes (the `auto` rule of conv2d's `algorithm` option).
#include <stdexcept>
#include <string>

#include "model/nn/conv/conv_engine.hpp"
#include "model/nn/conv/direct_conv.hpp"
#include "model/nn/conv/im2col_conv.hpp"
#include "model/nn/conv/winograd_conv.hpp"

namespace nn {

namespace {
// With few input channels Winograd's per-tile transforms cost more than the multiplies they save (LeNet's conv1,
// one channel: 2.3x slower than im2col; bench/README.md).
constexpr std::size_t kWinogradMinChannels = 8;
// The direct kernel keeps a row of outputs in registers: up to 48 filters (LeNet's conv1: 20).
constexpr std::size_t kDirectMaxFilters = 48;
}  // namespace

std::unique_ptr<ConvEngine> make_conv_engine(const ConvGeometry& g, ConvAlgorithm algorithm) {
  const bool winograd_fits = g.kernel == 5 && g.stride == 1;
  if (algorithm == ConvAlgorithm::Winograd && !winograd_fits)
    throw std::invalid_argument("conv2d algorithm 'winograd' needs kernel 5 and stride 1, got kernel " +
                                std::to_string(g.kernel) + " and stride " + std::to_string(g.stride));
  if (algorithm == ConvAlgorithm::Winograd || (algorithm == ConvAlgorithm::Auto && winograd_fits &&
                                               g.in_c >= kWinogradMinChannels))
    return std::make_unique<WinogradConv>(g, simd::kernels());
  if (algorithm == ConvAlgorithm::Auto && g.filters <= kDirectMaxFilters)
    return std::make_unique<DirectConv>(g, simd::kernels());
  return std::make_unique<Im2colConv>(g);
}

}  // namespace nn
