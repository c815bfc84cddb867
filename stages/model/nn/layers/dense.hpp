#pragma once
#include "model/nn/layer.hpp"

namespace nn {

// Fully connected: y = x · kernel + bias, kernel (inputs, units) as in Keras. Input must be flat.
class Dense : public Layer {
 public:
  Dense(Shape input_shape, std::size_t units);
  std::string type() const override { return "dense"; }
  void forward(const Tensor& x, Tensor& y, const PassContext& context) override;
  void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor& dx, bool want_dx) override;
  std::vector<Parameter> parameters() override {
    allocate();
    return {{"kernel", &kernel_, &kernel_grad_}, {"bias", &bias_, &bias_grad_}};
  }
  std::size_t parameter_count() const override { return inputs_ * units_ + units_; }
  void initialize(std::mt19937_64& rng) override;
  double forward_flops() const override { return 2.0 * static_cast<double>(inputs_ * units_); }

 private:
  void allocate();
  std::size_t inputs_, units_;
  Tensor kernel_, bias_, kernel_grad_, bias_grad_;
};

}  // namespace nn
