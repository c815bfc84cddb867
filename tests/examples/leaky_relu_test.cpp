// The example layer (examples/plugin/leaky_relu.cpp), loaded with its plugin: values, gradient, and its option
// checked by the framework like a built-in layer's.
#include <gtest/gtest.h>

#include "model/model_config.hpp"
#include "model/nn/layer_registry.hpp"
#include "pipeline/error.hpp"
#include "pipeline/plugins.hpp"

namespace {
struct LoadTheExamplePlugin : testing::Environment {
  void SetUp() override { pipeline::load_plugins({{PIPELINE_EXAMPLE_PLUGIN, {"the example plugin", 0, 0}}}); }
};
[[maybe_unused]] testing::Environment* const example_plugin = testing::AddGlobalTestEnvironment(new LoadTheExamplePlugin);
}  // namespace

TEST(LeakyReluExample, IsRegisteredAndComputesItsValuesAndGradient) {
  const nn::LayerSpec* spec = nn::LayerRegistry::instance().find("leaky_relu");
  ASSERT_NE(spec, nullptr);
  auto net = stages::build_network("[{leaky_relu: {alpha: 0.1}}]", {4}).network;
  nn::Tensor x = nn::Tensor::from_shape({1, 4});
  x(0, 0) = -2.0f, x(0, 1) = -0.5f, x(0, 2) = 0.5f, x(0, 3) = 3.0f;
  const nn::Tensor y = net->forward(x, {});
  EXPECT_FLOAT_EQ(y(0, 0), -0.2f);
  EXPECT_FLOAT_EQ(y(0, 1), -0.05f);
  EXPECT_FLOAT_EQ(y(0, 2), 0.5f);
  EXPECT_FLOAT_EQ(y(0, 3), 3.0f);
  nn::Tensor dy = xt::ones<float>({std::size_t{1}, std::size_t{4}}), dx;
  net->layer(0).backward(x, y, dy, dx, true);
  EXPECT_FLOAT_EQ(dx(0, 0), 0.1f);
  EXPECT_FLOAT_EQ(dx(0, 3), 1.0f);
}

TEST(LeakyReluExample, ItsOptionIsCheckedLikeABuiltInLayers) {
  try {
    stages::build_network("[{leaky_relu: {alpah: 0.1}}]", {4});
    FAIL() << "a misspelled option was accepted";
  } catch (const pipeline::ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("layer 0 (leaky_relu): unknown parameter 'alpah' (did you mean 'alpha'?)"),
              std::string::npos)
        << e.what();
  }
  EXPECT_THROW(stages::build_network("[{leaky_relu: {alpha: 2}}]", {4}), pipeline::ConfigError);
}
