#pragma once
#include <vector>

#include "model/nn/tensor.hpp"

namespace nn {

struct LossResult {
  double loss = 0;             // mean over the batch
  double total = 0;            // sum over the batch
  std::size_t correct = 0;     // argmax(probabilities) == argmax(targets)
  std::vector<int> predicted;  // argmax per sample
};

// Softmax fused with categorical cross-entropy, stable for any logits (log-sum-exp).
// Fills `probabilities` (N, K) and, when `grad` is given, dL/dlogits = (p - y) / M, where M is `mean_over` (the
// rows of the whole batch when this is one rank's share of it), or N when 0.
LossResult softmax_cross_entropy(const Tensor& logits, const Tensor& targets, Tensor& probabilities, Tensor* grad,
                                 std::size_t mean_over = 0);

}  // namespace nn
