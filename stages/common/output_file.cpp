#include "common/output_file.hpp"

namespace stages {

std::filesystem::path output_path(const std::string& param, const std::filesystem::path& output_dir,
                                  const std::string& default_name) {
  return param.empty() ? output_dir / default_name : std::filesystem::path(param);
}

}  // namespace stages
