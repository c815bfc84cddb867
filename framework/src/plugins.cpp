// Loads plugin libraries with dlopen and registers what they add, after checking they were built for this
// plugin interface (pipeline/plugin.hpp). A loaded plugin stays loaded: the registries hold its code.
#include "pipeline/plugins.hpp"

#include <dlfcn.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <mutex>
#include <vector>

#include "pipeline/plugin.hpp"
#include "pipeline/registry.hpp"
#include "pipeline/spec_registry.hpp"

namespace pipeline {
namespace {

struct LoadState {
  std::mutex mutex;
  std::map<std::string, void*> loaded;  // canonical path → handle
  bool loading = false;                 // a plugin's static initializers are running (dlopen)
  std::vector<std::string> static_registrations;
};

LoadState& state() {
  static LoadState s;
  return s;
}

bool is_file(const std::filesystem::path& p) {
  std::error_code ec;
  return std::filesystem::is_regular_file(p, ec);
}

// A path as written, or a bare name looked up in $PIPELINE_PLUGIN_PATH, then the working directory.
std::filesystem::path resolve(const PluginRef& ref) {
  if (ref.name.empty()) throw ConfigError(ref.where, "", "plugins: an empty name");
  if (ref.name.find('/') != std::string::npos) return ref.name;
  std::vector<std::string> folders;
  if (const char* path = std::getenv("PIPELINE_PLUGIN_PATH"))
    for (std::string rest = path; !rest.empty();) {
      const auto colon = rest.find(':');
      if (colon != 0) folders.push_back(rest.substr(0, colon));
      rest = colon == std::string::npos ? "" : rest.substr(colon + 1);
    }
  folders.push_back(".");
  std::string looked;
  for (const auto& folder : folders)
    for (const std::string& file : {"lib" + ref.name + ".so", ref.name + ".so", ref.name}) {
      const std::filesystem::path candidate = std::filesystem::path(folder) / file;
      if (is_file(candidate)) return candidate;
    }
  for (const auto& folder : folders) looked += (looked.empty() ? "" : ", ") + folder;
  throw ConfigError(ref.where, "", "plugin '" + ref.name + "' not found: no lib" + ref.name + ".so or " + ref.name +
                                       ".so in " + looked + " ($PIPELINE_PLUGIN_PATH, then the working directory)");
}

class Registrar : public PluginRegistrar {
 public:
  Registrar(std::string path, SourceLocation where) : path_(std::move(path)), where_(std::move(where)) {}
  void add_stage(StageSpec spec) override {
    if (Registry::instance().find(spec.type) != nullptr) refuse("stage", spec.type);
    spec.origin = path_;
    Registry::instance().add(std::move(spec));
  }

 protected:
  [[noreturn]] void refuse(const std::string& kind, const std::string& type) override {
    const StageSpec* existing = kind == "stage" ? Registry::instance().find(type) : nullptr;
    const std::string owner = existing == nullptr      ? "exists already"
                              : existing->origin.empty() ? "is built in"
                                                         : "comes from plugin " + existing->origin;
    throw ConfigError(where_, "", "plugin " + path_ + " adds the " + kind + " type '" + type + "', which " + owner +
                                      "; rename the plugin's type");
  }

 private:
  std::string path_;
  SourceLocation where_;
};

template <class Function>
Function symbol(void* handle, const char* name) {
  return reinterpret_cast<Function>(dlsym(handle, name));
}

// dlopen, with static registrations held back (they would bypass the interface check).
void* open_library(const std::string& path, const SourceLocation& where) {
  LoadState& s = state();
  s.loading = true;
  s.static_registrations.clear();
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  s.loading = false;
  if (handle == nullptr)
    throw ConfigError(where, "", "plugin " + path + " cannot be loaded: " + std::string(dlerror()) +
                                     " (a plugin must be built against this pipeline " + PIPELINE_SDK_VERSION +
                                     "'s SDK, and loaded by the pipeline executable)");
  if (!s.static_registrations.empty()) {
    dlclose(handle);
    throw ConfigError(where, "", "plugin " + path + " registers '" + s.static_registrations.front() +
                                     "' as it loads (PIPELINE_REGISTER_...): a plugin registers through "
                                     "PIPELINE_PLUGIN(function), so that its interface is checked first");
  }
  return handle;
}

void load_one(const PluginRef& ref) {
  const std::filesystem::path path = resolve(ref);
  std::error_code ec;
  const std::filesystem::path canonical = std::filesystem::canonical(path, ec);
  if (ec) throw ConfigError(ref.where, "", "plugin " + path.string() + ": " + ec.message());
  if (!is_file(canonical)) throw ConfigError(ref.where, "", "plugin " + path.string() + " is not a regular file");
  LoadState& s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  if (s.loaded.count(canonical.string())) return;  // loading a plugin twice is harmless
  void* handle = open_library(canonical.string(), ref.where);
  const auto interface = symbol<int (*)()>(handle, "pipeline_plugin_interface");
  const auto built_with = symbol<const char* (*)()>(handle, "pipeline_plugin_built_with");
  const auto register_all = symbol<void (*)(PluginRegistrar&)>(handle, "pipeline_plugin_register");
  if (interface == nullptr || built_with == nullptr || register_all == nullptr) {
    dlclose(handle);
    throw ConfigError(ref.where, "", path.string() + " is not a pipeline plugin (it exports no "
                                     "pipeline_plugin_interface; a plugin ends with PIPELINE_PLUGIN(function), see "
                                     "pipeline/plugin.hpp)");
  }
  if (interface() != PIPELINE_PLUGIN_INTERFACE) {
    const std::string theirs = std::to_string(interface()) + " (pipeline " + built_with() + ")";
    dlclose(handle);
    throw ConfigError(ref.where, "", "plugin " + path.string() + " was built for plugin interface " + theirs +
                                         ", but this pipeline " + PIPELINE_SDK_VERSION + " offers interface " +
                                         std::to_string(PIPELINE_PLUGIN_INTERFACE) +
                                         ": rebuild the plugin against this version's SDK");
  }
  s.loaded.emplace(canonical.string(), handle);
  Registrar registrar(canonical.string(), ref.where);
  register_all(registrar);
}

}  // namespace

bool registering_during_plugin_load(const std::string& type) {
  LoadState& s = state();
  if (!s.loading) return false;
  s.static_registrations.push_back(type);
  return true;
}

void load_plugins(const std::vector<PluginRef>& plugins) {
  for (const auto& ref : plugins) load_one(ref);
}

int plugin_interface() { return PIPELINE_PLUGIN_INTERFACE; }

}  // namespace pipeline
