// .npy validation on bytes written by xtensor (xt::dump_npy) and by hand: what numpy writes is read, and every
// damaged or unsupported file is an NpyError that names the file. (Files written by NumPy itself:
// tests/io/npy_files_test.py.)
#include <gtest/gtest.h>

#include <xtensor/xnpy.hpp>

#include <sys/stat.h>

#include "io/npy_file.hpp"
#include "pipeline/files.hpp"
#include "support/files.hpp"

using namespace stages;

namespace {

// A version 1.0 file with this header dictionary and `data_bytes` bytes of data (zeros).
std::string npy(const std::string& dict, std::size_t data_bytes) {
  std::string header = dict;
  while ((10 + header.size() + 1) % 16 != 0) header += ' ';
  header += '\n';
  std::string out = std::string("\x93NUMPY\x01\x00", 8);
  out += static_cast<char>(header.size() & 0xFF);
  out += static_cast<char>(header.size() >> 8);
  return out + header + std::string(data_bytes, '\0');
}

void expect_error(const std::string& bytes, const std::string& message) {
  try {
    parse_npy_images(bytes, "f.npy");
    FAIL() << "accepted; expected: " << message;
  } catch (const NpyError& e) {
    EXPECT_NE(std::string(e.what()).find("f.npy: "), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(message), std::string::npos) << e.what();
  }
}

}  // namespace

TEST(NpyFile, ImagesAndLabelsAsXtensorWritesThem) {
  xt::xarray<std::uint8_t> images = xt::arange<int>(2 * 3 * 4) % 256;
  images.reshape({2, 3, 4});
  const NpyImages read = parse_npy_images(xt::dump_npy(images), "a.npy");
  EXPECT_TRUE(read.is_uint8());
  EXPECT_EQ(read.shape, (std::vector<std::size_t>{2, 3, 4, 1}));
  EXPECT_EQ(read.bytes(1, 2, 3), 23);
  xt::xarray<float> floats = xt::ones<float>({2, 2, 2, 3}) * 0.5f;
  const NpyImages f = parse_npy_images(xt::dump_npy(floats), "b.npy");
  EXPECT_FALSE(f.is_uint8());
  EXPECT_EQ(f.shape, (std::vector<std::size_t>{2, 2, 2, 3}));
  EXPECT_EQ(f.floats(1, 1, 1, 2), 0.5f);
  const xt::xarray<std::int64_t> labels = {3, 0, 9};
  EXPECT_EQ(parse_npy_labels(xt::dump_npy(labels), "l.npy", 10), (std::vector<int>{3, 0, 9}));
  const xt::xarray<std::uint16_t> wide = {1, 2};
  EXPECT_EQ(parse_npy_labels(xt::dump_npy(wide), "l.npy", 10), (std::vector<int>{1, 2}));
  // What numpy writes: a space after each colon and comma, a trailing comma in a 1-D shape.
  EXPECT_EQ(parse_npy_header(npy("{'descr': '|u1', 'fortran_order': False, 'shape': (5,), }", 5), "n.npy").shape,
            (std::vector<std::size_t>{5}));
}

TEST(NpyFile, DamagedAndUnsupportedFilesNameTheProblem) {
  const std::string good = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3, 4), }";
  EXPECT_NO_THROW(parse_npy_images(npy(good, 96), "f.npy"));
  expect_error("P5 28 28", "not a .npy file");
  expect_error(npy(good, 95), "truncated: shape (2, 3, 4) of <f4 needs 96 data bytes, the file has 95");
  expect_error(npy(good, 97), "1 bytes after the data");
  expect_error(npy(good, 96).substr(0, 30), "truncated header");
  expect_error(npy("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3, 4), }", 192), "images must be uint8 or float32");
  expect_error(npy("{'descr': '>f4', 'fortran_order': False, 'shape': (2, 3, 4), }", 96), "is big-endian");
  expect_error(npy("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3, 4), }", 96), "Fortran order");
  expect_error(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (24,), }", 96), "must be shaped (N, height, width)");
  expect_error(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (0, 3, 4), }", 0), "hold nothing");
  expect_error(npy("{'descr': '<U8', 'fortran_order': False, 'shape': (2, 3, 4), }", 96), "not a plain number type");
  expect_error(npy("{'fortran_order': False, 'shape': (2, 3, 4), }", 96), "no valid 'descr' entry");
  expect_error(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999, 99999999999, 4), }", 0), "too large");
  std::string version = npy(good, 96);
  version[6] = 9;
  expect_error(version, "format version 9 is not supported");
  const xt::xarray<std::int32_t> labels = {1, 12};
  try {
    parse_npy_labels(xt::dump_npy(labels), "l.npy", 10);
    FAIL() << "label 12 of 10 classes passed";
  } catch (const NpyError& e) {
    EXPECT_NE(std::string(e.what()).find("l.npy: label 12 of item 1 is out of range 0..9"), std::string::npos) << e.what();
  }
  const xt::xarray<float> float_labels = {1.0f};
  EXPECT_THROW(parse_npy_labels(xt::dump_npy(float_labels), "l.npy", 10), NpyError);
}

TEST(NpyFile, ReadLikeEveryDataFileNeverAFifo) {
  testing_support::TempDir dir;
  ASSERT_EQ(::mkfifo(dir.file("fifo.npy").c_str(), 0600), 0);
  try {
    read_npy_file(dir.file("fifo.npy"));  // would wait forever for a writer if opened
    FAIL() << "read a FIFO";
  } catch (const pipeline::FileError& e) {
    EXPECT_NE(std::string(e.what()).find("fifo.npy: it is a FIFO"), std::string::npos) << e.what();
  }
  EXPECT_THROW(read_npy_file(dir.file("missing.npy")), pipeline::FileError);
}
