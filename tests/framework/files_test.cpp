// Files a run opens: only regular files read, sizes bounded, outputs never replace special files, writes atomic
// with a temporary name per writer, and failures that say why.
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <functional>
#include <thread>

#include "pipeline/files.hpp"
#include "support/files.hpp"

using pipeline::FileError;
using testing_support::TempDir;

namespace {

std::string error_of(const std::function<void()>& action) {
  try {
    action();
  } catch (const FileError& e) {
    return e.what();
  }
  return "(no error)";
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST(Files, SpecialFilesAreRefusedWithoutBlockingOrReading) {
  TempDir dir;
  const std::string fifo = dir.file("pipe");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  // Without a writer, a blocking open of a FIFO would never return.
  EXPECT_TRUE(contains(error_of([&] { pipeline::read_regular_file(fifo, "config file", 1 << 20); }),
                       "config file " + fifo + ": it is a FIFO (named pipe), not a regular file"));
  EXPECT_TRUE(contains(error_of([&] { pipeline::read_regular_file("/dev/zero", "data file", 1 << 20); }),
                       "it is a character device, not a regular file"));
  EXPECT_TRUE(contains(error_of([&] { pipeline::read_regular_file(dir.path(), "data file", 1 << 20); }),
                       "it is a directory, not a regular file"));
  EXPECT_TRUE(contains(error_of([&] { pipeline::read_regular_file(dir.file("none"), "data file", 1 << 20); }),
                       "cannot open (No such file or directory)"));
}

TEST(Files, SizeLimitIsCheckedBeforeReading) {
  TempDir dir;
  pipeline::write_file_atomically(dir.file("big"), std::string(2048, 'x'));
  EXPECT_EQ(pipeline::read_regular_file(dir.file("big"), "f", 2048).size(), 2048u);
  EXPECT_TRUE(contains(error_of([&] { pipeline::read_regular_file(dir.file("big"), "f", 2047); }),
                       "it is 2.0 KiB, more than the 2.0 KiB such a file may have"));
}

TEST(Files, OutputsNeverReplaceSpecialFiles) {
  EXPECT_TRUE(contains(error_of([] { pipeline::write_file_atomically("/dev/null", "x"); }),
                       "/dev/null: it is a character device; outputs are written as regular files only"));
  TempDir dir;
  const std::string fifo = dir.file("pipe");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  EXPECT_TRUE(contains(error_of([&] { pipeline::append_to_file(fifo, "x"); }), "it is a FIFO"));
  EXPECT_TRUE(contains(error_of([&] { pipeline::ensure_writable_folder(dir.path() / "pipe"); }), "it is a FIFO"));
}

TEST(Files, ConcurrentWritersOfOneFileNeverCollide) {
  // Two writers of one path used to share "<path>.tmp": one renamed it away under the other.
  TempDir dir;
  const auto path = dir.path() / "shared.txt";
  std::vector<std::thread> writers;
  std::atomic<int> failures{0};
  for (int t = 0; t < 4; ++t)
    writers.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        try {
          pipeline::write_file_atomically(path, std::string(1000, static_cast<char>('a' + t)));
        } catch (const FileError&) {
          ++failures;
        }
      }
    });
  for (auto& w : writers) w.join();
  EXPECT_EQ(failures.load(), 0);
  const std::string last = pipeline::read_regular_file(path, "f", 1 << 20);
  EXPECT_EQ(last, std::string(1000, last[0])) << "always one writer's whole file";
  std::size_t files = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(dir.path())) ++files;
  EXPECT_EQ(files, 1u) << "no temporary left behind";
}

TEST(Files, AWriteIntoADeletedFolderSaysSo) {
  TempDir dir;
  const auto folder = dir.path() / "run";
  pipeline::ensure_writable_folder(folder / "history.csv");
  std::filesystem::remove_all(folder);
  const std::string message = error_of([&] { pipeline::write_file_atomically(folder / "history.csv", "x"); });
  EXPECT_TRUE(contains(message, "its folder " + folder.string() + " no longer exists")) << message;
  EXPECT_FALSE(contains(message, "disk full")) << message;
  EXPECT_TRUE(contains(error_of([&] { pipeline::append_to_file(folder / "events", "x"); }), "no longer exists"));
}
