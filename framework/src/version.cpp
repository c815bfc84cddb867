#include "pipeline/version.hpp"

#ifndef PIPELINE_VERSION
#define PIPELINE_VERSION "dev"
#endif

namespace pipeline {

namespace {
std::vector<std::function<std::string()>>& providers() {
  static std::vector<std::function<std::string()>> lines;
  return lines;
}
}  // namespace

std::string version() { return PIPELINE_VERSION; }

bool add_version_line(std::function<std::string()> line) {
  providers().push_back(std::move(line));
  return true;
}

std::vector<std::string> version_lines() {
  std::vector<std::string> out;
  for (const auto& p : providers()) out.push_back(p());
  return out;
}

}  // namespace pipeline
