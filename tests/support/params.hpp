#pragma once
// Params for a registered stage type from a YAML map, as the config loader would resolve them.
#include <string>

#include "pipeline/registry.hpp"

inline pipeline::Params params_for(const std::string& type, const std::string& yaml) {
  const auto* spec = pipeline::Registry::instance().find(type);
  if (!spec) throw std::logic_error("no stage type " + type);
  std::map<std::string, pipeline::ParamEntry> given;
  YAML::Node node = YAML::Load(yaml.empty() ? "{}" : yaml);
  for (const auto& kv : node) given[kv.first.as<std::string>()] = pipeline::ParamEntry{kv.second, {"t.yaml", 1, 1}};
  return pipeline::resolve_params(spec->params, "s", "t.yaml", given, {"t.yaml", 1, 1});
}
