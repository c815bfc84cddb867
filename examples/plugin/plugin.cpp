// The plugin's entry point: `pipeline` calls register_plugin once it has checked that the library was built for
// its plugin interface.
#include "pipeline/plugin.hpp"
#include "specs.hpp"

static void register_plugin(pipeline::PluginRegistrar& registrar) {
  registrar.add_stage(examples::gaussian_noise_spec());
  registrar.add(nn::LayerRegistry::instance(), examples::leaky_relu_spec(), "layer");
}

PIPELINE_PLUGIN(register_plugin)
