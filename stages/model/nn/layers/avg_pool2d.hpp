#pragma once
#include "model/nn/layer.hpp"
#include "model/nn/layers/pool_geometry.hpp"

namespace nn {

// Average over pool x pool windows of NHWC input, 'valid' (windows that do not fit are dropped), as Keras'
// AveragePooling2D.
class AvgPool2D : public Layer {
 public:
  AvgPool2D(Shape input_shape, std::size_t pool, std::size_t stride);
  std::string type() const override { return "avg_pool2d"; }
  bool predicts_by_slices() const override { return true; }
  bool predicts_concurrently() const override { return true; }
  void forward(const Tensor& x, Tensor& y, const PassContext& context) override;
  void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor& dx, bool want_dx) override;

 private:
  // Calls visit(input pixel offset, output pixel offset) for every (window element, output pixel) of one image.
  template <class Visit>
  void for_each_tap(const Visit& visit) const;

  PoolGeometry g_;
};

}  // namespace nn
