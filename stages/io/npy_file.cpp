#include "io/npy_file.hpp"

#include <algorithm>
#include <cstring>
#include <limits>
#include <regex>
#include <sstream>

#include <xtensor/xnpy.hpp>

#include "pipeline/files.hpp"

namespace stages {
namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr std::size_t kMagicSize = 6;
// More elements than this in one file is a damaged header, not data (2^40 float32 are 4 TiB).
constexpr std::size_t kMaxElements = std::size_t{1} << 40;
constexpr std::size_t kMaxHeader = 65536;  // numpy writes a few hundred bytes
constexpr std::uint64_t kMaxFileBytes = std::uint64_t{64} << 30;  // larger is not a data set this reader holds in memory

std::uint32_t little_endian(const std::string& bytes, std::size_t at, std::size_t width) {
  std::uint32_t v = 0;
  for (std::size_t i = 0; i < width; ++i) v |= static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[at + i])) << (8 * i);
  return v;
}

// The value of 'key' in the header's dictionary literal, as written.
std::string dict_value(const std::string& header, const std::string& key, const std::string& name) {
  // Spaces only: what numpy writes, and all that xtensor's reader skips.
  static const std::regex entry("'(descr|fortran_order|shape)' *: *('[^']*'|True|False|\\([0-9, ]*\\))");
  for (auto it = std::sregex_iterator(header.begin(), header.end(), entry); it != std::sregex_iterator(); ++it)
    if ((*it)[1] == key) return (*it)[2];
  throw NpyError(name + ": the .npy header has no valid '" + key + "' entry");
}

std::vector<std::size_t> parse_shape(const std::string& text, const std::string& name) {
  std::vector<std::size_t> shape;
  std::size_t count = 1;
  std::stringstream in(text.substr(1, text.size() - 2));
  std::string part;
  while (std::getline(in, part, ',')) {
    part.erase(std::remove(part.begin(), part.end(), ' '), part.end());
    if (part.empty()) continue;
    if (part.size() > 15) throw NpyError(name + ": shape " + text + " is too large");
    std::size_t d = 0;
    for (char c : part) d = d * 10 + static_cast<std::size_t>(c - '0');  // the regex let digits only through
    if (d != 0 && count > kMaxElements / d) throw NpyError(name + ": shape " + text + " is too large");
    count *= d;
    shape.push_back(d);
  }
  return shape;
}

std::size_t item_size_of(const std::string& descr, const std::string& name) {
  static const std::regex valid("[<>|=][ifu][1248]");
  if (!std::regex_match(descr, valid))
    throw NpyError(name + ": dtype '" + descr + "' is not a plain number type (expected e.g. <f4, |u1, <i8)");
  if (descr[0] == '>' && descr[2] != '1')
    throw NpyError(name + ": dtype '" + descr + "' is big-endian; save it little-endian (array.astype('<" +
                   descr.substr(1) + "'))");
  return static_cast<std::size_t>(descr[2] - '0');
}

// The bytes were checked; xtensor's reader is asked only what it reads. Its own rare refusals keep the file's name.
template <class T>
xt::xarray<T> load_checked(const std::string& bytes, const std::string& name) {
  std::istringstream in(bytes);
  try {
    return xt::load_npy<T>(in);
  } catch (const std::exception& e) {
    throw NpyError(name + ": " + e.what());
  }
}

std::string shape_text(const std::vector<std::size_t>& shape) {
  std::string s = "(";
  for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + (shape.size() == 1 ? ",)" : ")");
}

// The dtype xtensor names for T, as numpy writes it on this (little-endian) machine.
std::string canonical(const std::string& descr) {
  if (descr[2] == '1') return std::string("|") + descr.substr(1);
  return std::string("<") + descr.substr(1);
}

}  // namespace

