// A user-defined layer in its own file: leaky ReLU, y = x where x > 0, else alpha · x. Registered by the plugin
// (plugin.cpp), `{leaky_relu: {alpha: 0.1}}` is usable in the layers of any model of a config that loads it, with
// its option checked, documented and listed by `pipeline stages sequential` like the built-in layers'.
#include <xtensor/xoperation.hpp>

#include "model/nn/layer_registry.hpp"
#include "specs.hpp"

namespace examples {

class LeakyReLU : public nn::Layer {
 public:
  LeakyReLU(nn::Shape input_shape, float alpha) : Layer(std::move(input_shape)), alpha_(alpha) {
    output_shape_ = input_shape_;
  }
  std::string type() const override { return "leaky_relu"; }
  // Each output depends on its own sample alone: at inference the network may run it slice by slice.
  bool predicts_by_slices() const override { return true; }
  // Its forward pass writes nothing but y: parts of a batch may go through it on several cores at once.
  bool predicts_concurrently() const override { return true; }

  void forward(const nn::Tensor& x, nn::Tensor& y, const nn::PassContext&) override {
    nn::ensure_shape(y, nn::Shape(x.shape().begin(), x.shape().end()));
    const auto in = nn::flat(x.data(), x.size());
    xt::noalias(nn::flat(y.data(), y.size())) = xt::where(in > 0.0f, in, alpha_ * in);
  }

  void backward(const nn::Tensor& x, const nn::Tensor&, const nn::Tensor& dy, nn::Tensor& dx, bool want_dx) override {
    if (!want_dx) return;
    nn::ensure_shape(dx, nn::Shape(x.shape().begin(), x.shape().end()));
    const auto grad = nn::flat(dy.data(), dy.size());
    xt::noalias(nn::flat(dx.data(), dx.size())) = xt::where(nn::flat(x.data(), x.size()) > 0.0f, grad, alpha_ * grad);
  }

 private:
  float alpha_;
};

nn::LayerSpec leaky_relu_spec() {
  nn::LayerSpec spec;
  spec.type = "leaky_relu";
  spec.summary = "x where x > 0, else alpha · x (an example of a user-defined layer: examples/plugin/leaky_relu.cpp)";
  spec.params = {pipeline::float_param("alpha", 0.3, "slope for negative inputs (Keras' default)").min(0).max(1)};
  spec.create = [](const nn::Shape& input, const pipeline::Params& p) {
    return std::make_unique<LeakyReLU>(input, static_cast<float>(p.get_float("alpha")));
  };
  return spec;
}

}  // namespace examples
