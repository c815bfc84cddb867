#pragma once
// The `pipeline` command line: run, validate, stages, graph. main() only forwards argv here.
#include <functional>
#include <string>

namespace pipeline {

// Extra lines for `pipeline --version` and the run header (e.g. which BLAS kernel is in use).
bool add_version_line(std::function<std::string()> line);

int cli_main(int argc, char** argv);

}  // namespace pipeline
