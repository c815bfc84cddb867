#pragma once
// A stack of layers with the buffers for one batch's forward and backward pass, reused across batches.
#include <array>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "model/nn/layer.hpp"

namespace nn {

class Sequential {
 public:
  explicit Sequential(Shape input_shape) : input_shape_(std::move(input_shape)) {}
  void add(std::unique_ptr<Layer> layer);
  const Shape& input_shape() const { return input_shape_; }
  const Shape& output_shape() const { return layers_.empty() ? input_shape_ : layers_.back()->output_shape(); }
  std::size_t size() const { return layers_.size(); }
  Layer& layer(std::size_t i) { return *layers_[i]; }

  void initialize(std::uint64_t seed);
  // x is (N, ...) with input_shape's number of values per sample; the first layer reads it in place, so it must
  // stay alive until backward() returns. Returns the last layer's output (the logits).
  const Tensor& forward(const Tensor& x, const PassContext& context);
  // After forward(): back-propagates dL/dlogits, leaving every parameter's gradient set. `layer_done` is called
  // with each layer as soon as its parameters' gradients are final (last layer first).
  void backward(const Tensor& grad_logits, const std::function<void(Layer&)>& layer_done = {});
  // Zero gradients, every layer reported done: a data-parallel rank without samples in a step.
  void backward_nothing(const std::function<void(Layer&)>& layer_done);

  // Every parameter, named "<index>_<type>/<name>" (e.g. "0_conv2d/kernel").
  std::vector<Parameter> parameters();
  // Every layer's non-trainable state, named like parameters ("1_batch_norm/moving_mean").
  std::vector<std::pair<std::string, Tensor*>> state();
  std::size_t parameter_count() const;
  double forward_flops() const;
  // Per image and training step, as the layers compute it (the first layer computes no dL/dx).
  double training_flops() const;
  // Keras-style model.summary() table.
  std::string summary();
  // Identifies the architecture (layer types and shapes) for checkpoints.
  std::string architecture() const;

 private:
  Shape input_shape_;
  std::vector<std::unique_ptr<Layer>> layers_;
  const Tensor& input_of(std::size_t layer) const { return layer == 0 ? *input_ : activations_[layer - 1]; }
  // Layers [first, last) on x, layer i writing outputs[i]; returns the output of the last.
  const Tensor& run_layers(std::size_t first, std::size_t last, const Tensor& x, std::vector<Tensor>& outputs,
                           const PassContext& context);
  // Inference only: the leading layers that predict by slices, and how many images a slice takes (0: no slicing).
  std::size_t sliced_front() const;
  std::size_t images_per_slice(std::size_t front) const;
  // Runs layers [0, front) over x slice by slice, each slice through all of them while its activations are in
  // cache; leaves layer front - 1's output for the whole batch in activations_.
  void predict_front_by_slices(const Tensor& x, std::size_t front, std::size_t slice, const PassContext& context);
  static PassContext context_of(std::size_t layer, const PassContext& context);
  // ReLU at `layer` followed by max pooling, run as pooling then ReLU (pool_before_relu.hpp).
  bool swapped_with_next(std::size_t layer) const;
  const Tensor* input_ = nullptr;   // the caller's batch, during a pass
  std::vector<Tensor> activations_;  // [i] the output of layer i (unused for a ReLU swapped with its pooling)
  std::vector<Tensor> gradients_;    // [i] dL/d(input of layer i), for i > 0 (a swapped pooling's: after ReLU)
  struct SliceBuffers {
    Tensor input;
    std::vector<Tensor> outputs;
  };
  std::array<SliceBuffers, 2> slices_;  // for whole slices, and for a batch's shorter last one (no reallocations)
};

}  // namespace nn
