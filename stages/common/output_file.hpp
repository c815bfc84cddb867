#pragma once
// Output paths of the sinks. Writing itself is the framework's (pipeline/files.hpp): whole files, atomically.
#include <filesystem>
#include <string>

#include "pipeline/files.hpp"

namespace stages {

using pipeline::ensure_writable_folder;
using pipeline::write_file_atomically;

// Resolves a sink's path parameter: "" means `default_name` inside the run's output folder.
std::filesystem::path output_path(const std::string& param, const std::filesystem::path& output_dir,
                                  const std::string& default_name);

}  // namespace stages
