#include "io/npy_reader.hpp"

#include <algorithm>

#include "common/random.hpp"
#include "pipeline/registry.hpp"

namespace stages {

NpyReader::NpyReader(const pipeline::Params& p)
    : images_path_(p.get_string("images")),
      labels_path_(p.get_string("labels")),
      split_(p.get_string("split")),
      classes_(static_cast<int>(p.get_int("classes"))),
      limit_(p.get_int("limit")),
      shuffle_(p.get_bool("shuffle")),
      factor_(p.get_float("factor")) {
  if (split_.empty()) p.fail("split", "must not be empty");
  if (images_path_.empty()) p.fail("images", "needs the path of a .npy file");
}

void NpyReader::prepare(const pipeline::RunContext& context) {
  images_ = parse_npy_images(read_npy_file(images_path_), images_path_);
  count_ = images_.shape[0];
  if (!labels_path_.empty()) {
    labels_ = parse_npy_labels(read_npy_file(labels_path_), labels_path_, classes_);
    if (labels_.size() != count_)
      throw NpyError(images_path_ + " holds " + std::to_string(count_) + " images but " + labels_path_ + " holds " +
                     std::to_string(labels_.size()) + " labels");
  }
  if (limit_ > 0) count_ = std::min<std::size_t>(count_, static_cast<std::size_t>(limit_));
  if (count_ > std::numeric_limits<std::uint32_t>::max())
    throw NpyError(images_path_ + ": more than 2^32 images in one file");
  scale_ = static_cast<float>(factor_ > 0 ? factor_ : images_.is_uint8() ? 1.0 / 255.0 : 1.0);
  // Under mpirun the ranks share the samples, as idx_reader's do (see io/sample_order.hpp).
  order_.reset(count_, mix_seed(context.seed, hash_name(split_)), shuffle_, static_cast<std::size_t>(context.rank()),
               static_cast<std::size_t>(context.ranks()));
}

void NpyReader::start_epoch(int epoch) {
  epoch_ = epoch;
  order_.start_epoch(epoch);
}

std::optional<pipeline::Payload> NpyReader::next() {
  const std::optional<std::uint32_t> i = order_.next();
  if (!i) return std::nullopt;
  const std::size_t h = images_.shape[1], w = images_.shape[2], c = images_.shape[3], n = h * w * c;
  TensorSample s;
  s.index = *i;
  s.epoch = epoch_;
  s.epoch_size = static_cast<std::int64_t>(count_);
  s.label = labels_.empty() ? kUnlabeled : labels_[*i];
  s.x = SampleTensor<3>::from_shape({h, w, c});
  float* out = s.x.data();
  if (images_.is_uint8()) {
    const std::uint8_t* in = images_.bytes.data() + static_cast<std::size_t>(*i) * n;
    for (std::size_t k = 0; k < n; ++k) out[k] = static_cast<float>(in[k]) * scale_;
  } else {
    const float* in = images_.floats.data() + static_cast<std::size_t>(*i) * n;
    for (std::size_t k = 0; k < n; ++k) out[k] = in[k] * scale_;
  }
  return pipeline::Payload::of(std::move(s));
}

static pipeline::StageSpec npy_reader_spec() {
  using namespace pipeline;
  StageSpec spec;
  spec.type = "npy_reader";
  spec.summary = "Source: images and labels from NumPy .npy files (images (N, H, W) or (N, H, W, C), uint8 or "
                 "float32; labels (N,) integers), as float32 tensors ready for one_hot.";
  spec.kind = StageKind::Source;
  spec.output = kTensorType;
  spec.params = {
      required_param("images", ParamType::String, ".npy file of the images"),
      string_param("labels", "", ".npy file of the labels ('' = none: images to predict, with an all-zero target)"),
      string_param("split", "train", "stream name carried by every item (train streams are trained on)"),
      bool_param("shuffle", false, "new uniform permutation of the whole data set every epoch"),
      int_param("limit", 0, "use only the first N items (0 = all)").min(0),
      int_param("classes", 10, "labels must lie in 0..classes-1").min(1),
      float_param("factor", 0.0, "every value is multiplied by it (0 = 1/255 for uint8 images, 1 for float32)").min(0),
  };
  spec.create = [](const Params& p) { return std::make_unique<NpyReader>(p); };
  return spec;
}

}  // namespace stages

PIPELINE_REGISTER_STAGE(stages::npy_reader_spec())
