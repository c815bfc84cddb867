// libFuzzer target: any text as a config, loaded and validated with every stage registered, gives a
// pipeline or a ConfigError, nothing else (no other exception, crash, hang or huge allocation).
#include <cstdint>
#include <string>

#include "pipeline/pipeline.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    pipeline::Pipeline::build(pipeline::parse_config(text, "fuzz.yaml"));
  } catch (const pipeline::ConfigError&) {
  }
  return 0;
}
