#include "pipeline/error.hpp"

#include <new>

#include <cxxabi.h>

#include <cstdlib>
#include <memory>

#include "pipeline/payload.hpp"

namespace pipeline {

std::string SourceLocation::str() const {
  std::string out = file.empty() ? std::string("<config>") : file;
  if (line > 0) {
    out += ":" + std::to_string(line);
    if (column > 0) out += ":" + std::to_string(column);
  }
  return out;
}

static std::string config_error_text(const SourceLocation& where, const std::string& stage,
                                     const std::string& message) {
  std::string out = where.str() + ": ";
  if (!stage.empty()) out += "stage '" + stage + "': ";
  return out + message;
}

ConfigError::ConfigError(SourceLocation where, std::string stage, const std::string& message)
    : std::runtime_error(config_error_text(where, stage, message)),
      where_(std::move(where)),
      stage_(std::move(stage)),
      message_(message) {}

StageError::StageError(std::string stage, const std::string& message)
    : std::runtime_error("stage '" + stage + "': " + message), stage_(std::move(stage)), message_(message) {}

std::string demangle(const std::type_info& type) {
  int status = 0;
  std::unique_ptr<char, void (*)(void*)> name(abi::__cxa_demangle(type.name(), nullptr, nullptr, &status),
                                              std::free);
  return status == 0 && name ? std::string(name.get()) : std::string(type.name());
}

std::string describe_exception(const std::exception& e) {
  if (dynamic_cast<const std::bad_array_new_length*>(&e) != nullptr)
    return "out of memory: a size too large to allocate was asked for (a corrupt size or a setting far too big)";
  if (dynamic_cast<const std::bad_alloc*>(&e) != nullptr)
    return "out of memory: an allocation failed (lower the batch size or the model's size, or free memory)";
  return e.what();
}

}  // namespace pipeline
