#pragma once
// Checkpoint files: weights, optimizer state and training position, versioned and checksummed.
//
// Layout (little-endian), version 2:
//   8 bytes  magic "PLNCKPT1"
//   u32      format version (2)
//   u32      header length H, then H bytes of text "key=value" lines (architecture, optimizer)
//   u64 × 4  training position: epochs done (over every run), epochs done by the run that saved it, seed, optimizer
//            iterations; then u32 count B and B records of the epoch in progress (f64 loss, u64 correct, f64 rate)
//   u32      tensor count T, then T times:
//              u32 name length, name bytes, u32 rank, rank × u64 dimensions, float32 values
//   u32      CRC-32 (zlib) of every byte before it
// Files are written atomically (common/output_file.hpp): a crash leaves the old file or the new one. Format 1
// (before the training position became structured) is refused with a message that says so.
#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "model/nn/tensor.hpp"

namespace nn {

// One trained batch's outcome, kept for an interrupted epoch so that a resumed run reports it again exactly.
struct BatchRecord {
  double loss = 0;
  std::uint64_t correct = 0;
  double learning_rate = 0;
  bool operator==(const BatchRecord& o) const {
    return loss == o.loss && correct == o.correct && learning_rate == o.learning_rate;
  }
};

struct TrainingPosition {
  std::uint64_t epochs_done = 0;      // over every run that trained this model
  std::uint64_t run_epochs_done = 0;  // by the run that saved it
  std::uint64_t seed = 0;
  std::uint64_t iterations = 0;            // optimizer steps
  std::vector<BatchRecord> partial_epoch;  // train batches of the epoch in progress
};

struct Checkpoint {
  std::map<std::string, std::string> header;
  TrainingPosition position;
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
