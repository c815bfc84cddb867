#pragma once
// npy_reader: images and labels from NumPy .npy files, as float32 tensors (the output of `scale`, ready for
// one_hot). Images (N, H, W) or (N, H, W, C), uint8 or float32; labels (N,) integers, or none (images to predict).
#include <string>

#include "common/samples.hpp"
#include "io/npy_file.hpp"
#include "io/sample_order.hpp"
#include "pipeline/params.hpp"
#include "pipeline/stage.hpp"

namespace stages {

class NpyReader : public pipeline::Source {
 public:
  explicit NpyReader(const pipeline::Params& params);
  void prepare(const pipeline::RunContext& context) override;
  void start_epoch(int epoch) override;
  std::optional<pipeline::Payload> next() override;
  std::string stream() const override { return split_; }

 private:
  std::string images_path_, labels_path_, split_;
  int classes_;
  long long limit_;
  bool shuffle_;
  double factor_;  // 0: by dtype
  NpyImages images_;
  std::vector<int> labels_;  // empty: unlabeled
  std::size_t count_ = 0;
  float scale_ = 1.0f;
  int epoch_ = 0;
  SampleOrder order_;
};

}  // namespace stages
