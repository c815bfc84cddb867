#include <malloc.h>

#include "model/nn/blas_select.hpp"
#include "pipeline/cli.hpp"

namespace {

// glibc raises its mmap threshold each time a large block is freed; from then on the run's 6 MB buffers (a
// checkpoint's bytes, the weights copied for TensorBoard's images) come from the heap and stay there. Pinned at
// 1 MB, such blocks go back to the system when freed: a 3-epoch LeNet run's peak RSS 221 -> 180 MB, the training
// step unchanged (bench/README.md, section 10). Pinning it also pins the heap's trim threshold at 128 KB, which
// gave memory back and faulted it in again all the time (a third of the data stages' time, in the kernel): 16 MB.
void return_large_blocks_to_the_system() {
#ifdef __GLIBC__
  mallopt(M_MMAP_THRESHOLD, 1 << 20);
  mallopt(M_TRIM_THRESHOLD, 16 << 20);
#endif
}

}  // namespace

int main(int argc, char** argv) {
  return_large_blocks_to_the_system();
  nn::use_fast_blas_kernels(argv);
  return pipeline::cli_main(argc, argv);
}
