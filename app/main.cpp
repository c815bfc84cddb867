#include "model/nn/blas_select.hpp"
#include "pipeline/cli.hpp"

int main(int argc, char** argv) {
  nn::use_fast_blas_kernels(argv);
  return pipeline::cli_main(argc, argv);
}
