#pragma once
// The order an in-memory source sends its samples in: 0..N-1, or with `shuffle` a uniform permutation drawn anew
// each epoch from (seed, epoch). Under mpirun with the ranks sharing the samples, every rank draws the same
// permutation and rank r takes positions r, r + N, ...: the ranks' k-th batches together are a one-process run's.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

namespace stages {

class SampleOrder {
 public:
  // `first` and `step`: the positions this rank takes.
  void reset(std::size_t count, std::uint64_t seed, bool shuffle, std::size_t first = 0, std::size_t step = 1);
  void start_epoch(int epoch);
  // The next sample's index, or nothing at the epoch's end.
  std::optional<std::uint32_t> next();

 private:
  std::vector<std::uint32_t> order_;
  std::uint64_t seed_ = 0;
  bool shuffle_ = false;
  std::size_t first_ = 0, step_ = 1, position_ = 0;
};

}  // namespace stages
