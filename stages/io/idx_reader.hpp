#pragma once
#include <memory>
#include <numeric>
#include <string>
#include <vector>

#include "common/samples.hpp"
#include "common/shared_by_groups.hpp"
#include "io/sample_order.hpp"
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
// `more` after `into`; the images must be of one size.
void append_labeled_images(LabeledImages& into, const LabeledImages& more, const std::string& more_path);

// An images file and its labels file.
struct IdxFilePair {
  std::string images, labels;
};

class IdxReader : public pipeline::Source {
 public:
  explicit IdxReader(const pipeline::Params& params);
  void prepare(const pipeline::RunContext& context) override;
  void start_epoch(int epoch) override;
  std::optional<pipeline::Payload> next() override;
  std::string stream() const override { return split_; }
  const LabeledImages& data() const { return data_; }

 private:
  void load(const pipeline::RunContext& context);

  std::vector<IdxFilePair> files_;
  std::string split_, shard_;
  int classes_;
  long long limit_;
  bool shuffle_;
  std::uint64_t seed_ = 0;
  int epoch_ = 0;
  LabeledImages data_;
  SharedByGroups<std::vector<std::uint8_t>> pixels_for_samples_;
  SampleOrder order_;
  // mpirun -np N: this rank sends positions first, first + step... of the epoch's order (every N-th sample when
  // the ranks share the samples, all of its own when they share the files).
  std::size_t first_ = 0, step_ = 1;
  std::int64_t epoch_size_ = 0;
};

}  // namespace stages
