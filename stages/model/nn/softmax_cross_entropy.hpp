#pragma once
#include <vector>

#include "model/nn/tensor.hpp"

namespace nn {

struct LossResult {
  double loss = 0;             // mean over the batch
  std::size_t correct = 0;     // argmax(probabilities) == argmax(targets)
  std::vector<int> predicted;  // argmax per sample
};

// Softmax fused with categorical cross-entropy, stable for any logits (log-sum-exp).
// Fills `probabilities` (N, K) and, when `grad` is given, dL/dlogits = (p - y) / N.
LossResult softmax_cross_entropy(const Tensor& logits, const Tensor& targets, Tensor& probabilities, Tensor* grad);

}  // namespace nn
