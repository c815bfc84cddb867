#pragma once
// Loading plugins (see pipeline/plugin.hpp for writing one). A config's `plugins:` list and `--plugin PATH` name
// them: a path (relative to the working directory, as data paths are), or a bare name looked up as lib<name>.so
// or <name>.so in the folders of $PIPELINE_PLUGIN_PATH (colon-separated), then in the working directory.
#include <string>
#include <vector>

#include "pipeline/error.hpp"

namespace pipeline {

struct PluginRef {
  std::string name;     // as written
  SourceLocation where;  // the config line, or "--plugin NAME"
};

// Loads each plugin once (loading one again is harmless) and registers what it adds. Throws ConfigError at the
// plugin's `where` when the file is missing, is not a plugin, was built for another plugin interface, or adds a
// type that already exists.
void load_plugins(const std::vector<PluginRef>& plugins);

// The interface this framework offers plugins (PIPELINE_PLUGIN_INTERFACE).
int plugin_interface();

}  // namespace pipeline
