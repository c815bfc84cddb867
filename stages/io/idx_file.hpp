#pragma once
// Reading IDX files (the MNIST format), gzipped or raw, without trusting anything in them.
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace stages {

struct IdxArray {
  std::vector<std::uint32_t> dims;
  std::vector<std::uint8_t> data;  // unsigned bytes, row-major
  std::vector<std::string> warnings;  // read, but not as written (e.g. gzip's trailing garbage)
};

class IdxError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Parses the bytes of an IDX file (gzip detected by its magic bytes). `name` prefixes every error.
// Only unsigned-byte data (type 0x08) is accepted; `expected_dims` is checked when non-zero.
IdxArray parse_idx(const std::vector<std::uint8_t>& file_bytes, const std::string& name, std::size_t expected_dims);
IdxArray read_idx_file(const std::string& path, std::size_t expected_dims);

}  // namespace stages
