#pragma once
// Opening the files a run names (config, data, checkpoints, outputs) safely: only regular files are read, so a
// FIFO cannot block the run, /dev/zero cannot exhaust memory and a folder fails with its path; every read has a
// size limit checked before anything is allocated; every error names the file and the OS reason.
#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

namespace pipeline {

// "<what> <path>: <reason>"; reason() alone, for messages that already name the file.
class FileError : public std::runtime_error {
 public:
  FileError(const std::string& what, const std::filesystem::path& path, const std::string& reason)
      : std::runtime_error(what + " " + path.string() + ": " + reason), reason_(reason) {}
  const std::string& reason() const { return reason_; }

 private:
  std::string reason_;
};

// "a directory", "a FIFO (named pipe)", "a character device", ... for the file at `path` (lstat is not used:
// a symbolic link to a regular file is fine).
std::string file_kind(const std::filesystem::path& path);

// The whole of a regular file, at most `max_bytes` long. `what` says what the file is for ("config file").
std::string read_regular_file(const std::filesystem::path& path, const std::string& what, std::uint64_t max_bytes);
std::vector<std::uint8_t> read_regular_file_bytes(const std::filesystem::path& path, const std::string& what,
                                                  std::uint64_t max_bytes);

// An output about to be written or replaced must be a regular file or not exist yet: replacing /dev/null or
// writing into a FIFO are refused.
void check_output_file(const std::filesystem::path& path, const std::string& what);

// Writes a file whole: to a temporary name unique to this process and call, then renamed over `path`, so a
// reader never sees half a file, a crash leaves the previous version, and two writers never share a temporary.
// The data and the rename are flushed to the disk before it returns.
void write_file_atomically(const std::filesystem::path& path, const std::string& content);

// Appends to a regular file (created if missing) and flushes it to the disk.
void append_to_file(const std::filesystem::path& path, const std::string& content);

// Creates the folder that will hold `file` and checks it can be written, so a bad output path fails before a
// run, not after it.
void ensure_writable_folder(const std::filesystem::path& file);

// "1.5 GiB", for messages about sizes.
std::string human_bytes(double bytes);

}  // namespace pipeline
