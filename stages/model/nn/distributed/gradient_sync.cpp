#include "model/nn/distributed/gradient_sync.hpp"

#include <chrono>

namespace nn {
namespace {
double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}
}  // namespace

GradientSync::GradientSync(Sum sum, bool overlap) : sum_(std::move(sum)), overlap_(overlap) {
  if (overlap_) thread_ = std::thread([this] { run(); });
}

GradientSync::~GradientSync() {
  if (!overlap_) return;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    closing_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

void GradientSync::sum_now(const std::vector<Parameter>& parameters) {
  const auto start = std::chrono::steady_clock::now();
  std::size_t bytes = 0;
  for (const Parameter& p : parameters) {
    sum_(p.grad->data(), p.grad->size());
    bytes += p.grad->size() * sizeof(float);
  }
  std::lock_guard<std::mutex> lock(mutex_);
  sum_seconds_ += seconds_since(start);
  bytes_ += bytes;
}

void GradientSync::gradients_ready(std::vector<Parameter> parameters) {
  if (parameters.empty()) return;
  if (!overlap_) {
    std::lock_guard<std::mutex> lock(mutex_);
    queue_.push_back(std::move(parameters));
    return;
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    queue_.push_back(std::move(parameters));
  }
  wake_.notify_one();
}

void GradientSync::wait() {
  const auto start = std::chrono::steady_clock::now();
  if (!overlap_) {
    for (const auto& parameters : queue_) sum_now(parameters);
    queue_.clear();
  } else {
    std::unique_lock<std::mutex> lock(mutex_);
    done_.wait(lock, [this] { return (queue_.empty() && !busy_) || failure_; });
    if (failure_) std::rethrow_exception(failure_);
  }
  std::lock_guard<std::mutex> lock(mutex_);
  wait_seconds_ += seconds_since(start);
  ++steps_;
}

void GradientSync::run() {
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    wake_.wait(lock, [this] { return closing_ || !queue_.empty(); });
    if (queue_.empty()) return;  // closing
    std::vector<Parameter> parameters = std::move(queue_.front());
    queue_.pop_front();
    busy_ = true;
    lock.unlock();
    try {
      sum_now(parameters);
    } catch (...) {
      lock.lock();
      failure_ = std::current_exception();
      busy_ = false;
      done_.notify_all();
      return;
    }
    lock.lock();
    busy_ = false;
    if (queue_.empty()) done_.notify_all();
  }
}

double GradientSync::sum_seconds() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return sum_seconds_;
}

std::size_t GradientSync::bytes() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return bytes_;
}

}  // namespace nn
