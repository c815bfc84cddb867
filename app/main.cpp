#include "pipeline/cli.hpp"

int main(int argc, char** argv) { return pipeline::cli_main(argc, argv); }
