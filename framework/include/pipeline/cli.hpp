#pragma once
// The `pipeline` command line: run, validate, stages, graph. main() only forwards argv here.
namespace pipeline {

int cli_main(int argc, char** argv);

}  // namespace pipeline
