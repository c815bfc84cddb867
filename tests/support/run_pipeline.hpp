#pragma once
// Runs the `pipeline` executable as a user does, from the source folder, and collects what it prints.
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <string>

namespace testing_support {

struct Result {
  int code = -1;
  std::string output;  // stdout and stderr together
};

// `environment`: assignments put before the command, e.g. "PIPELINE_SIMD=sse2".
inline Result run(const std::string& args, const std::string& environment = "") {
  const std::string command =
      std::string("cd " PIPELINE_SOURCE_DIR " && ") + environment + " " PIPELINE_BINARY " " + args + " 2>&1";
  Result r;
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) return r;
  std::array<char, 4096> buffer;
  std::size_t n;
  while ((n = fread(buffer.data(), 1, buffer.size(), pipe)) > 0) r.output.append(buffer.data(), n);
  const int status = pclose(pipe);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

}  // namespace testing_support
