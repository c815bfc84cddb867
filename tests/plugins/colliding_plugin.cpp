// A plugin that adds a stage type the framework has already: `scale`.
#include "pipeline/plugin.hpp"
#include "tiny_stage.hpp"

static void register_plugin(pipeline::PluginRegistrar& r) { r.add_stage(test_plugins::pass_through_spec("scale")); }
PIPELINE_PLUGIN(register_plugin)
