#include "model/nn/softmax_cross_entropy.hpp"

#include <stdexcept>

#include <xtensor/xmath.hpp>
#include <xtensor/xsort.hpp>
#include <xtensor/xtensor.hpp>
#include <xtensor/xview.hpp>

namespace nn {

LossResult softmax_cross_entropy(const Tensor& logits, const Tensor& targets, Tensor& probabilities, Tensor* grad,
                                 std::size_t mean_over) {
  if (logits.dimension() != 2 || targets.shape() != logits.shape())
    throw std::invalid_argument("loss: logits " + shape_string(Shape(logits.shape().begin(), logits.shape().end())) +
                                " and targets " + shape_string(Shape(targets.shape().begin(), targets.shape().end())) +
                                " must both be (batch, classes)");
  const std::size_t n = logits.shape()[0], k = logits.shape()[1];
  ensure_shape(probabilities, {n, k});
  if (grad) ensure_shape(*grad, {n, k});
  LossResult result;
  if (n == 0) return result;
  const auto z = matrix(logits.data(), n, k), y = matrix(targets.data(), n, k);
  // log p = (z - max) - log Σ exp(z - max), row by row, in double: stable for any logits.
  const xt::xtensor<double, 2> shifted = xt::cast<double>(z - xt::view(xt::amax(z, {1}), xt::all(), xt::newaxis()));
  const xt::xtensor<double, 2> log_p =
      shifted - xt::view(xt::log(xt::sum(xt::exp(shifted), {1})), xt::all(), xt::newaxis());
  auto p = matrix(probabilities.data(), n, k);
  xt::noalias(p) = xt::cast<float>(xt::exp(log_p));
  // Terms with a zero target are skipped, not multiplied: 0 · log 0 would be NaN where p underflows.
  const double total = xt::sum(xt::where(xt::not_equal(y, 0.0f), -xt::cast<double>(y) * log_p, 0.0))();
  result.total = total;
  result.loss = total / static_cast<double>(n);
  // Row by row: GCC 12 warns falsely (-Warray-bounds) inside xtensor 0.24's axis-wise argmax.
  result.predicted.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    result.predicted[i] = static_cast<int>(xt::argmax(xt::row(z, i))());
    if (result.predicted[i] == static_cast<int>(xt::argmax(xt::row(y, i))())) ++result.correct;
  }
  if (grad) xt::noalias(matrix(grad->data(), n, k)) = (p - y) / static_cast<float>(mean_over > 0 ? mean_over : n);
  return result;
}

}  // namespace nn
