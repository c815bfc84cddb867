#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace stages {

// Encodes an 8-bit greyscale image (row-major) as PNG bytes with libpng.
std::string encode_png_gray(const std::uint8_t* pixels, std::uint32_t width, std::uint32_t height);
std::string base64(const std::string& bytes);

struct DecodedImage {
  std::uint32_t width = 0, height = 0;
  std::vector<std::uint8_t> pixels;  // row-major, `channels` bytes per pixel
};
// Any PNG (palette, grey, RGB, 16-bit, with alpha: composited on black) as 8-bit grey (channels 1) or RGB (3), with
// libpng's simplified API. std::runtime_error with libpng's reason for bytes that are not a readable PNG.
DecodedImage decode_png(const std::string& bytes, int channels);

}  // namespace stages
