#pragma once
// NumPy .npy files (format versions 1.0-3.0), checked before anything is trusted: the magic, the header's
// dictionary (descr, fortran_order, shape), a dtype we read, and exactly as many data bytes as the shape needs. The
// checked bytes are then read by xtensor's own xt::load_npy.
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include <xtensor/xarray.hpp>

namespace stages {

class NpyError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct NpyHeader {
  std::string descr;  // e.g. "<f4", "|u1"
  std::vector<std::size_t> shape;
  std::size_t data_offset = 0;
  std::size_t item_size = 0;
  std::size_t count = 0;  // product of the shape
};

// `name` starts every message. Rejects big-endian data, Fortran order and a size that does not match the shape.
NpyHeader parse_npy_header(const std::string& bytes, const std::string& name);

// Images (N, H, W) or (N, H, W, C), uint8 or float32. Exactly one of the arrays holds the values; the shape is
// always (N, H, W, C).
struct NpyImages {
  std::vector<std::size_t> shape;
  xt::xarray<std::uint8_t> bytes;
  xt::xarray<float> floats;
  bool uint8 = false;
  bool is_uint8() const { return uint8; }
};

NpyImages parse_npy_images(const std::string& file_bytes, const std::string& name);
// Labels (N,) of any integer dtype, each in 0..classes-1.
std::vector<int> parse_npy_labels(const std::string& file_bytes, const std::string& name, int classes);

// The file's bytes, read as every data file is (pipeline::read_regular_file: no FIFO or device, a size limit).
std::string read_npy_file(const std::string& path);

}  // namespace stages
