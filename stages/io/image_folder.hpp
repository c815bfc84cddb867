#pragma once
// image_folder: PNG images from a folder, as torchvision's ImageFolder and Keras' image_dataset_from_directory lay
// them out: one sub-folder per class (labels: folders; the classes are the sub-folders in sorted order, named after
// them), or the images of one folder without labels (labels: none; images to predict). Every image becomes 8-bit grey
// or RGB (`channels`) of one size: `size`, or the first image's; another size is an error naming the file.
// Unreadable files are errors naming the file, or skipped with a warning (on_error: skip).
#include <filesystem>
#include <string>
#include <vector>

#include "common/samples.hpp"
#include "common/shared_by_groups.hpp"
#include "io/sample_order.hpp"
#include "pipeline/params.hpp"
#include "pipeline/stage.hpp"

namespace stages {

struct ImageFile {
  std::filesystem::path path;
  std::string name;  // relative to the root, e.g. "7/00012.png"
  int label = kUnlabeled;
};

class ImageFolder : public pipeline::Source {
 public:
  explicit ImageFolder(const pipeline::Params& params);
  std::string summary() const override;  // what the folder holds, once prepared
  void prepare(const pipeline::RunContext& context) override;
  void start_epoch(int epoch) override;
  std::optional<pipeline::Payload> next() override;
  std::string stream() const override { return split_; }
  const std::vector<std::string>& class_names() const { return classes_; }

 private:
  void scan();
  void load();
  bool decode_into(const ImageFile& file, std::vector<std::uint8_t>& pixels);

  std::filesystem::path root_;
  bool labeled_;
  std::string split_;
  bool shuffle_, skip_bad_;
  long long limit_;
  int channels_;
  std::uint32_t rows_ = 0, cols_ = 0;  // 0: from the first image
  std::vector<std::string> classes_;
  std::vector<ImageFile> files_;
  std::size_t ignored_ = 0;  // files that are not .png
  std::shared_ptr<const std::vector<std::uint8_t>> pixels_;
  std::vector<int> labels_;
  std::shared_ptr<const SampleNames> names_;
  SharedByGroups<std::vector<std::uint8_t>> pixels_for_samples_;
  SharedByGroups<SampleNames> names_for_samples_;
  int epoch_ = 0;
  SampleOrder order_;
};

}  // namespace stages
