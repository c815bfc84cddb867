#include "model/nn/optim/adam.hpp"

#include <cmath>
#include <cstdio>

#include <xtensor/xmath.hpp>

#include "model/nn/optim/element_slices.hpp"

namespace nn {

void Adam::ensure_state(const std::vector<Parameter>& parameters) {
  zero_like(m_, parameters);
  zero_like(v_, parameters);
}

void Adam::step(const std::vector<Parameter>& parameters, double learning_rate) {
  ensure_state(parameters);
  ++iterations;
  const double t = static_cast<double>(iterations);
  // Bias correction folded into the step size, as Keras does.
  const auto alpha = static_cast<float>(learning_rate * std::sqrt(1 - std::pow(options_.beta2, t)) /
                                        (1 - std::pow(options_.beta1, t)));
  const auto b1 = static_cast<float>(options_.beta1), b2 = static_cast<float>(options_.beta2),
             eps = static_cast<float>(options_.epsilon), decay = static_cast<float>(options_.weight_decay);
  for (std::size_t i = 0; i < parameters.size(); ++i) {
    float *w_data = parameters[i].value->data(), *m_data = m_[i].data(), *v_data = v_[i].data();
    const float* g_data = parameters[i].grad->data();
    for_each_values(parameters[i].value->size(), [&](std::size_t first, std::size_t n) {
      auto w = flat(w_data + first, n), m = flat(m_data + first, n), v = flat(v_data + first, n);
      const auto grad = flat(g_data + first, n) + decay * w;
      xt::noalias(m) = b1 * m + (1 - b1) * grad;
      xt::noalias(v) = b2 * v + (1 - b2) * grad * grad;
      xt::noalias(w) -= alpha * m / (xt::sqrt(v) + eps);
    });
  }
}

std::vector<std::pair<std::string, Tensor*>> Adam::state(const std::vector<Parameter>& parameters) {
  ensure_state(parameters);
  std::vector<std::pair<std::string, Tensor*>> out;
  for (std::size_t i = 0; i < parameters.size(); ++i) {
    out.emplace_back("m/" + parameters[i].name, &m_[i]);
    out.emplace_back("v/" + parameters[i].name, &v_[i]);
  }
  return out;
}

std::string Adam::description(double learning_rate) const {
  char text[96];
  std::snprintf(text, sizeof text, "adam(learning_rate=%g)", learning_rate);
  return text;
}

namespace {

OptimizerSpec adam_spec() {
  OptimizerSpec spec;
  spec.type = "adam";
  spec.summary = "Adam (Kingma & Ba) with Keras' defaults";
  spec.params = common_optimizer_params(0.001);
  spec.params.push_back(pipeline::float_param("beta1", 0.9, "decay of the mean of gradients").min(0).max(0.99999));
  spec.params.push_back(pipeline::float_param("beta2", 0.999, "decay of the mean of squared gradients").min(0).max(0.9999999));
  spec.params.push_back(pipeline::float_param("epsilon", 1e-7, "added to the root of the second moment; > 0, or a "
                                                                "zero second moment divides by zero").above(0).max(1));
  spec.create = [](const pipeline::Params& p) {
    AdamOptions o;
    o.beta1 = p.get_float("beta1");
    o.beta2 = p.get_float("beta2");
    o.epsilon = p.get_float("epsilon");
    o.weight_decay = p.get_float("weight_decay");
    return std::make_unique<Adam>(o);
  };
  return spec;
}

}  // namespace
}  // namespace nn

PIPELINE_REGISTER_OPTIMIZER(nn::adam_spec())
