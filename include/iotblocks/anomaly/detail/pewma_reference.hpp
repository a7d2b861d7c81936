// Private to tests and benchmarks: PEWMA transcribed literally from the published
// equations (first and second moments s1, s2; std = sqrt(s2 - s1^2); std::exp),
// the yardstick for accuracy and speed of anomaly::pewma. Not numerically stable:
// s2 - s1^2 loses every digit (or goes negative, giving NaN) on large offsets.
#pragma once

#include <iotblocks/core/export.hpp>

#include <cmath>
#include <cstdint>
#include <limits>

IOTBLOCKS_API_BEGIN

namespace iotblocks::anomaly::detail {

struct pewma_reference {
  double alpha0 = 0.95;
  double beta = 0.5;
  std::uint32_t training = 30;
  double threshold = 0.002;

  double s1 = 0, s2 = 0;
  std::uint64_t t = 0;

  struct output {
    double mean, stddev, z, p;
    bool anomaly;
  };

  output update(double x) {
    constexpr double inv_sqrt_2pi = 0.3989422804014327;
    ++t;
    if (t == 1) {
      s1 = x;
      s2 = x * x;
      return {x, 0.0, 0.0, inv_sqrt_2pi, false};
    }
    const double mean = s1;
    const double stddev = std::sqrt(s2 - s1 * s1);
    double z = (x - mean) / stddev;
    if (stddev == 0)
      z = x == mean ? 0.0 : std::copysign(std::numeric_limits<double>::infinity(), x - mean);
    const double p = inv_sqrt_2pi * std::exp(-z * z / 2);
    const double alpha =
        t < training ? 1.0 - 1.0 / static_cast<double>(t) : (1 - beta * p) * alpha0;
    s1 = alpha * s1 + (1 - alpha) * x;
    s2 = alpha * s2 + (1 - alpha) * x * x;
    return {mean, stddev, z, p, t >= training && p < threshold};
  }
};

}  // namespace iotblocks::anomaly::detail

IOTBLOCKS_API_END
