// Plugins as a user meets them through `pipeline`: the example plugin's stage and layer in configs and in
// `pipeline stages`, and every way a plugin can be wrong.
#include <gtest/gtest.h>

#include <string>

#include "support/run_pipeline.hpp"

using namespace testing_support;

namespace {

const std::string kExample = PIPELINE_EXAMPLE_PLUGIN;
const std::string kPlugins = PIPELINE_TEST_PLUGIN_DIR;

bool has(const Result& r, const std::string& text) { return r.output.find(text) != std::string::npos; }

}  // namespace

TEST(Plugins, StagesShowsEachTypesOrigin) {
  const Result r = run("stages --plugin " + kExample);
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_TRUE(has(r, "gaussian_noise  (transform, parallel, plugin " + kExample + ")")) << r.output;
  EXPECT_TRUE(has(r, "scale  (transform, parallel, built in)")) << r.output;
  EXPECT_FALSE(has(run("stages"), "gaussian_noise"));
  // The plugin's layer is listed with the model's layers, its option documented.
  EXPECT_TRUE(has(run("stages sequential --plugin " + kExample), "leaky_relu: x where x > 0"));
}

TEST(Plugins, AConfigNamesItsPluginsAndLoadingOneTwiceIsHarmless) {
  const std::string dir = " --set vars.plugin_dir=" + kExample.substr(0, kExample.rfind('/'));
  EXPECT_EQ(run("validate examples/plugin/noisy_mnist.yaml" + dir).code, 0);
  const Result twice = run("validate examples/plugin/leaky_mnist.yaml" + dir + " --plugin " + kExample +
                           " --set plugins=[" + kExample + "," + kExample + "]");
  EXPECT_EQ(twice.code, 0) << twice.output;
  // Without it, the types are unknown.
  EXPECT_TRUE(has(run("validate examples/plugin/noisy_mnist.yaml --set plugins=[]"), "unknown stage type 'gaussian_noise'"));
  EXPECT_TRUE(has(run("validate examples/plugin/leaky_mnist.yaml --set plugins=[]"), "unknown layer type 'leaky_relu'"));
}

TEST(Plugins, BareNamesAreLookedUpInThePluginPath) {
  const std::string folder = kExample.substr(0, kExample.rfind('/'));
  const Result found = run("stages gaussian_noise --plugin example_stages", "PIPELINE_PLUGIN_PATH=/nowhere:" + folder);
  EXPECT_EQ(found.code, 0) << found.output;
  const Result missing = run("stages --plugin example_stages", "PIPELINE_PLUGIN_PATH=/nowhere");
  EXPECT_EQ(missing.code, 2);
  EXPECT_TRUE(has(missing, "--plugin example_stages: plugin 'example_stages' not found: no libexample_stages.so or "
                           "example_stages.so in /nowhere, .")) << missing.output;
}

TEST(Plugins, EveryWayAPluginCanBeWrongIsAConfigErrorNamingIt) {
  const std::string config = "validate configs/lenet_mnist_quick.yaml --set plugins=";
  const Result missing = run(config + "[/no/such/libplugin.so]");
  EXPECT_EQ(missing.code, 2);
  EXPECT_TRUE(has(missing, "--set plugins=[/no/such/libplugin.so]: plugin /no/such/libplugin.so: No such file"))
      << missing.output;
  const Result not_plugin = run(config + "[" PIPELINE_NOT_A_PLUGIN "]");
  EXPECT_EQ(not_plugin.code, 2);
  EXPECT_TRUE(has(not_plugin, "is not a pipeline plugin (it exports no pipeline_plugin_interface")) << not_plugin.output;
  const Result old = run(config + "[" + kPlugins + "/libold_interface_plugin.so]");
  EXPECT_EQ(old.code, 2);
  EXPECT_TRUE(has(old, "was built for plugin interface 0 (pipeline ")) << old.output;
  EXPECT_TRUE(has(old, "offers interface 6: rebuild the plugin against this version's SDK")) << old.output;
  const Result collides = run(config + "[" + kPlugins + "/libcolliding_plugin.so]");
  EXPECT_EQ(collides.code, 2);
  EXPECT_TRUE(has(collides, "adds the stage type 'scale', which is built in; rename the plugin's type"))
      << collides.output;
  const Result early = run(config + "[" + kPlugins + "/libstatic_registering_plugin.so]");
  EXPECT_EQ(early.code, 2);
  EXPECT_TRUE(has(early, "registers 'registered_too_early' as it loads")) << early.output;
  // A config file's line is named too.
  const Result line = run("validate tests/plugins/bad_plugins.yaml");
  EXPECT_EQ(line.code, 2);
  EXPECT_TRUE(has(line, "tests/plugins/bad_plugins.yaml:3:11: plugin /no/such/libplugin.so")) << line.output;
}
