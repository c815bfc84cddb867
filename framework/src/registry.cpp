#include "pipeline/registry.hpp"

#include <stdexcept>

namespace pipeline {

std::string to_string(StageKind kind) {
  switch (kind) {
    case StageKind::Source: return "source";
    case StageKind::Transform: return "transform";
    case StageKind::Processor: return "processor";
  }
  return "?";
}

Registry& Registry::instance() {
  static Registry registry;
  return registry;
}

bool Registry::add(StageSpec spec) {
  if (registering_during_plugin_load(spec.type)) return true;
  if (spec.type.empty() || !spec.create) throw std::logic_error("stage spec needs a type and a factory");
  if (specs_.count(spec.type)) throw std::logic_error("stage type '" + spec.type + "' registered twice");
  if (spec.kind == StageKind::Source && !spec.input.empty())
    throw std::logic_error("source stage '" + spec.type + "' cannot declare an input type");
  if (spec.kind != StageKind::Source && spec.input.empty())
    throw std::logic_error("stage '" + spec.type + "' must declare an input type");
  if (spec.kind != StageKind::Processor && spec.output.empty())
    throw std::logic_error("stage '" + spec.type + "' must declare an output type");
  std::string type = spec.type;
  specs_.emplace(type, std::move(spec));
  return true;
}

const StageSpec* Registry::find(const std::string& type) const {
  auto it = specs_.find(type);
  return it == specs_.end() ? nullptr : &it->second;
}

std::vector<const StageSpec*> Registry::all() const {
  std::vector<const StageSpec*> out;
  for (const auto& [name, spec] : specs_) out.push_back(&spec);
  return out;
}

std::vector<std::string> Registry::names() const {
  std::vector<std::string> out;
  for (const auto& [name, spec] : specs_) out.push_back(name);
  return out;
}

}  // namespace pipeline
