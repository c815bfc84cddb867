// libFuzzer target: any bytes as a checkpoint give a checkpoint or a CheckpointError, nothing else.
#include <cstdint>
#include <vector>

#include "model/nn/checkpoint.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    nn::decode_checkpoint(std::vector<std::uint8_t>(data, data + size), "fuzz.ckpt");
  } catch (const nn::CheckpointError&) {
  }
  return 0;
}
