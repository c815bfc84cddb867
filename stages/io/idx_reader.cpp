// idx_reader: the MNIST-format source. Loads the data set once, then streams it every epoch; with
// `shuffle`, each epoch is a uniform permutation drawn from (seed, epoch, split), so the whole-epoch
// shuffle costs no buffering downstream and the first batch is ready after batch_size items.
#include "io/idx_reader.hpp"

#include <algorithm>
#include <iostream>
#include <random>

#include "common/random.hpp"
#include "io/idx_file.hpp"
#include "pipeline/registry.hpp"

namespace stages {

LabeledImages load_labeled_images(const std::string& images_path, const std::string& labels_path, int classes,
                                  long long limit) {
  IdxArray images = read_idx_file(images_path, 3);
  IdxArray labels = read_idx_file(labels_path, 1);
  for (const IdxArray* file : {&images, &labels})
    for (const std::string& warning : file->warnings) std::cerr << "warning: " << warning << "\n";
  if (images.dims[0] == 0) throw IdxError(images_path + ": the data set is empty (the header declares 0 images)");
  if (images.dims[0] != labels.dims[0])
    throw IdxError(images_path + " holds " + std::to_string(images.dims[0]) + " images but " + labels_path +
                   " holds " + std::to_string(labels.dims[0]) + " labels");
  if (images.dims[1] == 0 || images.dims[2] == 0)
    throw IdxError(images_path + ": images of size " + std::to_string(images.dims[1]) + "x" +
                   std::to_string(images.dims[2]) + " are empty");
  LabeledImages out;
  out.count = images.dims[0];
  out.rows = images.dims[1];
  out.cols = images.dims[2];
  if (limit > 0 && static_cast<std::uint64_t>(limit) < out.count) {
    out.count = static_cast<std::uint32_t>(limit);
    images.data.resize(static_cast<std::size_t>(out.count) * out.rows * out.cols);
    labels.data.resize(out.count);
  }
  for (std::uint32_t i = 0; i < out.count; ++i)
    if (labels.data[i] >= classes)
      throw IdxError(labels_path + ": label " + std::to_string(labels.data[i]) + " of item " + std::to_string(i) +
                     " is out of range 0.." + std::to_string(classes - 1));
  out.pixels = std::make_shared<const std::vector<std::uint8_t>>(std::move(images.data));
  out.labels = std::move(labels.data);
  return out;
}

IdxReader::IdxReader(const pipeline::Params& params)
    : images_path_(params.get_string("images")),
      labels_path_(params.get_string("labels")),
      split_(params.get_string("split")),
      classes_(static_cast<int>(params.get_int("classes"))),
      limit_(params.get_int("limit")),
      shuffle_(params.get_bool("shuffle")) {
  if (split_.empty()) params.fail("split", "must not be empty");
}

void IdxReader::prepare(const pipeline::RunContext& context) {
  seed_ = mix_seed(context.seed, hash_name(split_));
  data_ = load_labeled_images(images_path_, labels_path_, classes_, limit_);
  order_.resize(data_.count);
}

void IdxReader::start_epoch(int epoch) {
  epoch_ = epoch;
  position_ = 0;
  std::iota(order_.begin(), order_.end(), 0u);
  if (shuffle_) {
    std::mt19937_64 rng(mix_seed(seed_, static_cast<std::uint64_t>(epoch)));
    // Fisher-Yates with our own bounded draw: std::shuffle's use of the engine differs between libraries.
    for (std::size_t i = order_.size(); i > 1; --i) {
      const std::uint64_t bound = i;
      const std::uint64_t limit = std::numeric_limits<std::uint64_t>::max() - std::numeric_limits<std::uint64_t>::max() % bound;
      std::uint64_t r;
      do r = rng(); while (r >= limit);
      std::swap(order_[i - 1], order_[static_cast<std::size_t>(r % bound)]);
    }
  }
}

std::optional<pipeline::Payload> IdxReader::next() {
  if (position_ >= order_.size()) return std::nullopt;
  const std::uint32_t i = order_[position_++];
  ImageSample s;
  s.index = i;
  s.epoch = epoch_;
  s.epoch_size = static_cast<std::int64_t>(order_.size());
  s.label = data_.labels[i];
  s.rows = data_.rows;
  s.cols = data_.cols;
  s.channels = 1;
  s.storage = data_.pixels;
  s.offset = static_cast<std::size_t>(i) * data_.rows * data_.cols;
  return pipeline::Payload::of(std::move(s));
}

static pipeline::StageSpec idx_reader_spec() {
  using namespace pipeline;
  StageSpec spec;
  spec.type = "idx_reader";
  spec.summary = "Source: reads an IDX images file and its labels file (gzipped or raw), e.g. MNIST.";
  spec.kind = StageKind::Source;
  spec.output = kImageType;
  spec.params = {
      required_param("images", ParamType::String, "path of the IDX images file (.gz or raw)"),
      required_param("labels", ParamType::String, "path of the IDX labels file (.gz or raw)"),
      string_param("split", "train", "stream name carried by every item (train streams are trained on)"),
      bool_param("shuffle", false, "new uniform permutation of the whole data set every epoch"),
      int_param("limit", 0, "use only the first N items (0 = all)").min(0),
      int_param("classes", 10, "labels must lie in 0..classes-1").min(1).max(256),
  };
  spec.create = [](const Params& p) { return std::make_unique<IdxReader>(p); };
  return spec;
}

}  // namespace stages

PIPELINE_REGISTER_STAGE(stages::idx_reader_spec())
