// -log10 of the two-sided normal tail: the table of cubics and the asymptotic series
// behind detail::log10_normal_tail (internal.hpp). The table is constant data
// (flash on a microcontroller, no start-up work), written by
// scripts/normal_tail_table.py from the formula compute_tail_table() evaluates.
#include "anomaly/internal.hpp"

#include <cmath>

namespace iotblocks::anomaly::detail {

namespace {

constexpr double ln10 = 2.30258509299404568402;

}  // namespace

tail_table compute_tail_table() noexcept {
  // g and g' at the knots z = i / 16, then each interval's cubic Hermite polynomial in
  // the position x in [0, 1) within it.
  constexpr int knots = tail_table::intervals + 1;
  double g[knots], dg[knots];
  for (int i = 0; i < knots; ++i) {
    const double z = static_cast<double>(i) / tail_table::steps_per_unit;
    const double p = std::erfc(z * 0.70710678118654752440);
    g[i] = -std::log10(p) - z * z / (2 * ln10);
    // d/dz -ln erfc(z / sqrt 2) = sqrt(2 / pi) e^(-z^2 / 2) / erfc(z / sqrt 2)
    dg[i] = (0.79788456080286535588 * std::exp(-0.5 * z * z) / p - z) / ln10;
  }
  tail_table t;
  const double h = 1.0 / tail_table::steps_per_unit;
  for (int i = 0; i < tail_table::intervals; ++i) {
    const double m0 = h * dg[i], m1 = h * dg[i + 1];
    t.c[i][0] = g[i];
    t.c[i][1] = m0;
    t.c[i][2] = -3 * g[i] - 2 * m0 + 3 * g[i + 1] - m1;
    t.c[i][3] = 2 * g[i] + m0 - 2 * g[i + 1] + m1;
  }
  return t;
}

constinit const tail_table the_tail_table = {{
#include "normal_tail_table.inc"
}};

double log10_normal_tail_asymptotic(double z) noexcept {
  if (z == HUGE_VAL) return HUGE_VAL;
  const double r = 1.0 / (z * z);
  // ln p = ln 2 - z^2/2 - ln z - ln(2 pi)/2 + ln(1 - r + 3 r^2)
  const double ln_p = 0.69314718055994531 - 0.5 * z * z - std::log(z) - 0.91893853320467274 +
                      std::log1p(-r + 3 * r * r);
  return -ln_p / ln10;
}

}  // namespace iotblocks::anomaly::detail
