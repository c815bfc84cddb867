#include "io/sample_order.hpp"

#include <limits>
#include <numeric>
#include <random>

#include "common/random.hpp"

namespace stages {

void SampleOrder::reset(std::size_t count, std::uint64_t seed, bool shuffle, std::size_t first, std::size_t step) {
  order_.resize(count);
  seed_ = seed;
  shuffle_ = shuffle;
  first_ = first;
  step_ = step;
  position_ = order_.size();
}

void SampleOrder::start_epoch(int epoch) {
  position_ = first_;
  std::iota(order_.begin(), order_.end(), 0u);
  if (!shuffle_) return;
  std::mt19937_64 rng(mix_seed(seed_, static_cast<std::uint64_t>(epoch)));
  // Fisher-Yates with our own bounded draw: std::shuffle's use of the engine differs between libraries.
  for (std::size_t i = order_.size(); i > 1; --i) {
    const std::uint64_t bound = i;
    const std::uint64_t limit = std::numeric_limits<std::uint64_t>::max() - std::numeric_limits<std::uint64_t>::max() % bound;
    std::uint64_t r;
    do r = rng(); while (r >= limit);
    std::swap(order_[i - 1], order_[static_cast<std::size_t>(r % bound)]);
  }
}

std::optional<std::uint32_t> SampleOrder::next() {
  if (position_ >= order_.size()) return std::nullopt;
  const std::uint32_t i = order_[position_];
  position_ += step_;
  return i;
}

}  // namespace stages
