#pragma once
// Data-parallel training: sums every rank's gradients, one layer's at a time, as soon as the backward pass has
// finished that layer (as PyTorch's DDP and Horovod do with their buckets). With `overlap`, the sums run on a
// thread of their own while the backward pass goes on through the earlier layers; without, they all run after
// it, on the caller's thread. Layers are summed in backward order on every rank, so the reduction is the same
// sequence of collectives everywhere. The transport is the caller's: nn/ knows no MPI.
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "model/nn/layer.hpp"

namespace nn {

class GradientSync {
 public:
  using Sum = std::function<void(float* data, std::size_t n)>;  // element-wise sum over ranks, in place
  GradientSync(Sum sum, bool overlap);
  ~GradientSync();
  GradientSync(const GradientSync&) = delete;
  GradientSync& operator=(const GradientSync&) = delete;

  // A layer's parameter gradients are final: sum them over the ranks (now, or on the sync thread).
  void gradients_ready(std::vector<Parameter> parameters);
  // Returns when every gradient handed over so far is summed; rethrows a failure of the sync thread.
  void wait();

  bool overlaps() const { return overlap_; }
  // Totals since construction: seconds the caller waited in wait() (communication not hidden by computation),
  // seconds spent summing, and bytes summed.
  double wait_seconds() const { return wait_seconds_; }
  double sum_seconds() const;
  std::size_t steps() const { return steps_; }
  std::size_t bytes() const;

 private:
  void sum_now(const std::vector<Parameter>& parameters);
  void run();

  Sum sum_;
  bool overlap_;
  mutable std::mutex mutex_;
  std::condition_variable wake_, done_;
  std::deque<std::vector<Parameter>> queue_;
  bool busy_ = false, closing_ = false;
  std::exception_ptr failure_;
  double wait_seconds_ = 0, sum_seconds_ = 0;
  std::size_t bytes_ = 0, steps_ = 0;
  std::thread thread_;
};

}  // namespace nn
