#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace stages {

// Encodes an 8-bit greyscale image (row-major) as PNG bytes with libpng.
std::string encode_png_gray(const std::uint8_t* pixels, std::uint32_t width, std::uint32_t height);
std::string base64(const std::string& bytes);

}  // namespace stages
