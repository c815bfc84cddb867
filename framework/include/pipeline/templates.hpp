#pragma once
// Starter configs for `pipeline init TEMPLATE`: registered by whoever provides the stages they use (the framework
// knows no stage), listed by `pipeline init --list`.
#include <string>
#include <vector>

namespace pipeline {

struct ConfigTemplate {
  std::string name;     // e.g. "classifier"
  std::string summary;  // one line for the listing
  std::string text;     // the commented YAML, valid as written
};

bool add_config_template(ConfigTemplate config_template);
const std::vector<ConfigTemplate>& config_templates();

}  // namespace pipeline
