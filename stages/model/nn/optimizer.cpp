#include "model/nn/optimizer.hpp"

#include <cmath>

#include <xtensor/xmath.hpp>

#include "model/nn/parallel.hpp"

namespace nn {

namespace {
// Updates are elementwise, so splitting them changes no result; done serially they were about 5% of a 2-thread
// training step (1.26 M parameters of LeNet, memory-bound).
constexpr std::size_t kValuesPerTask = 1 << 15;

// Calls update(first, count) for fixed slices of n values.
template <class Update>
void for_each_values(std::size_t n, const Update& update) {
  for_each_slice(n, kValuesPerTask,
                 [&](std::size_t, std::size_t first, std::size_t last) { update(first, last - first); });
}

void zero_like(std::vector<Tensor>& state, const std::vector<Parameter>& parameters) {
  if (state.size() == parameters.size()) return;
  state.clear();
  for (const auto& p : parameters) {
    state.emplace_back(Tensor::from_shape(p.value->shape()));
    state.back().fill(0);
  }
}
}  // namespace

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

double Schedule::rate(double base, int epoch) const {
  switch (kind) {
    case Kind::Constant: return base;
    case Kind::Step: return base * std::pow(gamma, epoch / std::max(1, step_epochs));
    case Kind::Exponential: return base * std::pow(gamma, epoch);
    case Kind::Cosine: {
      const double progress = total_epochs > 1 ? static_cast<double>(epoch) / (total_epochs - 1) : 1.0;
      return min_rate + (base - min_rate) * 0.5 * (1 + std::cos(M_PI * std::min(1.0, progress)));
    }
  }
  return base;
}

}  // namespace nn
