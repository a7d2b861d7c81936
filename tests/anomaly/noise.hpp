// Gaussian test series for the detector tests.
#pragma once

#include <cstddef>
#include <random>
#include <vector>

namespace iotblocks::anomaly::testing {

/// `n` draws of N(mean, sd) from a seeded generator (the same series every run).
inline std::vector<double> noise(std::size_t n, double mean, double sd, unsigned seed) {
  std::mt19937_64 rng{seed};
  std::normal_distribution<double> g{mean, sd};
  std::vector<double> v(n);
  for (auto& x : v) x = g(rng);
  return v;
}

}  // namespace iotblocks::anomaly::testing
