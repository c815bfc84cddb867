#pragma once
// Writing a plugin: a shared library of stages (and layers, optimizers, schedules) that `pipeline` loads at run
// time when a config names it (`plugins: [path/libmy_stages.so]`) or `--plugin PATH` does. Its registrations go
// through one exported function, called only after the loader has checked that the plugin was built against this
// interface, so a plugin built for another version never touches the registries:
//
//   static void register_plugin(pipeline::PluginRegistrar& r) {
//     r.add_stage(my_stage_spec());                                  // a stage type
//     r.add(nn::LayerRegistry::instance(), my_layer_spec(), "layer");  // a layer type (any SpecRegistry)
//   }
//   PIPELINE_PLUGIN(register_plugin)
//
// Build it with the installed SDK: find_package(pipeline) and pipeline_add_plugin(my_stages my_stage.cpp).
// The plugin links no copy of the framework: its calls resolve to the `pipeline` executable that loads it.
#include <string>
#include <utility>

#include "pipeline/registry.hpp"
#include "pipeline/sdk_version.hpp"

// The plugin interface: bumped whenever a type a plugin shares with the framework changes its layout or meaning
// (2: Payload::take and Transform::apply_moved; 3: Transform::prefetch, and payloads and sample tensors in payload
// memory, which a plugin built before would free with the wrong allocator; 4: nn::Layer::predicts_by_slices, a new
// virtual function in a layer's vtable; 5: nn::Dense and nn::MaxPool2D hold more members; 6:
// nn::Layer::predicts_concurrently, and nn::Sequential, nn::BatchNorm, nn::Dropout hold other members).
// (Overridable only so that the tests can build a plugin "for another version".)
#ifndef PIPELINE_PLUGIN_INTERFACE
#define PIPELINE_PLUGIN_INTERFACE 6
#endif

namespace pipeline {

class PluginRegistrar {
 public:
  virtual ~PluginRegistrar() = default;
  virtual void add_stage(StageSpec spec) = 0;
  // A spec for another registry (nn::LayerRegistry, OptimizerRegistry, ScheduleRegistry); `kind` names it in
  // messages. A type that is already registered is an error.
  template <class Registry, class Spec>
  void add(Registry& registry, Spec spec, const std::string& kind) {
    if (registry.find(spec.type) != nullptr) refuse(kind, spec.type);
    registry.add(std::move(spec));
  }

 protected:
  [[noreturn]] virtual void refuse(const std::string& kind, const std::string& type) = 0;
};

}  // namespace pipeline

#define PIPELINE_PLUGIN(register_function)                                                                      \
  extern "C" __attribute__((visibility("default"))) int pipeline_plugin_interface() {                           \
    return PIPELINE_PLUGIN_INTERFACE;                                                                            \
  }                                                                                                              \
  extern "C" __attribute__((visibility("default"))) const char* pipeline_plugin_built_with() {                  \
    return PIPELINE_SDK_VERSION;                                                                                 \
  }                                                                                                              \
  extern "C" __attribute__((visibility("default"))) void pipeline_plugin_register(::pipeline::PluginRegistrar& r) { \
    register_function(r);                                                                                        \
  }