NpyHeader parse_npy_header(const std::string& bytes, const std::string& name) {
  if (bytes.size() < kMagicSize + 4 || std::memcmp(bytes.data(), kMagic, kMagicSize) != 0)
    throw NpyError(name + ": not a .npy file (no \\x93NUMPY magic)");
  const int major = static_cast<unsigned char>(bytes[6]);
  if (major < 1 || major > 3) throw NpyError(name + ": .npy format version " + std::to_string(major) + " is not supported");
  const std::size_t width = major == 1 ? 2 : 4;
  if (bytes.size() < 8 + width) throw NpyError(name + ": truncated header");
  const std::size_t header_size = little_endian(bytes, 8, width), start = 8 + width;
  if (header_size > bytes.size() - start) throw NpyError(name + ": truncated header");
  if (header_size > kMaxHeader) throw NpyError(name + ": a header of " + std::to_string(header_size) + " bytes is not a .npy header");
  const std::string header = bytes.substr(start, header_size);
  if (header.empty() || header.back() != '\n' || header.find('{') == std::string::npos)
    throw NpyError(name + ": the .npy header is not a dictionary ending in a newline");
  NpyHeader h;
  const std::string descr = dict_value(header, "descr", name);
  h.descr = descr.substr(1, descr.size() - 2);
  h.item_size = item_size_of(h.descr, name);
  if (dict_value(header, "fortran_order", name) == "True")
    throw NpyError(name + ": the array is stored in Fortran order; save numpy.ascontiguousarray(array) instead");
  h.shape = parse_shape(dict_value(header, "shape", name), name);
  h.count = 1;
  for (std::size_t d : h.shape) h.count *= d;
  h.data_offset = start + header_size;
  const std::size_t have = bytes.size() - h.data_offset, need = h.count * h.item_size;
  if (have < need)
    throw NpyError(name + ": truncated: shape " + shape_text(h.shape) + " of " + h.descr + " needs " + std::to_string(need) +
                   " data bytes, the file has " + std::to_string(have));
  if (have > need)
    throw NpyError(name + ": " + std::to_string(have - need) + " bytes after the data of shape " + shape_text(h.shape) +
                   " (a damaged file, or more than one array: save one array per file)");
  return h;
}

NpyImages parse_npy_images(const std::string& file_bytes, const std::string& name) {
  const NpyHeader h = parse_npy_header(file_bytes, name);
  const std::string dtype = canonical(h.descr);
  if (dtype != "|u1" && dtype != "<f4")
    throw NpyError(name + ": images must be uint8 or float32, got dtype '" + h.descr +
                   "' (convert with array.astype(numpy.float32))");
  if (h.shape.size() != 3 && h.shape.size() != 4)
    throw NpyError(name + ": images must be shaped (N, height, width) or (N, height, width, channels), got " +
                   shape_text(h.shape));
  for (std::size_t d : h.shape)
    if (d == 0) throw NpyError(name + ": images shaped " + shape_text(h.shape) + " hold nothing");
  NpyImages images;
  images.shape = {h.shape[0], h.shape[1], h.shape[2], h.shape.size() == 4 ? h.shape[3] : 1};
  // xtensor reads the type it is asked for only when the file names it exactly ("|u1", "<f4").
  std::string bytes = file_bytes;
  if (h.descr != dtype) bytes.replace(bytes.find(h.descr), h.descr.size(), dtype);
  images.uint8 = dtype == "|u1";
  if (images.uint8) images.bytes = load_checked<std::uint8_t>(bytes, name);
  else images.floats = load_checked<float>(bytes, name);
  return images;
}

std::vector<int> parse_npy_labels(const std::string& file_bytes, const std::string& name, int classes) {
  const NpyHeader h = parse_npy_header(file_bytes, name);
  if (h.descr[1] != 'i' && h.descr[1] != 'u')
    throw NpyError(name + ": labels must be integers, got dtype '" + h.descr + "'");
  if (h.shape.size() != 1) throw NpyError(name + ": labels must be shaped (N,), got " + shape_text(h.shape));
  std::string bytes = file_bytes;
  const std::string dtype = canonical(h.descr);
  if (h.descr != dtype) bytes.replace(bytes.find(h.descr), h.descr.size(), dtype);
  std::vector<long long> values;
  auto take = [&](auto array) { values.assign(array.begin(), array.end()); };
  switch (dtype[1] == 'u' ? h.item_size : 10 + h.item_size) {
    case 1: take(load_checked<std::uint8_t>(bytes, name)); break;
    case 2: take(load_checked<std::uint16_t>(bytes, name)); break;
    case 4: take(load_checked<std::uint32_t>(bytes, name)); break;
    case 11: take(load_checked<std::int8_t>(bytes, name)); break;
    case 12: take(load_checked<std::int16_t>(bytes, name)); break;
    case 14: take(load_checked<std::int32_t>(bytes, name)); break;
    case 18: take(load_checked<std::int64_t>(bytes, name)); break;
    default: {  // u8: values above int64's range cannot be labels anyway
      for (std::uint64_t v : load_checked<std::uint64_t>(bytes, name))
        values.push_back(v > static_cast<std::uint64_t>(std::numeric_limits<long long>::max()) ? -1 : static_cast<long long>(v));
    }
  }
  std::vector<int> labels;
  labels.reserve(values.size());
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (values[i] < 0 || values[i] >= classes)
      throw NpyError(name + ": label " + std::to_string(values[i]) + " of item " + std::to_string(i) +
                     " is out of range 0.." + std::to_string(classes - 1));
    labels.push_back(static_cast<int>(values[i]));
  }
  return labels;
}

std::string read_npy_file(const std::string& path) {
  return pipeline::read_regular_file(path, ".npy file", kMaxFileBytes);
}

}  // namespace stages
