#include "sink/histogram.hpp"

#include <algorithm>
#include <cfloat>
#include <cmath>

namespace stages {

const std::vector<double>& default_bucket_limits() {
  static const std::vector<double> limits = [] {
    std::vector<double> positive;
    for (double v = 1.0e-12; v < 1.0e20; v *= 1.1) positive.push_back(v);
    positive.push_back(DBL_MAX);
    std::vector<double> all;
    for (auto it = positive.rbegin(); it != positive.rend(); ++it) all.push_back(-*it);
    all.push_back(0.0);
    all.insert(all.end(), positive.begin(), positive.end());
    return all;
  }();
  return limits;
}

Histogram make_histogram(const float* values, std::size_t count) {
  const std::vector<double>& limits = default_bucket_limits();
  std::vector<double> counts(limits.size(), 0.0);
  Histogram h;
  h.min = count ? DBL_MAX : 0.0;
  h.max = count ? -DBL_MAX : 0.0;
  for (std::size_t i = 0; i < count; ++i) {
    const double v = values[i];
    if (std::isnan(v)) continue;  // no bucket holds it; TensorFlow's writer drops it the same way
    const std::size_t b = static_cast<std::size_t>(std::upper_bound(limits.begin(), limits.end(), v) - limits.begin());
    counts[std::min(b, limits.size() - 1)] += 1;
    h.min = std::min(h.min, v);
    h.max = std::max(h.max, v);
    h.num += 1;
    h.sum += v;
    h.sum_squares += v * v;
  }
  if (h.num == 0) h.min = h.max = 0.0;
  for (std::size_t i = 0; i < limits.size();) {
    double end = limits[i], n = counts[i];
    ++i;
    if (n <= 0.0)  // a run of empty buckets becomes one, ending at the run's last limit
      while (i < limits.size() && counts[i] <= 0.0) end = limits[i], n = counts[i], ++i;
    h.bucket_limit.push_back(end);
    h.bucket.push_back(n);
  }
  return h;
}

}  // namespace stages
