#pragma once
// What this build is: the version, and lines stages add (e.g. which BLAS kernel runs), for --version, the run
// header and reports.
#include <functional>
#include <string>
#include <vector>

namespace pipeline {

std::string version();
bool add_version_line(std::function<std::string()> line);
std::vector<std::string> version_lines();

}  // namespace pipeline
