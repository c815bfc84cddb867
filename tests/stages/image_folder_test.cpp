// image_folder on PNG files written here (libpng): class folders and their names, grey and RGB, file names on
// the samples, and the errors of a wrong folder, a damaged file and another size.
#include <gtest/gtest.h>

#include <png.h>

#include <fstream>

#include "common/png.hpp"
#include "io/image_folder.hpp"
#include "support/files.hpp"
#include "support/params.hpp"

using namespace stages;
using testing_support::TempDir;

namespace {

void write(const std::filesystem::path& path, const std::string& bytes) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << bytes;
}

// A w x h PNG whose every pixel is `value`.
std::string grey_png(std::uint32_t w, std::uint32_t h, std::uint8_t value) {
  const std::vector<std::uint8_t> pixels(std::size_t{w} * h, value);
  return encode_png_gray(pixels.data(), w, h);
}

std::string rgb_png(std::uint32_t w, std::uint32_t h, std::uint8_t r, std::uint8_t g, std::uint8_t b) {
  png_image image{};
  image.version = PNG_IMAGE_VERSION;
  image.width = w;
  image.height = h;
  image.format = PNG_FORMAT_RGB;
  std::vector<std::uint8_t> pixels(std::size_t{w} * h * 3);
  for (std::size_t i = 0; i < pixels.size(); i += 3) pixels[i] = r, pixels[i + 1] = g, pixels[i + 2] = b;
  png_alloc_size_t size = 0;
  png_image_write_to_memory(&image, nullptr, &size, 0, pixels.data(), 0, nullptr);
  std::string out(size, '\0');
  png_image_write_to_memory(&image, out.data(), &size, 0, pixels.data(), 0, nullptr);
  return out;
}

std::vector<ImageSample> read_all(ImageFolder& source) {
  pipeline::RunContext context;
  source.prepare(context);
  source.start_epoch(0);
  std::vector<ImageSample> samples;
  while (auto p = source.next()) samples.push_back(p->get<ImageSample>());
  return samples;
}

template <class F>
void expect_failure(F&& f, const std::string& message) {
  try {
    f();
    FAIL() << "no error; expected: " << message;
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find(message), std::string::npos) << e.what();
  }
}

}  // namespace

TEST(ImageFolder, ClassFoldersInSortedOrderWithTheirFileNames) {
  TempDir dir;
  write(dir.path() / "cat" / "b.png", grey_png(4, 3, 10));
  write(dir.path() / "cat" / "a.png", grey_png(4, 3, 20));
  write(dir.path() / "dog" / "c.PNG", grey_png(4, 3, 30));
  write(dir.path() / "dog" / "notes.txt", "not an image");
  write(dir.path() / ".hidden" / "x.png", grey_png(4, 3, 40));
  ImageFolder source(params_for("image_folder", "{root: " + dir.path().string() + "}"));
  testing::internal::CaptureStdout();
  const auto samples = read_all(source);
  EXPECT_NE(testing::internal::GetCapturedStdout().find("3 PNG files in"), std::string::npos);
  EXPECT_EQ(source.class_names(), (std::vector<std::string>{"cat", "dog"}));
  EXPECT_NE(source.summary().find("0=cat 1=dog"), std::string::npos) << source.summary();
  EXPECT_NE(source.summary().find("1 files that are not .png are ignored"), std::string::npos);
  ASSERT_EQ(samples.size(), 3u);
  EXPECT_EQ((*samples[0].names)[0], "cat/a.png");
  EXPECT_EQ(samples[0].label, 0);
  EXPECT_EQ(samples[0].pixels()[0], 20);
  EXPECT_EQ(samples[2].label, 1);
  EXPECT_EQ((*samples[2].names)[2], "dog/c.PNG");
  EXPECT_EQ(samples[2].rows, 3u);
  EXPECT_EQ(samples[2].cols, 4u);
}

TEST(ImageFolder, GreyOrRgbWhateverTheFilesAreAndUnlabeledImages) {
  TempDir dir;
  write(dir.path() / "1.png", rgb_png(2, 2, 200, 100, 50));
  write(dir.path() / "2.png", grey_png(2, 2, 77));
  ImageFolder grey(params_for("image_folder", "{root: " + dir.path().string() + ", labels: none}"));
  const auto g = read_all(grey);
  ASSERT_EQ(g.size(), 2u);
  EXPECT_EQ(g[0].label, kUnlabeled);
  EXPECT_EQ(g[0].channels, 1u);
  EXPECT_NEAR(g[0].pixels()[0], 0.2126 * 200 + 0.7152 * 100 + 0.0722 * 50, 25) << "libpng's luminance";
  ImageFolder rgb(params_for("image_folder", "{root: " + dir.path().string() + ", labels: none, channels: 3}"));
  const auto c = read_all(rgb);
  EXPECT_EQ(c[0].channels, 3u);
  EXPECT_EQ(std::vector<int>(c[0].pixels(), c[0].pixels() + 3), (std::vector<int>{200, 100, 50}));
  EXPECT_EQ(std::vector<int>(c[1].pixels(), c[1].pixels() + 3), (std::vector<int>{77, 77, 77}));
}

TEST(ImageFolder, BadFoldersAndFilesAreErrorsNamingThem) {
  TempDir dir;
  ImageFolder missing(params_for("image_folder", "{root: " + dir.file("none") + "}"));
  expect_failure([&] { read_all(missing); }, "is not a folder");
  ImageFolder flat(params_for("image_folder", "{root: " + dir.path().string() + "}"));
  expect_failure([&] { read_all(flat); }, "has no sub-folders");
  write(dir.path() / "a" / "1.png", grey_png(5, 5, 1));
  write(dir.path() / "a" / "2.png", grey_png(6, 5, 1));
  ImageFolder sized(params_for("image_folder", "{root: " + dir.path().string() + "}"));
  expect_failure([&] { read_all(sized); }, "2.png: an image of 5x6 pixels (height x width), but the images are 5x5");
  ImageFolder fixed(params_for("image_folder", "{root: " + dir.path().string() + ", size: [6, 5]}"));
  expect_failure([&] { read_all(fixed); }, "1.png: an image of 5x5 pixels");
  write(dir.path() / "a" / "2.png", grey_png(5, 5, 1).substr(0, 40));
  ImageFolder damaged(params_for("image_folder", "{root: " + dir.path().string() + "}"));
  expect_failure([&] { read_all(damaged); }, "2.png: not a readable PNG (libpng: read beyond end of data)");
  ImageFolder skipping(params_for("image_folder", "{root: " + dir.path().string() + ", on_error: skip}"));
  testing::internal::CaptureStderr();
  EXPECT_EQ(read_all(skipping).size(), 1u);
  EXPECT_NE(testing::internal::GetCapturedStderr().find("warning: image_folder: skipped"), std::string::npos);
  expect_failure([&] { ImageFolder(params_for("image_folder", "{root: " + dir.path().string() + ", size: [0, 5]}")); },
                 "positive whole numbers");
}
