#pragma once
// One run per output folder: an exclusive flock on <output_dir>/.pipeline.lock, held while the run lasts and
// released by the kernel however the process ends (kill -9 included), so a stale lock never blocks a new run.
#include <filesystem>

namespace pipeline {

class OutputLock {
 public:
  // Throws StageError naming the folder and the process holding it when another run has it.
  OutputLock(const std::filesystem::path& output_dir, const std::string& run_name);
  ~OutputLock();
  OutputLock(const OutputLock&) = delete;
  OutputLock& operator=(const OutputLock&) = delete;

  static constexpr const char* kFileName = ".pipeline.lock";

 private:
  int fd_ = -1;
};

}  // namespace pipeline
