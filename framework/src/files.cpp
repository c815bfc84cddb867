#include "pipeline/files.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>

namespace pipeline {
namespace {

std::string kind_of(mode_t mode) {
  if (S_ISREG(mode)) return "a regular file";
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO (named pipe)";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a regular file";
}

class Descriptor {
 public:
  explicit Descriptor(int fd) : fd_(fd) {}
  ~Descriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  Descriptor(const Descriptor&) = delete;
  Descriptor& operator=(const Descriptor&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

template <class Buffer>
Buffer read_whole(const std::filesystem::path& path, const std::string& what, std::uint64_t max_bytes) {
  // O_NONBLOCK: opening a FIFO must not wait for a writer; the type check below refuses it anyway.
  Descriptor fd(::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
  if (fd.get() < 0) throw FileError(what, path, std::string("cannot open (") + std::strerror(errno) + ")");
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0)
    throw FileError(what, path, std::string("cannot read (") + std::strerror(errno) + ")");
  if (!S_ISREG(st.st_mode))
    throw FileError(what, path, "it is " + kind_of(st.st_mode) + ", not a regular file");
  const auto size = static_cast<std::uint64_t>(st.st_size);
  if (size > max_bytes)
    throw FileError(what, path, "it is " + human_bytes(static_cast<double>(size)) + ", more than the " +
                                    human_bytes(static_cast<double>(max_bytes)) + " such a file may have");
  Buffer buffer(static_cast<std::size_t>(size), {});
  std::size_t done = 0;
  while (done < buffer.size()) {
    const ssize_t n = ::read(fd.get(), buffer.data() + done, buffer.size() - done);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n < 0) throw FileError(what, path, std::string("read error (") + std::strerror(errno) + ")");
    if (n == 0) break;  // shrank while being read: parse what is there, the format checks catch the rest
    done += static_cast<std::size_t>(n);
  }
  buffer.resize(done);
  return buffer;
}

}  // namespace

std::string file_kind(const std::filesystem::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return std::string("missing (") + std::strerror(errno) + ")";
  return kind_of(st.st_mode);
}

std::string read_regular_file(const std::filesystem::path& path, const std::string& what, std::uint64_t max_bytes) {
  return read_whole<std::string>(path, what, max_bytes);
}

std::vector<std::uint8_t> read_regular_file_bytes(const std::filesystem::path& path, const std::string& what,
                                                  std::uint64_t max_bytes) {
  return read_whole<std::vector<std::uint8_t>>(path, what, max_bytes);
}

void check_output_file(const std::filesystem::path& path, const std::string& what) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return;  // not there yet (or unreachable: the write will say why)
  if (!S_ISREG(st.st_mode))
    throw FileError(what, path, "it is " + kind_of(st.st_mode) +
                                    "; outputs are written as regular files only, choose another path");
}

namespace {

// The reason a write in `dir` failed, with the case a bare errno would misname: the folder itself is gone
// (deleted while the run was going), which ENOENT alone does not say.
std::string write_failure(const std::filesystem::path& dir, int error) {
  std::error_code ec;
  if (error == ENOENT && !std::filesystem::is_directory(dir, ec))
    return "its folder " + dir.string() + " no longer exists (deleted while the run was going?)";
  return std::strerror(error);
}

std::filesystem::path folder_of(const std::filesystem::path& path) {
  return path.parent_path().empty() ? std::filesystem::path(".") : path.parent_path();
}

// 0, or the errno of the failed write or flush.
int write_all(int fd, const std::string& content) {
  const char* data = content.data();
  std::size_t left = content.size();
  while (left > 0) {
    const ssize_t n = ::write(fd, data, left);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno;
    data += n;
    left -= static_cast<std::size_t>(n);
  }
  return ::fsync(fd) != 0 ? errno : 0;
}

}  // namespace

void write_file_atomically(const std::filesystem::path& path, const std::string& content) {
  check_output_file(path, "output");
  static std::atomic<unsigned long> counter{0};
  const std::filesystem::path dir = folder_of(path);
  const std::string temp = path.string() + "." + std::to_string(::getpid()) + "." + std::to_string(++counter) + ".tmp";
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) throw FileError("cannot write", path, write_failure(dir, errno));
  if (const int error = write_all(fd, content); error != 0) {
    ::close(fd);
    ::unlink(temp.c_str());
    throw FileError("cannot write", path, write_failure(dir, error));
  }
  if (::close(fd) != 0 || std::rename(temp.c_str(), path.c_str()) != 0) {
    const int error = errno;
    ::unlink(temp.c_str());
    throw FileError("cannot replace", path, write_failure(dir, error));
  }
  // The rename itself must reach the disk too, or a crash could bring back the old file.
  const int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0) {
    ::fsync(dir_fd);
    ::close(dir_fd);
  }
}

void append_to_file(const std::filesystem::path& path, const std::string& content) {
  check_output_file(path, "output");
  const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_NONBLOCK | O_CLOEXEC, 0644);
  if (fd < 0) throw FileError("cannot write", path, write_failure(folder_of(path), errno));
  const int error = write_all(fd, content);
  ::close(fd);
  if (error != 0) throw FileError("cannot write", path, write_failure(folder_of(path), error));
}

void ensure_writable_folder(const std::filesystem::path& file) {
  const std::filesystem::path dir = folder_of(file);
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw FileError("cannot create output folder", dir, ec.message());
  if (::access(dir.c_str(), W_OK) != 0) throw FileError("output folder", dir, std::string("not writable: ") + std::strerror(errno));
  check_output_file(file, "output");
}

std::string human_bytes(double bytes) {
  const char* units[] = {"bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  std::size_t unit = 0;
  while (bytes >= 1024 && unit + 1 < std::size(units)) bytes /= 1024, ++unit;
  char buf[48];
  std::snprintf(buf, sizeof buf, unit == 0 ? "%.0f %s" : "%.1f %s", bytes, units[unit]);
  return buf;
}

}  // namespace pipeline
