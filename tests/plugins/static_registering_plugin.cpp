// A plugin that registers as it loads (a static initializer) instead of through PIPELINE_PLUGIN.
#include "pipeline/plugin.hpp"
#include "tiny_stage.hpp"

PIPELINE_REGISTER_STAGE(test_plugins::pass_through_spec("registered_too_early"))
static void register_plugin(pipeline::PluginRegistrar&) {}
PIPELINE_PLUGIN(register_plugin)
