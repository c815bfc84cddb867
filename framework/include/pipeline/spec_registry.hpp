#pragma once
// Specs by type name, for whatever a config names by `type` besides stages (a model's layers, optimizers and
// schedules): each registers itself with one line beside its class, and the registry is the only list of them.
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace pipeline {

// While a plugin library loads, registrations from its static initializers are held back (recorded, not added):
// a plugin registers through PIPELINE_PLUGIN, after the loader has checked its interface (pipeline/plugins.hpp).
bool registering_during_plugin_load(const std::string& type);

template <class Spec>
class SpecRegistry {
 public:
  static SpecRegistry& instance() {
    static SpecRegistry registry;
    return registry;
  }
  // Returns true so it can initialise a static. A second spec of the same type is a programming error.
  bool add(Spec spec) {
    const std::string type = spec.type;
    if (registering_during_plugin_load(type)) return true;
    if (!specs_.emplace(type, std::move(spec)).second) throw std::logic_error("'" + type + "' registered twice");
    return true;
  }
  const Spec* find(const std::string& type) const {
    auto it = specs_.find(type);
    return it == specs_.end() ? nullptr : &it->second;
  }
  std::vector<const Spec*> all() const {  // sorted by type name
    std::vector<const Spec*> out;
    for (const auto& [type, spec] : specs_) out.push_back(&spec);
    return out;
  }
  std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (const auto& [type, spec] : specs_) out.push_back(type);
    return out;
  }

 private:
  std::map<std::string, Spec> specs_;
};

}  // namespace pipeline

#define PIPELINE_SPEC_CONCAT_INNER(a, b) a##b
#define PIPELINE_SPEC_CONCAT(a, b) PIPELINE_SPEC_CONCAT_INNER(a, b)
// One line beside a class registers its spec: PIPELINE_REGISTER_SPEC(::nn::LayerRegistry, dense_spec());
#define PIPELINE_REGISTER_SPEC(registry, spec_expression)                          \
  namespace {                                                                      \
  [[maybe_unused]] const bool PIPELINE_SPEC_CONCAT(pipeline_registered_spec_, __LINE__) = \
      registry::instance().add(spec_expression);                                   \
  }
