#include "pipeline/version.hpp"

#include <algorithm>

#ifndef PIPELINE_VERSION
#define PIPELINE_VERSION "dev"
#endif

namespace pipeline {

namespace {
struct Provider {
  std::function<std::string()> line;
  std::string stage_type;
};
std::vector<Provider>& providers() {
  static std::vector<Provider> lines;
  return lines;
}
}  // namespace

std::string version() { return PIPELINE_VERSION; }

bool add_version_line(std::function<std::string()> line, std::string stage_type) {
  providers().push_back(Provider{std::move(line), std::move(stage_type)});
  return true;
}

std::vector<std::string> version_lines() {
  std::vector<std::string> out;
  for (const auto& p : providers()) out.push_back(p.line());
  return out;
}

std::vector<std::string> version_lines(const std::vector<std::string>& stage_types) {
  std::vector<std::string> out;
  for (const auto& p : providers())
    if (p.stage_type.empty() || std::find(stage_types.begin(), stage_types.end(), p.stage_type) != stage_types.end())
      out.push_back(p.line());
  return out;
}

}  // namespace pipeline
