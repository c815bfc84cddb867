#include "pipeline/templates.hpp"

namespace pipeline {

namespace {
std::vector<ConfigTemplate>& registry() {
  static std::vector<ConfigTemplate> templates;
  return templates;
}
}  // namespace

bool add_config_template(ConfigTemplate config_template) {
  registry().push_back(std::move(config_template));
  return true;
}

const std::vector<ConfigTemplate>& config_templates() { return registry(); }

}  // namespace pipeline
