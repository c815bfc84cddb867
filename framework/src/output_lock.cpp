#include "output_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "pipeline/error.hpp"
#include "pipeline/files.hpp"

namespace pipeline {

OutputLock::OutputLock(const std::filesystem::path& output_dir, const std::string& run_name) {
  const std::filesystem::path path = output_dir / kFileName;
  try {
    ensure_writable_folder(path);
  } catch (const FileError& e) {
    throw StageError(run_name, e.what());
  }
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_NONBLOCK | O_CLOEXEC, 0644);
  if (fd_ < 0) throw StageError(run_name, "cannot lock output folder " + output_dir.string() + ": " + std::strerror(errno));
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    const int error = errno;
    char holder[32] = {};
    const ssize_t n = ::pread(fd_, holder, sizeof holder - 1, 0);
    ::close(fd_);
    fd_ = -1;
    if (error != EWOULDBLOCK)
      throw StageError(run_name, "cannot lock output folder " + output_dir.string() + ": " + std::strerror(error));
    const std::string pid = n > 0 ? std::string(holder, static_cast<std::size_t>(n)) : "unknown";
    throw StageError(run_name, "output folder " + output_dir.string() + " is in use by another run (pid " +
                                   pid.substr(0, pid.find('\n')) +
                                   "); wait for it to end, or give this run another folder (--set output_dir=PATH)");
  }
  const std::string pid = std::to_string(::getpid()) + "\n";
  // The pid only feeds the message another run prints; the lock holds whether or not it is written.
  if (::ftruncate(fd_, 0) == 0) (void)!::pwrite(fd_, pid.data(), pid.size(), 0);
}

OutputLock::~OutputLock() {
  if (fd_ >= 0) ::close(fd_);
}

}  // namespace pipeline
