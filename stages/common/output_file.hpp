#pragma once
// Writing report files whole: to a temporary name, then renamed, so a reader never sees half a file and a
// crash leaves the previous version. Failures (unwritable folder, full disk) are errors naming the path.
#include <filesystem>
#include <string>

namespace stages {

void write_file_atomically(const std::filesystem::path& path, const std::string& content);
// Resolves a sink's path parameter: "" means `default_name` inside the run's output folder.
std::filesystem::path output_path(const std::string& param, const std::filesystem::path& output_dir,
                                  const std::string& default_name);
// Creates the folder now, so that a path that cannot be written fails before training, not after it.
void ensure_writable_folder(const std::filesystem::path& file);

}  // namespace stages
