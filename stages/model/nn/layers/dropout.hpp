#pragma once
#include <atomic>
#include <xtensor/xtensor.hpp>

#include "model/nn/layer.hpp"

namespace nn {

// Inverted dropout: at training, zeroes each value with probability `rate` and scales the rest by
// 1/(1-rate); at evaluation it is the identity. The mask is drawn from the batch's seed.
class Dropout : public Layer {
 public:
  Dropout(Shape input_shape, double rate);
  std::string type() const override { return "dropout"; }
  bool predicts_by_slices() const override { return true; }  // the identity at inference
  bool predicts_concurrently() const override { return true; }  // writes only y at inference
  void forward(const Tensor& x, Tensor& y, const PassContext& context) override;
  void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor& dx, bool want_dx) override;

 private:
  double rate_;
  xt::xtensor<float, 1> mask_;  // 0 or 1/(1-rate), of the last training pass
  // Whether the last forward pass applied mask_ (a training one with a rate); atomic: inference passes may run at
  // once.
  std::atomic<bool> masked_{false};
};

}  // namespace nn
