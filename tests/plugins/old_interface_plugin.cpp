// A plugin "built against another version": its interface number is not the framework's.
#define PIPELINE_PLUGIN_INTERFACE 0
#include "pipeline/plugin.hpp"
#include "tiny_stage.hpp"

static void register_plugin(pipeline::PluginRegistrar& r) { r.add_stage(test_plugins::pass_through_spec("from_old_sdk")); }
PIPELINE_PLUGIN(register_plugin)
