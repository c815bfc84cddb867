#include "model/nn/optim/sgd.hpp"

#include <cstdio>

#include <xtensor/xmath.hpp>

#include "model/nn/optim/element_slices.hpp"

namespace nn {

void Sgd::step(const std::vector<Parameter>& parameters, double learning_rate) {
  const auto lr = static_cast<float>(learning_rate), momentum = static_cast<float>(options_.momentum),
             decay = static_cast<float>(options_.weight_decay);
  if (momentum != 0.0f) zero_like(velocity_, parameters);
  for (std::size_t i = 0; i < parameters.size(); ++i) {
    float* w_data = parameters[i].value->data();
    const float* g_data = parameters[i].grad->data();
    float* v_data = momentum != 0.0f ? velocity_[i].data() : nullptr;
    const bool nesterov = options_.nesterov;
    for_each_values(parameters[i].value->size(), [&](std::size_t first, std::size_t n) {
      auto w = flat(w_data + first, n);
      const auto grad = flat(g_data + first, n) + decay * w;  // lazy: reads w before it is updated
      if (!v_data) {
        xt::noalias(w) -= lr * grad;
        return;
      }
      auto v = flat(v_data + first, n);
      xt::noalias(v) = momentum * v - lr * grad;
      if (nesterov)
        xt::noalias(w) += momentum * v - lr * grad;
      else
        xt::noalias(w) += v;
    });
  }
  ++iterations;
}

std::vector<std::pair<std::string, Tensor*>> Sgd::state(const std::vector<Parameter>& parameters) {
  std::vector<std::pair<std::string, Tensor*>> out;
  if (options_.momentum == 0.0) return out;
  zero_like(velocity_, parameters);
  for (std::size_t i = 0; i < parameters.size(); ++i) out.emplace_back("velocity/" + parameters[i].name, &velocity_[i]);
  return out;
}

std::string Sgd::description(double learning_rate) const {
  char text[128];
  std::snprintf(text, sizeof text, "sgd(learning_rate=%g, momentum=%g%s%s)", learning_rate, options_.momentum,
                options_.nesterov ? ", nesterov" : "", options_.weight_decay > 0 ? ", weight_decay" : "");
  return text;
}

namespace {

OptimizerSpec sgd_spec() {
  OptimizerSpec spec;
  spec.type = "sgd";
  spec.summary = "stochastic gradient descent as Keras: optional momentum, Nesterov, weight decay";
  spec.params = common_optimizer_params(0.01);
  spec.params.push_back(pipeline::float_param("momentum", 0.0, "velocity kept from step to step").min(0).max(0.9999));
  spec.params.push_back(pipeline::bool_param("nesterov", false, "Nesterov momentum (needs momentum > 0)"));
  spec.create = [](const pipeline::Params& p) {
    SgdOptions o;
    o.momentum = p.get_float("momentum");
    o.nesterov = p.get_bool("nesterov");
    o.weight_decay = p.get_float("weight_decay");
    if (o.nesterov && o.momentum == 0) p.fail("nesterov", "needs a momentum > 0");
    return std::make_unique<Sgd>(o);
  };
  return spec;
}

}  // namespace
}  // namespace nn

PIPELINE_REGISTER_OPTIMIZER(nn::sgd_spec())
