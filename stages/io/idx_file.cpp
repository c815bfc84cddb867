#include "io/idx_file.hpp"

#include "common/huge_pages.hpp"
#include "pipeline/files.hpp"

#include <zlib.h>

#include <cstring>
#include <memory>
#include <limits>

namespace stages {
namespace {

// Deflate cannot expand data by more than about 1032:1, so a header claiming more than this many bytes per
// compressed byte is lying; the check happens before anything is allocated.
constexpr std::uint64_t kMaxInflateRatio = 1100;
constexpr std::uint64_t kMaxPayloadBytes = std::uint64_t{4} << 30;
constexpr std::uint64_t kReserveAhead = std::uint64_t{256} << 20;

bool is_gzip(const std::vector<std::uint8_t>& bytes) {
  return bytes.size() >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b;
}

// Streams the decompressed bytes out in the sizes the caller asks for.
class Inflater {
 public:
  Inflater(const std::vector<std::uint8_t>& input, const std::string& name) : name_(name) {
    std::memset(&z_, 0, sizeof z_);
    if (inflateInit2(&z_, 15 + 16) != Z_OK) throw IdxError(name_ + ": cannot initialise zlib");
    z_.next_in = const_cast<Bytef*>(input.data());
    z_.avail_in = static_cast<uInt>(input.size());
  }
  ~Inflater() { inflateEnd(&z_); }
  Inflater(const Inflater&) = delete;
  Inflater& operator=(const Inflater&) = delete;

  // Fills exactly `size` bytes or throws, naming what was expected.
  void read(std::uint8_t* out, std::size_t size, const char* what) {
    std::size_t done = 0;
    while (done < size) {
      if (finished_)
        throw IdxError(name_ + ": file ends inside the " + std::string(what) + " (decompressed data is " +
                       std::to_string(total_) + " bytes, more expected)");
      const std::size_t chunk = std::min<std::size_t>(size - done, std::numeric_limits<uInt>::max());
      z_.next_out = out + done;
      z_.avail_out = static_cast<uInt>(chunk);
      const int rc = inflate(&z_, Z_NO_FLUSH);
      const std::size_t produced = chunk - z_.avail_out;
      done += produced;
      total_ += produced;
      if (rc == Z_STREAM_END) {
        after_member();
      } else if (rc == Z_BUF_ERROR && z_.avail_in == 0) {
        throw IdxError(name_ + ": truncated gzip stream (the compressed file ends early)");
      } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
        throw IdxError(name_ + ": corrupt gzip stream (" + std::string(z_.msg ? z_.msg : "zlib error") + ")");
      }
    }
  }

  // After the payload, the stream must end (and its CRC check pass) with nothing left over.
  void expect_end() {
    std::uint8_t extra = 0;
    while (!finished_) {
      z_.next_out = &extra;
      z_.avail_out = 1;
      const int rc = inflate(&z_, Z_NO_FLUSH);
      if (z_.avail_out == 0)
        throw IdxError(name_ + ": more data than the header declares (trailing bytes after the last item)");
      if (rc == Z_STREAM_END) {
        after_member();
      } else if (rc == Z_BUF_ERROR && z_.avail_in == 0) {
        throw IdxError(name_ + ": truncated gzip stream (missing its end and checksum)");
      } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
        throw IdxError(name_ + ": corrupt gzip stream (" + std::string(z_.msg ? z_.msg : "zlib error") + ")");
      }
    }
  }

 const std::vector<std::string>& warnings() const { return warnings_; }

 private:
  // gzip's rules, as `gzip -d` and zcat apply them: members may follow one another (what `cat a.gz b.gz`
  // makes) and decompress as one stream; bytes after the last member that do not start another are ignored,
  // zeros silently (block padding), anything else with a warning.
  void after_member() {
    if (z_.avail_in >= 2 && z_.next_in[0] == 0x1f && z_.next_in[1] == 0x8b) {
      if (inflateReset(&z_) != Z_OK) throw IdxError(name_ + ": cannot restart zlib for the next gzip member");
      return;
    }
    finished_ = true;
    bool zeros = true;
    for (uInt i = 0; i < z_.avail_in; ++i) zeros = zeros && z_.next_in[i] == 0;
    if (!zeros)
      warnings_.push_back(name_ + ": decompression OK, " + std::to_string(z_.avail_in) +
                          " bytes of trailing garbage ignored (as gzip does)");
  }

  z_stream z_;
  std::vector<std::string> warnings_;
  std::string name_;
  bool finished_ = false;
  std::size_t total_ = 0;
};

std::uint32_t big_endian(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
}

