#include "model/nn/checkpoint.hpp"

#include <zlib.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "common/output_file.hpp"
#include "pipeline/files.hpp"

namespace nn {
namespace {

constexpr char kMagic[8] = {'P', 'L', 'N', 'C', 'K', 'P', 'T', '1'};
constexpr std::uint32_t kVersion = 2;
constexpr std::size_t kMaxRank = 8;

template <class T>
void put(std::vector<std::uint8_t>& out, T value) {
  for (std::size_t i = 0; i < sizeof(T); ++i) out.push_back(static_cast<std::uint8_t>(static_cast<std::uint64_t>(value) >> (8 * i)));
}

void put_bytes(std::vector<std::uint8_t>& out, const void* data, std::size_t size) {
  if (size == 0) return;
  const auto* p = static_cast<const std::uint8_t*>(data);
  out.insert(out.end(), p, p + size);
}

class Reader {
 public:
  Reader(const std::vector<std::uint8_t>& bytes, std::size_t end, const std::string& name)
      : bytes_(bytes), end_(end), name_(name) {}
  template <class T>
  T get(const char* what) {
    need(sizeof(T), what);
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < sizeof(T); ++i) v |= static_cast<std::uint64_t>(bytes_[pos_ + i]) << (8 * i);
    pos_ += sizeof(T);
    return static_cast<T>(v);
  }
  std::string text(std::size_t size, const char* what) {
    need(size, what);
    std::string s(reinterpret_cast<const char*>(bytes_.data() + pos_), size);
    pos_ += size;
    return s;
  }
  void floats(float* out, std::size_t count, const char* what) {
    if (count > (end_ - pos_) / sizeof(float)) fail(std::string("truncated ") + what);
    if (count == 0) return;  // an empty tensor has no buffer, and memcpy must not see a null pointer
    std::memcpy(out, bytes_.data() + pos_, count * sizeof(float));
    pos_ += count * sizeof(float);
  }
  double real(const char* what) {
    const auto bits = get<std::uint64_t>(what);
    double v;
    std::memcpy(&v, &bits, sizeof v);
    return v;
  }
  std::size_t remaining() const { return end_ - pos_; }
  [[noreturn]] void fail(const std::string& what) const { throw CheckpointError(name_ + ": corrupt checkpoint: " + what); }

 private:
  void need(std::size_t size, const char* what) {
    if (size > end_ - pos_) fail(std::string("truncated ") + what);
  }
  const std::vector<std::uint8_t>& bytes_;
  std::size_t end_;
  std::size_t pos_ = 0;
  std::string name_;
};

void put_real(std::vector<std::uint8_t>& out, double value) {
  std::uint64_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  put<std::uint64_t>(out, bits);
}

void put_position(std::vector<std::uint8_t>& out, const TrainingPosition& p) {
  for (std::uint64_t v : {p.epochs_done, p.run_epochs_done, p.seed, p.iterations}) put<std::uint64_t>(out, v);
  put<std::uint32_t>(out, static_cast<std::uint32_t>(p.partial_epoch.size()));
  for (const BatchRecord& r : p.partial_epoch) {
    put_real(out, r.loss);
    put<std::uint64_t>(out, r.correct);
    put_real(out, r.learning_rate);
  }
}

TrainingPosition get_position(Reader& in) {
  TrainingPosition p;
  p.epochs_done = in.get<std::uint64_t>("epochs done");
  p.run_epochs_done = in.get<std::uint64_t>("epochs of the run");
  p.seed = in.get<std::uint64_t>("seed");
  p.iterations = in.get<std::uint64_t>("iterations");
  const auto records = in.get<std::uint32_t>("record count");
  if (records > in.remaining() / 24) in.fail("more batch records than the file holds");
  p.partial_epoch.resize(records);
  for (BatchRecord& r : p.partial_epoch) {
    r.loss = in.real("batch loss");
    r.correct = in.get<std::uint64_t>("batch correct count");
    r.learning_rate = in.real("batch learning rate");
  }
  return p;
}

std::map<std::string, std::string> get_header(Reader& in) {
  std::map<std::string, std::string> entries;
  const auto header_size = in.get<std::uint32_t>("header length");
  const std::string header = in.text(header_size, "header");
  std::size_t start = 0;
  while (start < header.size()) {
    std::size_t end = header.find('\n', start);
    if (end == std::string::npos) in.fail("header line without newline");
    const std::string line = header.substr(start, end - start);
    const std::size_t eq = line.find('=');
    if (eq == std::string::npos) in.fail("header line without '='");
    entries[line.substr(0, eq)] = line.substr(eq + 1);
    start = end + 1;
  }
  return entries;
}

std::pair<std::string, Tensor> get_tensor(Reader& in) {
  const auto name_size = in.get<std::uint32_t>("tensor name length");
  std::string tensor_name = in.text(name_size, "tensor name");
  const auto rank = in.get<std::uint32_t>("tensor rank");
  if (rank > kMaxRank) in.fail("tensor '" + tensor_name + "' has rank " + std::to_string(rank));
  Shape shape;
  std::size_t elements = 1;
  for (std::uint32_t d = 0; d < rank; ++d) {
    const auto dim = in.get<std::uint64_t>("tensor shape");
    if (dim != 0 && elements > in.remaining() / sizeof(float) / dim)
      in.fail("tensor '" + tensor_name + "' is larger than the file");
    elements *= static_cast<std::size_t>(dim);
    shape.push_back(static_cast<std::size_t>(dim));
  }
  Tensor tensor = Tensor::from_shape(shape);
  in.floats(tensor.data(), elements, "tensor data");
  return {std::move(tensor_name), std::move(tensor)};
}

}  // namespace

