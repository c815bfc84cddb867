// idx_reader: the MNIST-format source. Loads the data set once, then streams it every epoch; with
// `shuffle`, each epoch is a uniform permutation drawn from (seed, epoch, split), so the whole-epoch
// shuffle costs no buffering downstream and the first batch is ready after batch_size items.
#include "io/idx_reader.hpp"

#include <glob.h>

#include <algorithm>
#include <limits>
#include <iostream>
#include <random>

#include "common/huge_pages.hpp"
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

void append_labeled_images(LabeledImages& into, const LabeledImages& more, const std::string& more_path) {
  if (into.count == 0) {
    into = more;
    return;
  }
  if (more.rows != into.rows || more.cols != into.cols)
    throw IdxError(more_path + ": images of " + std::to_string(more.rows) + "x" + std::to_string(more.cols) +
                   " pixels, but the files before it hold " + std::to_string(into.rows) + "x" +
                   std::to_string(into.cols));
  if (static_cast<std::uint64_t>(into.count) + more.count > std::numeric_limits<std::uint32_t>::max())
    throw IdxError(more_path + ": the files hold more than 2^32 images together");
  auto pixels = std::make_shared<std::vector<std::uint8_t>>();
  reserve_on_huge_pages(*pixels, into.pixels->size() + more.pixels->size());
  pixels->insert(pixels->end(), into.pixels->begin(), into.pixels->end());
  pixels->insert(pixels->end(), more.pixels->begin(), more.pixels->end());
  into.pixels = std::move(pixels);
  into.labels.insert(into.labels.end(), more.labels.begin(), more.labels.end());
  into.count += more.count;
}

namespace {

// A parameter naming files: one path, a glob pattern (sorted matches), or a list of paths.
std::vector<std::string> file_list(const pipeline::Params& p, const std::string& name) {
  const YAML::Node node = p.get_node(name);
  std::vector<std::string> files;
  if (node.IsSequence()) {
    for (const auto& item : node) {
      if (!item.IsScalar()) p.fail(name, item, "expected a file path");
      files.push_back(item.Scalar());
    }
    if (files.empty()) p.fail(name, "the list of files is empty");
    return files;
  }
  if (!node.IsScalar()) p.fail(name, "expected a file path, a glob pattern or a list of paths");
  const std::string pattern = node.Scalar();
  if (pattern.find_first_of("*?[") == std::string::npos) return {pattern};
  glob_t found{};
  const int status = ::glob(pattern.c_str(), 0, nullptr, &found);
  for (std::size_t i = 0; status == 0 && i < found.gl_pathc; ++i) files.emplace_back(found.gl_pathv[i]);
  ::globfree(&found);
  if (files.empty()) p.fail(name, "no file matches '" + pattern + "'");
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace

IdxReader::IdxReader(const pipeline::Params& params)
    : split_(params.get_string("split")),
      shard_(params.get_string("shard")),
      classes_(static_cast<int>(params.get_int("classes"))),
      limit_(params.get_int("limit")),
      shuffle_(params.get_bool("shuffle")) {
  if (split_.empty()) params.fail("split", "must not be empty");
  const std::vector<std::string> images = file_list(params, "images"), labels = file_list(params, "labels");
  if (images.size() != labels.size())
    params.fail("labels", std::to_string(labels.size()) + " labels file(s) for " + std::to_string(images.size()) +
                              " images file(s): each images file needs its labels file (paired in order)");
  for (std::size_t i = 0; i < images.size(); ++i) files_.push_back({images[i], labels[i]});
  const auto ranks = static_cast<std::size_t>(pipeline::world().size());
  if (shard_ == "files" && files_.size() < ranks)
    params.fail("shard", "'files' needs at least one file pair per rank: " + std::to_string(files_.size()) +
                             " pair(s) for " + std::to_string(ranks) + " ranks");
}

// Loads this rank's data: every file (the ranks then share the samples), or, when the ranks share the files,
// pairs rank, rank + N, rank + 2N... of the list.
void IdxReader::load(const pipeline::RunContext& context) {
  const auto rank = static_cast<std::size_t>(context.rank()), ranks = static_cast<std::size_t>(context.ranks());
  const bool by_files = ranks > 1 && (shard_ == "files" || (shard_ == "auto" && files_.size() >= ranks && files_.size() > 1));
  data_ = LabeledImages{};
  for (std::size_t i = 0; i < files_.size(); ++i) {
    if (by_files && i % ranks != rank) continue;
    const LabeledImages part = load_labeled_images(files_[i].images, files_[i].labels, classes_, files_.size() == 1 ? limit_ : 0);
    append_labeled_images(data_, part, files_[i].images);
  }
  if (limit_ > 0 && static_cast<std::uint64_t>(limit_) < data_.count) {
    data_.count = static_cast<std::uint32_t>(limit_);
    data_.labels.resize(data_.count);
  }
  first_ = by_files ? 0 : rank;
  step_ = by_files ? 1 : ranks;
  epoch_size_ = data_.count;
  if (by_files) {
    // Each rank permutes its own share; the batcher makes every rank take as many steps as the largest share.
    seed_ = mix_seed(seed_, static_cast<std::uint64_t>(rank) + 1);
    epoch_size_ = static_cast<std::int64_t>(ranks) * context.communicator().max(data_.count);
  }
}

void IdxReader::prepare(const pipeline::RunContext& context) {
  seed_ = mix_seed(context.seed, hash_name(split_));
  load(context);
  pixels_for_samples_.reset(data_.pixels);
  order_.reset(data_.count, seed_, shuffle_, first_, step_);
}

void IdxReader::start_epoch(int epoch) {
  epoch_ = epoch;
  order_.start_epoch(epoch);
}

std::optional<pipeline::Payload> IdxReader::next() {
  const std::optional<std::uint32_t> next = order_.next();
  if (!next) return std::nullopt;
  const std::uint32_t i = *next;
  ImageSample s;
  s.index = i;
  s.epoch = epoch_;
  s.epoch_size = epoch_size_;
  s.label = data_.labels[i];
  s.rows = data_.rows;
  s.cols = data_.cols;
  s.channels = 1;
  s.storage = pixels_for_samples_.next();
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
      required_param("images", ParamType::Any, "IDX images file (.gz or raw); or a glob pattern or a list of files, "
                                               "read one after the other"),
      required_param("labels", ParamType::Any, "IDX labels file(s), paired in order with images"),
      string_param("split", "train", "stream name carried by every item (train streams are trained on)"),
      bool_param("shuffle", false, "new uniform permutation of the whole data set every epoch"),
      int_param("limit", 0, "use only the first N items (0 = all; with shard files: of each rank's files)").min(0),
      string_param("shard", "auto", "mpirun -np N: 'samples': every rank reads every file and takes every N-th "
                                    "sample; 'files': rank r reads file pairs r, r+N...; 'auto': files when there are "
                                    "at least N pairs, else samples")
          .one_of({"auto", "samples", "files"}),
      int_param("classes", 10, "labels must lie in 0..classes-1").min(1).max(256),
  };
  spec.create = [](const Params& p) { return std::make_unique<IdxReader>(p); };
  return spec;
}

}  // namespace stages

PIPELINE_REGISTER_STAGE(stages::idx_reader_spec())
