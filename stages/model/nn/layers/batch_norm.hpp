#pragma once
#include <atomic>

#include <xtensor/xtensor.hpp>

#include "model/nn/layer.hpp"

namespace nn {

// Batch normalization over the last axis (channels), as Keras' BatchNormalization: at training each channel is
// normalized by the batch's mean and (biased) variance over samples and pixels, and the running statistics move
// towards them by `momentum`; at evaluation the running statistics are used. y = gamma · x̂ + beta. Sums run over
// fixed slices of the batch in slice order, so results do not depend on the thread count.
class BatchNorm : public Layer {
 public:
  BatchNorm(Shape input_shape, double momentum, double epsilon);
  std::string type() const override { return "batch_norm"; }
  bool predicts_by_slices() const override { return true; }  // inference normalizes by the moving statistics
  bool predicts_concurrently() const override { return true; }  // and writes only y
  void forward(const Tensor& x, Tensor& y, const PassContext& context) override;
  void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor& dx, bool want_dx) override;
  std::vector<Parameter> parameters() override {
    allocate();
    return {{"gamma", &gamma_, &gamma_grad_}, {"beta", &beta_, &beta_grad_}};
  }
  std::size_t parameter_count() const override { return 2 * channels_; }
  std::vector<std::pair<std::string, Tensor*>> state() override {
    allocate();
    return {{"moving_mean", &moving_mean_}, {"moving_variance", &moving_variance_}};
  }
  void initialize(std::mt19937_64& rng) override;
  double forward_flops() const override { return 4.0 * static_cast<double>(shape_size(input_shape_)); }

 private:
  void allocate();
  // Per-channel statistics of the batch, as mean_ and inv_std_; the running ones move towards them.
  void batch_statistics(const Tensor& x);
  // The running statistics as the mean and 1/σ to normalize with at evaluation.
  void moving_statistics(xt::xtensor<float, 1>& mean, xt::xtensor<float, 1>& inv_std) const;

  std::size_t channels_, pixels_;  // pixels: values per channel in one sample
  double momentum_, epsilon_;
  Tensor gamma_, beta_, gamma_grad_, beta_grad_, moving_mean_, moving_variance_;
  // Whether the last forward pass was a training one (atomic: inference passes may run at once). Of the last
  // training pass, or of a backward pass after an evaluation one (which keeps nothing): the statistics, and x̂.
  std::atomic<bool> trained_{false};
  xt::xtensor<float, 1> mean_, inv_std_;
  Tensor normalized_;
};

}  // namespace nn
