#pragma once
// A stack of layers with the buffers for one batch's forward and backward pass, reused across batches.
#include <oneapi/tbb/enumerable_thread_specific.h>

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
  // After forward() (a training pass, or an inference pass on a batch small enough to go whole; std::logic_error
  // after any other, which keeps no activations): back-propagates dL/dlogits, leaving every parameter's gradient
  // set. `layer_done` is called with each layer as soon as its parameters' gradients are final (last layer first).
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
  // Images per part at inference by parts: dense1's row slices (Dense::forward), whole slices of the front.
  static constexpr std::size_t kImagesPerPart = 64;
  struct SliceBuffers {
    Tensor input;
    std::vector<Tensor> outputs;
  };
  // One pass's buffers: [i] the output of layer i (unused for a ReLU swapped with its pooling, and for the layers of
  // a sliced front but its last), the slices' (for whole slices and for a batch's shorter last one: no
  // reallocations), and, for a part of a batch, its input rows.
  struct PassBuffers {
    std::vector<Tensor> outputs;
    std::array<SliceBuffers, 2> slices;
    Tensor input;
  };
  Shape input_shape_;
  std::vector<std::unique_ptr<Layer>> layers_;
  const Tensor& input_of(std::size_t layer) const { return layer == 0 ? *input_ : pass_.outputs[layer - 1]; }
  // Every layer on x into `buffers`, the leading ones slice by slice at inference; returns the last output.
  const Tensor& run_pass(const Tensor& x, PassBuffers& buffers, const PassContext& context);
  // Layers [first, last) on x, layer i writing outputs[i]; returns the output of the last.
  const Tensor& run_layers(std::size_t first, std::size_t last, const Tensor& x, std::vector<Tensor>& outputs,
                           const PassContext& context);
  // Images per slice of the leading layers `front` for this batch and pass; 0: the batch goes whole.
  std::size_t slice_of_front(std::size_t batch, const PassContext& context, std::size_t& front) const;
  // Inference only: the leading layers that predict by slices, and how many images a slice takes (0: no slicing).
  std::size_t sliced_front() const;
  std::size_t images_per_slice(std::size_t front) const;
  // Runs layers [0, front) over x slice by slice, each slice through all of them while its activations are in
  // cache; leaves layer front - 1's output for the whole batch in buffers.outputs.
  void predict_front_by_slices(const Tensor& x, std::size_t front, std::size_t slice, PassBuffers& buffers,
                               const PassContext& context);
  // Inference where every layer predicts concurrently: parts of kImagesPerPart images each go through the whole
  // network as one task, on one core, in their own buffers; the logits land in pass_.outputs.back().
  bool predicts_by_parts(std::size_t batch) const;
  const Tensor& predict_by_parts(const Tensor& x, const PassContext& context);
  static PassContext context_of(std::size_t layer, const PassContext& context);
  // ReLU at `layer` followed by max pooling, run as pooling then ReLU (pool_before_relu.hpp).
  bool swapped_with_next(std::size_t layer) const;
  // A convolution at `layer` followed by such a pair, run as one pass per task (conv_relu_pool.hpp).
  bool fused_with_pooling(std::size_t layer) const;
  const Tensor* input_ = nullptr;  // the caller's batch, during a pass
  bool activations_kept_ = false;  // by the last forward pass: every layer's output for the whole batch
  PassBuffers pass_;               // the whole batch's: backward reads its outputs
  // [i] dL/d(input of layer i), for i > 0 (a swapped pooling's: after ReLU, unless the pooling fused the ReLU;
  // none for the ReLU of a convolution fused with the pair, whose tasks keep their own)
  std::vector<Tensor> gradients_;
  oneapi::tbb::enumerable_thread_specific<PassBuffers> parts_;  // each thread's, at inference by parts
};

}  // namespace nn
