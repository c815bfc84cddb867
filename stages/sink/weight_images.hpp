#pragma once
// A layer's weights as greyscale images, the way Keras' TensorBoard callback shows them with write_images: a bias
// as a column, a dense kernel as one image (wider than tall), and a conv kernel as its filters side by side. Keras
// draws a conv kernel only with one input channel; here a conv kernel with C inputs is a grid, a row per input
// channel and a column per filter. Values map to grey around mid-grey (0 is grey 128, the largest magnitude
// black or white), as TensorFlow 1's image summary scaled signed data; small kernels are enlarged (nearest pixel)
// so that every cell is at least kMinCellPixels wide.
#include <cstdint>
#include <string>
#include <vector>

#include "model/model_record.hpp"

namespace stages {

struct WeightImage {
  std::string tag;  // e.g. "conv2d/kernel_0/image", Keras' tag for the weight conv2d/kernel:0
  std::uint32_t width = 0, height = 0;
  std::vector<std::uint8_t> pixels;  // row-major, one byte per pixel
};

inline constexpr std::uint32_t kMinCellPixels = 16;

// One image per parameter of every layer.
std::vector<WeightImage> weight_images(const ModelRecord& model, const WeightsSnapshot& weights);
// The tag TensorBoard shows for a parameter, as Keras names it: "<layer>/<parameter>_0".
std::string weight_tag(const LayerRecord& layer, const ParameterRecord& parameter);

}  // namespace stages
