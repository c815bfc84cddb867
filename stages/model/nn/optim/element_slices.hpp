#pragma once
// Optimizer updates are element by element over fixed slices of each parameter: the same results on any number
// of threads. Done serially they were about 5% of a 2-thread training step (1.26 M parameters of LeNet,
// memory-bound).
#include <vector>

#include "model/nn/layer.hpp"
#include "model/nn/parallel.hpp"

namespace nn {

inline constexpr std::size_t kValuesPerTask = 1 << 15;

// Calls update(first, count) for fixed slices of n values.
template <class Update>
void for_each_values(std::size_t n, const Update& update) {
  for_each_slice(n, kValuesPerTask,
                 [&](std::size_t, std::size_t first, std::size_t last) { update(first, last - first); });
}

// Zeroed state tensors shaped like the parameters, made on first use.
inline void zero_like(std::vector<Tensor>& state, const std::vector<Parameter>& parameters) {
  if (state.size() == parameters.size()) return;
  state.clear();
  for (const auto& p : parameters) {
    state.emplace_back(Tensor::from_shape(p.value->shape()));
    state.back().fill(0);
  }
}

}  // namespace nn
