#include "io/image_folder.hpp"

#include <algorithm>
#include <iostream>

#include "common/png.hpp"
#include "common/random.hpp"
#include "pipeline/files.hpp"
#include "pipeline/registry.hpp"

namespace stages {
namespace {

namespace fs = std::filesystem;

bool is_png(const fs::path& path) {
  std::string ext = path.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return ext == ".png";
}

bool hidden(const fs::path& path) { return path.filename().string().rfind('.', 0) == 0; }

// The regular files of a folder, sorted by name.
std::vector<fs::path> files_in(const fs::path& folder) {
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(folder))
    if (entry.is_regular_file() && !hidden(entry.path())) files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace

ImageFolder::ImageFolder(const pipeline::Params& p)
    : root_(p.get_string("root")),
      labeled_(p.get_string("labels") == "folders"),
      split_(p.get_string("split")),
      shuffle_(p.get_bool("shuffle")),
      skip_bad_(p.get_string("on_error") == "skip"),
      limit_(p.get_int("limit")),
      channels_(static_cast<int>(p.get_int("channels"))) {
  if (split_.empty()) p.fail("split", "must not be empty");
  const YAML::Node size = p.get_node("size");
  if (size.IsSequence() && size.size() == 2) {
    if (!YAML::convert<std::uint32_t>::decode(size[0], rows_) || !YAML::convert<std::uint32_t>::decode(size[1], cols_) ||
        rows_ == 0 || cols_ == 0)
      p.fail("size", "expected [height, width] of positive whole numbers");
  } else if (!(size.IsSequence() && size.size() == 0)) {
    p.fail("size", "expected [height, width], or [] for the first image's size");
  }
}

// Like every source's files, the folder is looked at when the run starts (a config validates before its data exists).
void ImageFolder::scan() {
  files_.clear();
  classes_.clear();
  ignored_ = 0;
  std::error_code ec;
  if (!fs::is_directory(root_, ec)) throw std::runtime_error("root: " + root_.string() + " is not a folder");
  auto add = [&](const fs::path& folder, int label) {
    for (const fs::path& file : files_in(folder)) {
      if (!is_png(file)) {
        ++ignored_;
        continue;
      }
      files_.push_back({file, fs::relative(file, root_).generic_string(), label});
    }
  };
  if (labeled_) {
    std::vector<fs::path> folders;
    for (const auto& entry : fs::directory_iterator(root_))
      if (entry.is_directory() && !hidden(entry.path())) folders.push_back(entry.path());
    std::sort(folders.begin(), folders.end());
    if (folders.empty())
      throw std::runtime_error("root: " + root_.string() + " has no sub-folders: with labels: folders, each class is a "
                               "sub-folder of its images (or set labels: none)");
    for (const fs::path& folder : folders) {
      classes_.push_back(folder.filename().string());
      add(folder, static_cast<int>(classes_.size() - 1));
    }
  } else {
    add(root_, kUnlabeled);
  }
  if (files_.empty()) throw std::runtime_error("root: no .png file in " + root_.string() + (labeled_ ? "'s class folders" : ""));
}

std::string ImageFolder::summary() const {
  if (files_.empty()) return "";
  std::string text = "  " + std::to_string(files_.size()) + " PNG files in " + root_.string();
  if (labeled_) {
    text += ", " + std::to_string(classes_.size()) + " classes (labels by sorted folder name):";
    for (std::size_t k = 0; k < classes_.size(); ++k) text += " " + std::to_string(k) + "=" + classes_[k];
  } else {
    text += ", without labels";
  }
  if (ignored_ > 0) text += "\n  (" + std::to_string(ignored_) + " files that are not .png are ignored)";
  return text + "\n";
}

// Appends the file's pixels; false when it is skipped (on_error: skip).
bool ImageFolder::decode_into(const ImageFile& file, std::vector<std::uint8_t>& pixels) {
  DecodedImage image;
  try {
    // As every data file is read (no FIFO or device); 256 MiB is far beyond any image to train on.
    image = decode_png(pipeline::read_regular_file(file.path, "image", std::uint64_t{256} << 20), channels_);
  } catch (const pipeline::FileError& e) {
    if (!skip_bad_) throw;
    std::cerr << "warning: image_folder: skipped " << e.what() << "\n";
    return false;
  } catch (const std::runtime_error& e) {
    if (!skip_bad_) throw std::runtime_error(file.path.string() + ": " + e.what() + " (on_error: skip skips such files)");
    std::cerr << "warning: image_folder: skipped " << file.path.string() << ": " << e.what() << "\n";
    return false;
  }
  if (rows_ == 0) rows_ = image.height, cols_ = image.width;
  if (image.height != rows_ || image.width != cols_)
    throw std::runtime_error(file.path.string() + ": an image of " + std::to_string(image.height) + "x" +
                             std::to_string(image.width) + " pixels (height x width), but the images are " +
                             std::to_string(rows_) + "x" + std::to_string(cols_) + "; resize it, or set size");
  pixels.insert(pixels.end(), image.pixels.begin(), image.pixels.end());
  return true;
}

void ImageFolder::load() {
  auto pixels = std::make_shared<std::vector<std::uint8_t>>();
  auto names = std::make_shared<SampleNames>();
  labels_.clear();
  for (const ImageFile& file : files_) {
    if (limit_ > 0 && labels_.size() >= static_cast<std::size_t>(limit_)) break;
    if (!decode_into(file, *pixels)) continue;
    labels_.push_back(file.label);
    names->push_back(file.name);
  }
  if (labels_.empty()) throw std::runtime_error(root_.string() + ": every image was skipped; nothing to read");
  pixels_ = std::move(pixels);
  names_ = std::move(names);
}

void ImageFolder::prepare(const pipeline::RunContext& context) {
  scan();
  if (context.rank() == 0) std::cout << "image_folder:" << summary().substr(1);
  load();
  pixels_for_samples_.reset(pixels_);
  names_for_samples_.reset(names_);
  order_.reset(labels_.size(), mix_seed(context.seed, hash_name(split_)), shuffle_,
               static_cast<std::size_t>(context.rank()), static_cast<std::size_t>(context.ranks()));
}

void ImageFolder::start_epoch(int epoch) {
  epoch_ = epoch;
  order_.start_epoch(epoch);
}

std::optional<pipeline::Payload> ImageFolder::next() {
  const std::optional<std::uint32_t> i = order_.next();
  if (!i) return std::nullopt;
  ImageSample s;
  s.index = *i;
  s.epoch = epoch_;
  s.epoch_size = static_cast<std::int64_t>(labels_.size());
  s.label = labels_[*i];
  s.rows = rows_;
  s.cols = cols_;
  s.channels = static_cast<std::uint32_t>(channels_);
  s.storage = pixels_for_samples_.next();
  s.offset = static_cast<std::size_t>(*i) * rows_ * cols_ * static_cast<std::size_t>(channels_);
  s.names = names_for_samples_.next();
  return pipeline::Payload::of(std::move(s));
}

static pipeline::StageSpec image_folder_spec() {
  using namespace pipeline;
  StageSpec spec;
  spec.type = "image_folder";
  spec.summary = "Source: PNG images from a folder: one sub-folder per class (torchvision's ImageFolder layout; "
                 "class names from the folder names), or one folder of images to predict (labels: none).";
  spec.kind = StageKind::Source;
  spec.output = kImageType;
  spec.params = {
      required_param("root", ParamType::String, "the folder"),
      string_param("labels", "folders", "'folders': a sub-folder per class; 'none': the root's images, unlabeled")
          .one_of({"folders", "none"}),
      string_param("split", "train", "stream name carried by every item (train streams are trained on)"),
      bool_param("shuffle", false, "new uniform permutation of the whole data set every epoch"),
      int_param("limit", 0, "use only the first N images (0 = all)").min(0),
      int_param("channels", 1, "1: grey (colour images are converted), 3: RGB").one_of({"1", "3"}),
      yaml_param("size", ParamType::List, "[]", "[height, width] every image must have ([] = the first image's)"),
      string_param("on_error", "fail", "an unreadable or damaged file: 'fail' (an error naming it) or 'skip' (a "
                                       "warning naming it)").one_of({"fail", "skip"}),
  };
  spec.create = [](const Params& p) { return std::make_unique<ImageFolder>(p); };
  return spec;
}

}  // namespace stages

PIPELINE_REGISTER_STAGE(stages::image_folder_spec())
