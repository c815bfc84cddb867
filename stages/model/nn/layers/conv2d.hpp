#pragma once
#include <memory>

#include "model/nn/conv/conv_engine.hpp"
#include "model/nn/layer.hpp"

namespace nn {

// 2-D convolution over NHWC input, kernel laid out (kh, kw, in, out) as in Keras; how it computes is its engine's
// business (conv/conv_engine.hpp), chosen by `algorithm`.
class Conv2D : public Layer {
 public:
  Conv2D(Shape input_shape, std::size_t filters, std::size_t kernel, std::size_t stride, Padding padding,
         ConvAlgorithm algorithm = ConvAlgorithm::Auto);
  std::string implementation() const override { return engine_->name(); }
  std::string type() const override { return "conv2d"; }
  bool predicts_by_slices() const override { return true; }
  bool predicts_concurrently() const override { return true; }
  void forward(const Tensor& x, Tensor& y, const PassContext& context) override;
  void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor& dx, bool want_dx) override;
  // forward() and backward() with work for the engine's tasks to run on their own samples: after a task's y is
  // written (SliceHook), or to compute its dy where it reads it (SliceGradient; `dy` is then not read).
  void forward_then(const Tensor& x, Tensor& y, const SliceHook& after_slice);
  void backward_from(const Tensor& x, const Tensor& dy, Tensor& dx, bool want_dx, const SliceGradient& gradient_of);
  std::vector<Parameter> parameters() override {
    allocate();
    return {{"kernel", &weights_, &kernel_grad_}, {"bias", &bias_, &bias_grad_}};
  }
  std::size_t parameter_count() const override { return g_.patch() * g_.filters + g_.filters; }
  void initialize(std::mt19937_64& rng) override;
  double forward_flops() const override;
  double training_flops(bool input_gradient) const override;

 private:
  void allocate();

  ConvGeometry g_;
  std::unique_ptr<ConvEngine> engine_;
  Tensor weights_, bias_, kernel_grad_, bias_grad_;
};

}  // namespace nn
