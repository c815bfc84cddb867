#include <gtest/gtest.h>

#include <sys/stat.h>

#include "io/idx_file.hpp"
#include "io/idx_reader.hpp"
#include "support/files.hpp"

using namespace testing_support;
using stages::IdxError;
using stages::parse_idx;

namespace {

std::string error_of(const std::vector<std::uint8_t>& bytes, std::size_t dims = 3) {
  try {
    parse_idx(bytes, "f.idx", dims);
  } catch (const IdxError& e) {
    return e.what();
  }
  return "no error";
}

std::vector<std::uint8_t> valid_images() { return idx_bytes({2, 2, 2}, {1, 2, 3, 4, 5, 6, 7, 8}); }

}  // namespace

TEST(IdxFile, ReadsRawAndGzipAlike) {
  const auto raw = valid_images();
  for (const auto& bytes : {raw, gzip(raw)}) {
    const auto a = parse_idx(bytes, "f", 3);
    EXPECT_EQ(a.dims, (std::vector<std::uint32_t>{2, 2, 2}));
    EXPECT_EQ(a.data, (std::vector<std::uint8_t>{1, 2, 3, 4, 5, 6, 7, 8}));
  }
}

TEST(IdxFile, EveryCorruptionHasItsOwnMessage) {
  EXPECT_EQ(error_of({}), "f.idx: file is too short: it ends inside the header (0 bytes)");
  EXPECT_NE(error_of({1, 2, 8, 3, 0, 0, 0, 1}).find("not an IDX file (bad magic number"), std::string::npos);
  EXPECT_NE(error_of(idx_bytes({1, 1, 1}, {0}, 0x0D)).find("IDX data type is float; only unsigned byte"), std::string::npos);
  EXPECT_NE(error_of(idx_bytes({1}, {0}), 3).find("has 1 dimension(s), expected 3 (magic 2049 instead of 2051)"),
            std::string::npos);
  EXPECT_NE(error_of({0, 0, 8, 0}).find("declares zero dimensions"), std::string::npos);
  EXPECT_NE(error_of({0, 0, 8, 3, 0, 0, 0}).find("ends inside the header"), std::string::npos);
  auto truncated = valid_images();
  truncated.pop_back();
  EXPECT_NE(error_of(truncated).find("header declares 2x2x2 = 8 bytes of data but the file has only 7 bytes"),
            std::string::npos);
  auto trailing = valid_images();
  trailing.push_back(0);
  EXPECT_NE(error_of(trailing).find("1 bytes after the data"), std::string::npos);
}

TEST(IdxFile, AbsurdHeaderIsAnErrorNotAnAllocation) {
  // 2^32-1 images of 255x255 in a file of a few bytes, raw and gzipped.
  auto huge = idx_bytes({0xFFFFFFFFu, 255, 255}, {1, 2, 3});
  EXPECT_NE(error_of(huge).find("more than 4 GiB"), std::string::npos);
  auto big = idx_bytes({100000, 28, 28}, {1, 2, 3});
  EXPECT_NE(error_of(big).find("header declares 100000x28x28 = 78400000 bytes of data but the file has only 3 bytes"),
            std::string::npos);
  EXPECT_NE(error_of(gzip(big)).find("cannot hold that much"), std::string::npos);
}

TEST(IdxFile, TruncatedAndCorruptGzip) {
  auto gz = gzip(valid_images());
  auto cut = gz;
  cut.resize(gz.size() - 10);
  EXPECT_NE(error_of(cut).find("truncated gzip stream"), std::string::npos) << error_of(cut);
  auto damaged = gz;
  damaged[damaged.size() - 6] ^= 0xFF;  // inside the CRC-32 trailer
  EXPECT_NE(error_of(damaged).find("corrupt gzip stream"), std::string::npos) << error_of(damaged);
  auto garbage = gz;
  for (std::size_t i = 10; i < garbage.size() - 8; ++i) garbage[i] = 0xFF;
  EXPECT_NE(error_of(garbage).find("gzip"), std::string::npos) << error_of(garbage);
}

TEST(IdxFile, ConcatenatedGzipMembersReadAsOneStream) {
  // What `cat a.gz b.gz > c.gz` makes and zcat reads: the header in one member, the data split over others.
  const auto raw = valid_images();
  const std::size_t cuts[] = {0, 6, 16, raw.size()};
  std::vector<std::uint8_t> members;
  for (std::size_t i = 0; i + 1 < std::size(cuts); ++i) {
    const auto member = gzip(std::vector<std::uint8_t>(raw.begin() + cuts[i], raw.begin() + cuts[i + 1]));
    members.insert(members.end(), member.begin(), member.end());
  }
  const auto a = parse_idx(members, "f", 3);
  EXPECT_EQ(a.data, (std::vector<std::uint8_t>{1, 2, 3, 4, 5, 6, 7, 8}));
  EXPECT_TRUE(a.warnings.empty());
  // More data in a later member than the header declares is still an error.
  auto extra = members;
  const auto more = gzip({9});
  extra.insert(extra.end(), more.begin(), more.end());
  EXPECT_NE(error_of(extra).find("more data than the header declares"), std::string::npos) << error_of(extra);
}

