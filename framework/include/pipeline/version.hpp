#pragma once
// What this build is: the version, and lines stages add (e.g. which BLAS kernel runs), for --version, the run
// header and reports.
#include <functional>
#include <string>
#include <vector>

namespace pipeline {

std::string version();
// `stage_type`: the line concerns that stage type only (e.g. the model's BLAS); "" for every run.
bool add_version_line(std::function<std::string()> line, std::string stage_type = "");
// Every line (--version, reports).
std::vector<std::string> version_lines();
// The lines that concern a pipeline made of these stage types (a run's banner).
std::vector<std::string> version_lines(const std::vector<std::string>& stage_types);

}  // namespace pipeline
