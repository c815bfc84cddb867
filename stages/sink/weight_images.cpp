#include "sink/weight_images.hpp"

#include <algorithm>
#include <cmath>

namespace stages {
namespace {

std::uint8_t grey(float v, float scale) {
  const float g = 127.5f + 127.5f * (scale > 0 ? v / scale : 0.0f);
  return static_cast<std::uint8_t>(std::clamp(std::lround(g), 0L, 255L));
}

float largest_magnitude(const std::vector<float>& values) {
  float m = 0;
  for (float v : values) m = std::isfinite(v) ? std::max(m, std::fabs(v)) : m;
  return m;
}

// rows x cols cells of cell_h x cell_w values each, value(row, col, y, x); 1-pixel white lines between cells.
template <class Value>
WeightImage grid(std::size_t rows, std::size_t cols, std::size_t cell_h, std::size_t cell_w, Value value) {
  const std::size_t zoom = std::max<std::size_t>(1, (kMinCellPixels + std::max(cell_h, cell_w) - 1) / std::max(cell_h, cell_w));
  const std::size_t gap = rows * cols > 1 ? 1 : 0;
  WeightImage image;
  image.width = static_cast<std::uint32_t>(cols * cell_w * zoom + (cols - 1) * gap);
  image.height = static_cast<std::uint32_t>(rows * cell_h * zoom + (rows - 1) * gap);
  image.pixels.assign(std::size_t{image.width} * image.height, 255);
  for (std::size_t py = 0; py < image.height; ++py) {
    const std::size_t row = py / (cell_h * zoom + gap), y = (py % (cell_h * zoom + gap)) / zoom;
    if (y >= cell_h) continue;  // a separating line
    for (std::size_t px = 0; px < image.width; ++px) {
      const std::size_t col = px / (cell_w * zoom + gap), x = (px % (cell_w * zoom + gap)) / zoom;
      if (x < cell_w) image.pixels[py * image.width + px] = value(row, col, y, x);
    }
  }
  return image;
}

WeightImage image_of(const ParameterRecord& p, const std::vector<float>& w) {
  const float scale = largest_magnitude(w);
  const nn::Shape& s = p.shape;
  if (s.size() == 4) {  // (kh, kw, in, out): row = input channel, column = filter
    const std::size_t kh = s[0], kw = s[1], in = s[2], out = s[3];
    return grid(in, out, kh, kw, [&](std::size_t c, std::size_t f, std::size_t y, std::size_t x) {
      return grey(w[((y * kw + x) * in + c) * out + f], scale);
    });
  }
  if (s.size() == 2) {  // (in, out), drawn with the longer side across as Keras does
    const std::size_t in = s[0], out = s[1];
    const bool transpose = in > out;
    return grid(1, 1, transpose ? out : in, transpose ? in : out, [&](std::size_t, std::size_t, std::size_t y, std::size_t x) {
      return grey(transpose ? w[x * out + y] : w[y * out + x], scale);
    });
  }
  // A vector (bias, batch_norm's gamma and beta): a column, as Keras reshapes it to (n, 1).
  return grid(1, 1, w.size(), 1, [&](std::size_t, std::size_t, std::size_t y, std::size_t) { return grey(w[y], scale); });
}

}  // namespace

std::string weight_tag(const LayerRecord& layer, const ParameterRecord& parameter) {
  return layer.name + "/" + parameter.name + "_0";
}

std::vector<WeightImage> weight_images(const ModelRecord& model, const WeightsSnapshot& weights) {
  std::vector<WeightImage> images;
  std::size_t k = 0;
  for (const LayerRecord& layer : model.layers())
    for (const ParameterRecord& p : layer.parameters) {
      if (k >= weights.values.size()) return images;
      WeightImage image = image_of(p, weights.values[k++]);
      image.tag = weight_tag(layer, p) + "/image";
      images.push_back(std::move(image));
    }
  return images;
}

}  // namespace stages