std::string type_name(std::uint8_t code) {
  switch (code) {
    case 0x08: return "unsigned byte";
    case 0x09: return "signed byte";
    case 0x0B: return "short";
    case 0x0C: return "int";
    case 0x0D: return "float";
    case 0x0E: return "double";
    default: return "unknown type 0x" + std::to_string(code);
  }
}

}  // namespace

IdxArray parse_idx(const std::vector<std::uint8_t>& bytes, const std::string& name, std::size_t expected_dims) {
  const bool gz = is_gzip(bytes);
  std::unique_ptr<Inflater> inflater;
  std::size_t raw_pos = 0;
  if (gz) inflater = std::make_unique<Inflater>(bytes, name);
  auto read = [&](std::uint8_t* out, std::size_t size, const char* what) {
    if (gz) return inflater->read(out, size, what);
    if (bytes.size() - raw_pos < size)
      throw IdxError(name + ": file is too short: it ends inside the " + std::string(what) + " (" +
                     std::to_string(bytes.size()) + " bytes)");
    std::memcpy(out, bytes.data() + raw_pos, size);
    raw_pos += size;
  };

  std::uint8_t magic[4];
  read(magic, 4, "header");
  if (magic[0] != 0 || magic[1] != 0)
    throw IdxError(name + ": not an IDX file (bad magic number; expected 00 00 08 0" +
                   std::to_string(expected_dims ? expected_dims : 1) + ")");
  if (magic[2] != 0x08)
    throw IdxError(name + ": IDX data type is " + type_name(magic[2]) + "; only unsigned byte (0x08) is supported");
  const std::size_t ndims = magic[3];
  if (ndims == 0) throw IdxError(name + ": IDX header declares zero dimensions");
  if (expected_dims && ndims != expected_dims)
    throw IdxError(name + ": IDX file has " + std::to_string(ndims) + " dimension(s), expected " +
                   std::to_string(expected_dims) + " (magic " + std::to_string(0x800 + ndims) + " instead of " +
                   std::to_string(0x800 + expected_dims) + ")");
  std::vector<std::uint8_t> dim_bytes(4 * ndims);
  read(dim_bytes.data(), dim_bytes.size(), "header");
  IdxArray array;
  std::uint64_t payload = 1;
  for (std::size_t d = 0; d < ndims; ++d) {
    const std::uint32_t n = big_endian(&dim_bytes[4 * d]);
    array.dims.push_back(n);
    payload *= n;
    if (payload > kMaxPayloadBytes)
      throw IdxError(name + ": header declares more than 4 GiB of data; the file is corrupt or not IDX");
  }
  const std::uint64_t available = gz ? (bytes.size() * kMaxInflateRatio) : (bytes.size() - raw_pos);
  if (payload > available) {
    std::string dims;
    for (auto n : array.dims) dims += (dims.empty() ? "" : "x") + std::to_string(n);
    throw IdxError(name + ": header declares " + dims + " = " + std::to_string(payload) + " bytes of data but the file " +
                   (gz ? "cannot hold that much (" : "has only ") + std::to_string(gz ? bytes.size() : available) +
                   (gz ? " compressed bytes)" : " bytes after the header; it is truncated"));
  }
  // Grow with the data actually present, so a header that lies costs no more memory than the file holds: the
  // room reserved ahead is address space until written, and it stops at kReserveAhead (a fuzzer's malloc limit).
  reserve_on_huge_pages(array.data, static_cast<std::size_t>(std::min(payload, kReserveAhead)));
  constexpr std::size_t kChunk = std::size_t{1} << 20;
  while (array.data.size() < payload) {
    const std::size_t done = array.data.size();
    const std::size_t chunk = std::min<std::size_t>(kChunk, static_cast<std::size_t>(payload) - done);
    array.data.resize(done + chunk);
    read(array.data.data() + done, chunk, "data");
  }
  if (gz) {
    inflater->expect_end();
    array.warnings = inflater->warnings();
  } else if (raw_pos != bytes.size()) {
    throw IdxError(name + ": " + std::to_string(bytes.size() - raw_pos) +
                   " bytes after the data the header declares; the file is corrupt");
  }
  return array;
}

IdxArray read_idx_file(const std::string& path, std::size_t expected_dims) {
  std::vector<std::uint8_t> bytes;
  try {
    bytes = pipeline::read_regular_file_bytes(path, "IDX file", kMaxPayloadBytes + (std::uint64_t{1} << 20));
  } catch (const pipeline::FileError& e) {
    throw IdxError(path + ": " + e.reason());
  }
  return parse_idx(bytes, path, expected_dims);
}

}  // namespace stages
