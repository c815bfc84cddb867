#pragma once
// Checkpoint files: weights, optimizer state and training position, versioned and checksummed.
//
// Layout (little-endian), version 1:
//   8 bytes  magic "PLNCKPT1"
//   u32      format version (1)
//   u32      header length H, then H bytes of text "key=value" lines (architecture, epoch, optimizer, ...)
//   u32      tensor count T, then T times:
//              u32 name length, name bytes, u32 rank, rank × u64 dimensions, float32 values
//   u32      CRC-32 (zlib) of every byte before it
// Files are written atomically (common/output_file.hpp): a crash leaves the old file or the new one.
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "model/nn/tensor.hpp"

namespace nn {

struct Checkpoint {
  std::map<std::string, std::string> header;
  std::vector<std::pair<std::string, Tensor>> tensors;
  const Tensor* find(const std::string& name) const;
};

class CheckpointError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

std::vector<std::uint8_t> encode_checkpoint(const Checkpoint& checkpoint);
Checkpoint decode_checkpoint(const std::vector<std::uint8_t>& bytes, const std::string& name);
void save_checkpoint(const Checkpoint& checkpoint, const std::string& path);
Checkpoint load_checkpoint(const std::string& path);

}  // namespace nn
