#pragma once
#include <memory>
#include <numeric>
#include <string>
#include <vector>

#include "common/samples.hpp"
#include "pipeline/params.hpp"
#include "pipeline/stage.hpp"

namespace stages {

// An images file and its labels file, validated against each other.
struct LabeledImages {
  std::uint32_t count = 0, rows = 0, cols = 0;
  std::shared_ptr<const std::vector<std::uint8_t>> pixels;
  std::vector<std::uint8_t> labels;
};

LabeledImages load_labeled_images(const std::string& images_path, const std::string& labels_path, int classes,
                                  long long limit);

class IdxReader : public pipeline::Source {
 public:
  explicit IdxReader(const pipeline::Params& params);
  void prepare(const pipeline::RunContext& context) override;
  void start_epoch(int epoch) override;
  std::optional<pipeline::Payload> next() override;
  std::string stream() const override { return split_; }
  const LabeledImages& data() const { return data_; }

 private:
  std::string images_path_, labels_path_, split_;
  int classes_;
  long long limit_;
  bool shuffle_;
  std::uint64_t seed_ = 0;
  int epoch_ = 0;
  LabeledImages data_;
  std::vector<std::uint32_t> order_;
  std::size_t position_ = 0;
};

}  // namespace stages