const Tensor* Checkpoint::find(const std::string& name) const {
  for (const auto& [n, t] : tensors)
    if (n == name) return &t;
  return nullptr;
}

std::vector<std::uint8_t> encode_checkpoint(const Checkpoint& checkpoint) {
  std::vector<std::uint8_t> out;
  put_bytes(out, kMagic, sizeof kMagic);
  put<std::uint32_t>(out, kVersion);
  std::string header;
  for (const auto& [k, v] : checkpoint.header) header += k + "=" + v + "\n";
  put<std::uint32_t>(out, static_cast<std::uint32_t>(header.size()));
  put_bytes(out, header.data(), header.size());
  put_position(out, checkpoint.position);
  put<std::uint32_t>(out, static_cast<std::uint32_t>(checkpoint.tensors.size()));
  for (const auto& [name, tensor] : checkpoint.tensors) {
    put<std::uint32_t>(out, static_cast<std::uint32_t>(name.size()));
    put_bytes(out, name.data(), name.size());
    put<std::uint32_t>(out, static_cast<std::uint32_t>(tensor.dimension()));
    for (auto d : tensor.shape()) put<std::uint64_t>(out, d);
    put_bytes(out, tensor.data(), tensor.size() * sizeof(float));
  }
  const uLong crc = crc32(0L, out.data(), static_cast<uInt>(out.size()));
  put<std::uint32_t>(out, static_cast<std::uint32_t>(crc));
  return out;
}

Checkpoint decode_checkpoint(const std::vector<std::uint8_t>& bytes, const std::string& name) {
  if (bytes.size() < sizeof kMagic + 4 || std::memcmp(bytes.data(), kMagic, sizeof kMagic) != 0)
    throw CheckpointError(name + ": not a pipeline checkpoint (bad magic)");
  if (bytes.size() < sizeof kMagic + 8) throw CheckpointError(name + ": corrupt checkpoint: truncated header");
  const std::size_t body = bytes.size() - 4;
  std::uint32_t stored = 0;
  for (int i = 0; i < 4; ++i) stored |= static_cast<std::uint32_t>(bytes[body + static_cast<std::size_t>(i)]) << (8 * i);
  const auto computed = static_cast<std::uint32_t>(crc32(0L, bytes.data(), static_cast<uInt>(body)));
  Reader in(bytes, body, name);
  in.text(sizeof kMagic, "magic");
  const auto version = in.get<std::uint32_t>("version");
  if (version == 1)
    throw CheckpointError(name + ": written by an older version of pipeline (checkpoint format 1; this build reads "
                                 "format " + std::to_string(kVersion) + "): train again, or use the release that wrote it");
  if (version != kVersion)
    throw CheckpointError(name + ": checkpoint format version " + std::to_string(version) + " is not supported (this build reads version " +
                          std::to_string(kVersion) + ")");
  if (stored != computed) throw CheckpointError(name + ": corrupt checkpoint: checksum mismatch (truncated or damaged file)");
  Checkpoint checkpoint;
  checkpoint.header = get_header(in);
  checkpoint.position = get_position(in);
  const auto count = in.get<std::uint32_t>("tensor count");
  for (std::uint32_t t = 0; t < count; ++t) checkpoint.tensors.push_back(get_tensor(in));
  if (in.remaining() != 0) in.fail("unexpected bytes after the last tensor");
  return checkpoint;
}

void save_checkpoint(const Checkpoint& checkpoint, const std::string& path) {
  const std::vector<std::uint8_t> bytes = encode_checkpoint(checkpoint);
  try {
    stages::ensure_writable_folder(path);  // the model is worth a folder made again if it was deleted
    stages::write_file_atomically(path, std::string(bytes.begin(), bytes.end()));
  } catch (const std::runtime_error& e) {
    throw CheckpointError(std::string("saving checkpoint: ") + e.what());
  }
}

Checkpoint load_checkpoint(const std::string& path) {
  constexpr std::uint64_t kMaxCheckpointBytes = std::uint64_t{16} << 30;
  try {
    return decode_checkpoint(pipeline::read_regular_file_bytes(path, "checkpoint", kMaxCheckpointBytes), path);
  } catch (const pipeline::FileError& e) {
    throw CheckpointError(e.what());
  }
}

}  // namespace nn
