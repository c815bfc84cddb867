#pragma once
// Test files: temporary directories, IDX writers (raw and gzip), and where the real MNIST lives.
#include <zlib.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

namespace testing_support {

class TempDir {
 public:
  TempDir() {
    std::random_device rd;
    path_ = std::filesystem::temp_directory_path() / ("pipeline-test-" + std::to_string(rd()) + std::to_string(rd()));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string file(const std::string& name) const { return (path_ / name).string(); }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// --set output_dir=... for a pipeline run inside a test: a fresh folder per call (runs hold a lock on their
// output folder, so tests running in parallel must not share one), removed when the test process ends.
inline std::string scratch_output_dir_override() {
  static TempDir root;
  static int runs = 0;
  return "output_dir=" + (root.path() / ("run" + std::to_string(++runs))).string();
}

inline void put_u32(std::vector<std::uint8_t>& out, std::uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) out.push_back(static_cast<std::uint8_t>(v >> s));
}

inline std::vector<std::uint8_t> idx_bytes(const std::vector<std::uint32_t>& dims, const std::vector<std::uint8_t>& data,
                                           std::uint8_t type = 0x08) {
  std::vector<std::uint8_t> out = {0, 0, type, static_cast<std::uint8_t>(dims.size())};
  for (auto d : dims) put_u32(out, d);
  out.insert(out.end(), data.begin(), data.end());
  return out;
}

inline std::vector<std::uint8_t> gzip(const std::vector<std::uint8_t>& raw) {
  z_stream z{};
  deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
  std::vector<std::uint8_t> out(deflateBound(&z, static_cast<uLong>(raw.size())) + 64);
  z.next_in = const_cast<Bytef*>(raw.data());
  z.avail_in = static_cast<uInt>(raw.size());
  z.next_out = out.data();
  z.avail_out = static_cast<uInt>(out.size());
  deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

inline void write_file(const std::string& path, const std::vector<std::uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

// n images of rows x cols whose pixels encode (image, position), labels i % classes.
inline void write_tiny_mnist(const std::string& images, const std::string& labels, std::uint32_t n, bool gz,
                             std::uint32_t rows = 4, std::uint32_t cols = 3, int classes = 10) {
  std::vector<std::uint8_t> pixels, label_bytes;
  for (std::uint32_t i = 0; i < n; ++i) {
    for (std::uint32_t p = 0; p < rows * cols; ++p) pixels.push_back(static_cast<std::uint8_t>((i * 7 + p) % 256));
    label_bytes.push_back(static_cast<std::uint8_t>(i % static_cast<std::uint32_t>(classes)));
  }
  auto img = idx_bytes({n, rows, cols}, pixels);
  auto lab = idx_bytes({n}, label_bytes);
  write_file(images, gz ? gzip(img) : img);
  write_file(labels, gz ? gzip(lab) : lab);
}

// The real MNIST: $PIPELINE_TEST_MNIST_DIR, else the directory CMake found (../shared/data/mnist in CI).
inline std::string mnist_dir() {
  if (const char* env = std::getenv("PIPELINE_TEST_MNIST_DIR")) return env;
  return PIPELINE_TEST_MNIST_DIR;
}
inline std::string mnist_file(const std::string& name) { return mnist_dir() + "/" + name; }
// Real-data tests fail (never skip) without the data, saying how to get it.
#define REQUIRE_MNIST()                                                                                            \
  ASSERT_TRUE(std::filesystem::exists(testing_support::mnist_file("train-images-idx3-ubyte.gz")))               \
      << "real MNIST not found in " << testing_support::mnist_dir()                                            \
      << "; run scripts/get-data, or set PIPELINE_TEST_MNIST_DIR to a folder with the four MNIST .gz files"

}  // namespace testing_support
