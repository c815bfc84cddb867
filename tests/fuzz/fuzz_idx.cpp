// libFuzzer target: any bytes as an IDX file (raw or gzip) give an array or an IdxError, nothing else.
#include <cstdint>
#include <vector>

#include "io/idx_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::vector<std::uint8_t> bytes(data, data + size);
  for (std::size_t dims : {0, 1, 3}) {
    try {
      stages::parse_idx(bytes, "fuzz.idx", dims);
    } catch (const stages::IdxError&) {
    }
  }
  return 0;
}
