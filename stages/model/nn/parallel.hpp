#pragma once
#include <oneapi/tbb/blocked_range.h>
#include <oneapi/tbb/parallel_for.h>

#include <algorithm>

#include "model/nn/gemm.hpp"
#include "model/nn/layer.hpp"

namespace nn {

// Calls body(task, first, last) for fixed-size slices [first, last) of [0, n), in parallel. Slices never depend
// on the number of threads.
template <class Body>
void for_each_slice(std::size_t n, std::size_t slice, const Body& body) {
  // Bodies call BLAS: it must not start threads of its own inside TBB's (they would oversubscribe the cores,
  // and OpenBLAS's spin-waits hide its hand-offs from ThreadSanitizer), whoever calls the layers.
  static const bool blas_single_threaded = (use_single_threaded_blas(), true);
  (void)blas_single_threaded;
  const std::size_t tasks = (n + slice - 1) / slice;
  oneapi::tbb::parallel_for(
      oneapi::tbb::blocked_range<std::size_t>(0, tasks, 1),
      [&](const oneapi::tbb::blocked_range<std::size_t>& r) {
        for (std::size_t t = r.begin(); t != r.end(); ++t) body(t, t * slice, std::min(n, (t + 1) * slice));
      },
      oneapi::tbb::simple_partitioner());
}

}  // namespace nn
