#pragma once
// Histograms as TensorFlow's C++ summary writer makes them (tensorflow/core/lib/histogram): buckets whose edges grow
// by 10% from 1e-12 to 1e20, mirrored for negative values, with a zero edge and ±DBL_MAX ends; runs of empty
// buckets merged into the next limit, so a histogram of 500,000 weights takes a few hundred buckets.
#include <cstddef>
#include <vector>

namespace stages {

struct Histogram {
  double min = 0, max = 0, num = 0, sum = 0, sum_squares = 0;
  // bucket[i] counts the values v with bucket_limit[i-1] <= v < bucket_limit[i] (from -DBL_MAX for i = 0).
  std::vector<double> bucket_limit, bucket;
};

// The edges every histogram shares, ascending: -DBL_MAX, ..., -1e-12, 0, 1e-12, ..., DBL_MAX.
const std::vector<double>& default_bucket_limits();

Histogram make_histogram(const float* values, std::size_t count);

}  // namespace stages
