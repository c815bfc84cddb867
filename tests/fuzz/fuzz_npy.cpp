// libFuzzer target: any bytes as a .npy file of images or of labels give arrays or an NpyError, nothing else.
#include <cstdint>
#include <string>

#include "io/npy_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  try {
    stages::parse_npy_images(bytes, "fuzz.npy");
  } catch (const stages::NpyError&) {
  }
  try {
    stages::parse_npy_labels(bytes, "fuzz.npy", 10);
  } catch (const stages::NpyError&) {
  }
  return 0;
}
