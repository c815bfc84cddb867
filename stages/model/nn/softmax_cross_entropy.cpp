#include "model/nn/softmax_cross_entropy.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace nn {

LossResult softmax_cross_entropy(const Tensor& logits, const Tensor& targets, Tensor& probabilities, Tensor* grad) {
  if (logits.dimension() != 2 || targets.shape() != logits.shape())
    throw std::invalid_argument("loss: logits " + shape_string(Shape(logits.shape().begin(), logits.shape().end())) +
                                " and targets " + shape_string(Shape(targets.shape().begin(), targets.shape().end())) +
                                " must both be (batch, classes)");
  const std::size_t n = logits.shape()[0], k = logits.shape()[1];
  ensure_shape(probabilities, {n, k});
  if (grad) ensure_shape(*grad, {n, k});
  LossResult result;
  result.predicted.resize(n);
  double total = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const float* z = logits.data() + i * k;
    const float* y = targets.data() + i * k;
    float* p = probabilities.data() + i * k;
    const float max = *std::max_element(z, z + k);
    double sum = 0;
    for (std::size_t j = 0; j < k; ++j) sum += std::exp(static_cast<double>(z[j] - max));
    const double log_sum = std::log(sum);
    double sample_loss = 0;
    for (std::size_t j = 0; j < k; ++j) {
      const double log_p = static_cast<double>(z[j] - max) - log_sum;
      p[j] = static_cast<float>(std::exp(log_p));
      if (y[j] != 0.0f) sample_loss -= static_cast<double>(y[j]) * log_p;
    }
    total += sample_loss;
    const auto predicted = static_cast<int>(std::max_element(z, z + k) - z);
    result.predicted[i] = predicted;
    if (predicted == static_cast<int>(std::max_element(y, y + k) - y)) ++result.correct;
    if (grad) {
      float* g = grad->data() + i * k;
      for (std::size_t j = 0; j < k; ++j) g[j] = (p[j] - y[j]) / static_cast<float>(n);
    }
  }
  result.loss = n ? total / static_cast<double>(n) : 0.0;
  return result;
}

}  // namespace nn
