#pragma once
// The message types the data stages exchange. Port type names (used in StageSpec and checked when a config
// is wired) are given next to each type.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <xtensor/xarray.hpp>
#include <xtensor/xtensor.hpp>

#include "pipeline/payload_memory.hpp"

namespace stages {

// The label of a sample that has none (images to predict): its target is all zeros, so it adds nothing to the loss,
// and metrics leave it out.
inline constexpr int kUnlabeled = -1;
// Names of a source's samples by index (e.g. image files relative to their folder); null when a source has none.
using SampleNames = std::vector<std::string>;

// "image": one uint8 image (rows x cols x channels, row-major, channels last) and its label.
struct ImageSample {
  std::int64_t index = 0;  // position in the source data set
  int epoch = 0;
  std::int64_t epoch_size = 0;  // samples the source sends this epoch (0: unknown), for progress totals
  int label = 0;
  std::uint32_t rows = 0, cols = 0, channels = 1;
  std::shared_ptr<const std::vector<std::uint8_t>> storage;  // shared with the data set, or owned
  std::size_t offset = 0;
  std::shared_ptr<const SampleNames> names;  // the source's, shared
  const std::uint8_t* pixels() const { return storage->data() + offset; }
  std::size_t size() const { return static_cast<std::size_t>(rows) * cols * channels; }
};

// A sample's float values: an xtensor whose buffer comes from the engine's payload memory (made on one thread,
// freed on another). Anything xtensor assigns to it works, e.g. `sample.x = xt::zeros<float>({28, 28, 1})`;
// SampleTensor<N>::from_shape makes one without a copy.
template <std::size_t N>
using SampleTensor = xt::xtensor<float, N, xt::layout_type::row_major, pipeline::PayloadAllocator<float>>;

// "tensor": float image in NHWC order without the N (height, width, channels), as Keras lays it out.
// "labeled_tensor": the same with a target vector (e.g. one-hot).
struct TensorSample {
  std::int64_t index = 0;
  int epoch = 0;
  std::int64_t epoch_size = 0;
  int label = 0;
  SampleTensor<3> x;
  SampleTensor<1> target;  // empty for "tensor"
  std::shared_ptr<const SampleNames> names;
};

// "batch": samples stacked into contiguous blocks.
struct Batch {
  std::string stream;
  int epoch = 0;
  std::int64_t number = 0;          // batch number within the stream's epoch
  std::int64_t batches_in_epoch = 0;  // from the source's size (0: unknown)
  xt::xarray<float> x;              // (N, H, W, C): the layout the model reads, handed to its first layer as is
  xt::xarray<float> y;              // (N, classes)
  std::vector<int> labels;          // N
  std::vector<std::int64_t> indices;  // N: positions in the source data set
  std::shared_ptr<const SampleNames> names;  // the source's sample names (null: none)
  std::size_t size() const { return labels.size(); }
};

inline constexpr const char* kImageType = "image";
inline constexpr const char* kTensorType = "tensor";
inline constexpr const char* kLabeledTensorType = "labeled_tensor";
inline constexpr const char* kBatchType = "batch";

}  // namespace stages