TEST(IdxFile, TrailingBytesAfterTheLastMemberAreIgnoredAsGzipDoes) {
  auto padded = gzip(valid_images());
  padded.insert(padded.end(), 512, 0);  // zeros: block padding, ignored silently
  EXPECT_TRUE(parse_idx(padded, "f", 3).warnings.empty());
  auto garbage = gzip(valid_images());
  for (std::uint8_t b : {'j', 'u', 'n', 'k'}) garbage.push_back(b);
  const auto a = parse_idx(garbage, "f", 3);
  EXPECT_EQ(a.data.size(), 8u);
  ASSERT_EQ(a.warnings.size(), 1u);
  EXPECT_EQ(a.warnings[0], "f: decompression OK, 4 bytes of trailing garbage ignored (as gzip does)");
}

TEST(IdxFile, SpecialFilesAreRefused) {
  TempDir dir;
  ASSERT_EQ(::mkfifo(dir.file("fifo").c_str(), 0600), 0);
  for (const std::string& path : {dir.file("fifo"), std::string("/dev/zero"), dir.path().string()}) {
    try {
      stages::read_idx_file(path, 3);
      ADD_FAILURE() << path;
    } catch (const IdxError& e) {
      EXPECT_NE(std::string(e.what()).find(path + ": it is a"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("not a regular file"), std::string::npos) << e.what();
    }
  }
}

TEST(IdxReader, AnEmptyDataSetIsAnError) {
  TempDir dir;
  write_file(dir.file("i"), idx_bytes({0, 2, 2}, {}));
  write_file(dir.file("l"), idx_bytes({0}, {}));
  try {
    stages::load_labeled_images(dir.file("i"), dir.file("l"), 10, 0);
    FAIL();
  } catch (const IdxError& e) {
    EXPECT_NE(std::string(e.what()).find("the data set is empty (the header declares 0 images)"), std::string::npos);
  }
}

TEST(IdxFile, MissingFileNamesThePath) {
  try {
    stages::read_idx_file("/nonexistent/x.gz", 3);
    FAIL();
  } catch (const IdxError& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/x.gz: cannot open"), std::string::npos);
  }
}

TEST(IdxReader, ImagesAndLabelsMustAgreeAndLabelsBeInRange) {
  TempDir dir;
  write_tiny_mnist(dir.file("i"), dir.file("l"), 5, true);
  write_tiny_mnist(dir.file("i4"), dir.file("l4"), 4, false);
  try {
    stages::load_labeled_images(dir.file("i"), dir.file("l4"), 10, 0);
    FAIL();
  } catch (const IdxError& e) {
    EXPECT_NE(std::string(e.what()).find("holds 5 images but"), std::string::npos) << e.what();
  }
  try {
    stages::load_labeled_images(dir.file("i"), dir.file("l"), 3, 0);
    FAIL();
  } catch (const IdxError& e) {
    EXPECT_NE(std::string(e.what()).find("label 3 of item 3 is out of range 0..2"), std::string::npos) << e.what();
  }
  const auto limited = stages::load_labeled_images(dir.file("i"), dir.file("l"), 10, 2);
  EXPECT_EQ(limited.count, 2u);
  EXPECT_EQ(limited.pixels->size(), 2u * 4 * 3);
}

TEST(IdxReader, RealMnistCountsAndLabelHistograms) {
  REQUIRE_MNIST();
  const auto train = stages::load_labeled_images(mnist_file("train-images-idx3-ubyte.gz"),
                                                 mnist_file("train-labels-idx1-ubyte.gz"), 10, 0);
  const auto test = stages::load_labeled_images(mnist_file("t10k-images-idx3-ubyte.gz"),
                                                mnist_file("t10k-labels-idx1-ubyte.gz"), 10, 0);
  EXPECT_EQ(train.count, 60000u);
  EXPECT_EQ(test.count, 10000u);
  EXPECT_EQ(train.rows, 28u);
  EXPECT_EQ(train.cols, 28u);
  std::vector<int> train_hist(10), test_hist(10);
  for (auto l : train.labels) ++train_hist[l];
  for (auto l : test.labels) ++test_hist[l];
  EXPECT_EQ(train_hist, (std::vector<int>{5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949}));
  EXPECT_EQ(test_hist, (std::vector<int>{980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009}));
  double sum = 0;
  for (auto p : *train.pixels) sum += p;
  EXPECT_NEAR(sum / static_cast<double>(train.pixels->size()), 33.3184, 1e-3);
}
