// Private: the PEWMA update shared by the generic and the x86-64-v3 (AVX2+FMA)
// translation units. Include inside an anonymous namespace only (each TU gets its
// own copy compiled for its instruction set), after defining
// IOTBLOCKS_ANOMALY_FMA to 1 (hardware FMA) or 0, and bringing
// detail::pewma_constants (internal.hpp) into scope.
//
// The loop-carried chain of one update is: v -> q = d^2/v -> e = exp(-q/2) ->
// alpha -> (mean, v). No square root and a single division sit on it; the
// outputs (std, Z, bounds) hang off the chain, and so do the rare cases
// (variance 0, training, underflow), which are predictable branches.

inline double fmadd(double a, double b, double c) noexcept {
#if IOTBLOCKS_ANOMALY_FMA
  return __builtin_fma(a, b, c);
#else
  return a * b + c;
#endif
}

inline constexpr double inv_sqrt_2pi = 0.39894228040143267794;
// exp(-q/2) is taken as 0 beyond this q (it is below 1e-307 there).
inline constexpr double q_cutoff = 1416.0;

// 2^(j/64), j = 0..63, correctly rounded.
alignas(64) inline constexpr double exp2_table[64] = {
    0x1.0000000000000p+0, 0x1.02c9a3e778061p+0, 0x1.059b0d3158574p+0, 0x1.0874518759bc8p+0,
    0x1.0b5586cf9890fp+0, 0x1.0e3ec32d3d1a2p+0, 0x1.11301d0125b51p+0, 0x1.1429aaea92de0p+0,
    0x1.172b83c7d517bp+0, 0x1.1a35beb6fcb75p+0, 0x1.1d4873168b9aap+0, 0x1.2063b88628cd6p+0,
    0x1.2387a6e756238p+0, 0x1.26b4565e27cddp+0, 0x1.29e9df51fdee1p+0, 0x1.2d285a6e4030bp+0,
    0x1.306fe0a31b715p+0, 0x1.33c08b26416ffp+0, 0x1.371a7373aa9cbp+0, 0x1.3a7db34e59ff7p+0,
    0x1.3dea64c123422p+0, 0x1.4160a21f72e2ap+0, 0x1.44e086061892dp+0, 0x1.486a2b5c13cd0p+0,
    0x1.4bfdad5362a27p+0, 0x1.4f9b2769d2ca7p+0, 0x1.5342b569d4f82p+0, 0x1.56f4736b527dap+0,
    0x1.5ab07dd485429p+0, 0x1.5e76f15ad2148p+0, 0x1.6247eb03a5585p+0, 0x1.6623882552225p+0,
    0x1.6a09e667f3bcdp+0, 0x1.6dfb23c651a2fp+0, 0x1.71f75e8ec5f74p+0, 0x1.75feb564267c9p+0,
    0x1.7a11473eb0187p+0, 0x1.7e2f336cf4e62p+0, 0x1.82589994cce13p+0, 0x1.868d99b4492edp+0,
    0x1.8ace5422aa0dbp+0, 0x1.8f1ae99157736p+0, 0x1.93737b0cdc5e5p+0, 0x1.97d829fde4e50p+0,
    0x1.9c49182a3f090p+0, 0x1.a0c667b5de565p+0, 0x1.a5503b23e255dp+0, 0x1.a9e6b5579fdbfp+0,
    0x1.ae89f995ad3adp+0, 0x1.b33a2b84f15fbp+0, 0x1.b7f76f2fb5e47p+0, 0x1.bcc1e904bc1d2p+0,
    0x1.c199bdd85529cp+0, 0x1.c67f12e57d14bp+0, 0x1.cb720dcef9069p+0, 0x1.d072d4a07897cp+0,
    0x1.d5818dcfba487p+0, 0x1.da9e603db3285p+0, 0x1.dfc97337b9b5fp+0, 0x1.e502ee78b3ff6p+0,
    0x1.ea4afa2a490dap+0, 0x1.efa1bee615a27p+0, 0x1.f50765b6e4540p+0, 0x1.fa7c1819e90d8p+0,
};

/// exp(-q/2) for q in [0, q_cutoff], tuned for latency. -q/2 = k ln2/64 + r with
/// |r| <= ln2/128 (Cody-Waite: k * ln2_64_hi is exact), then 2^(k/64) from the
/// table and exponent bits, times a degree-5 Taylor polynomial of e^r
/// (truncation < 4e-17). The low part of ln2/64 is applied as a factor e^-a off
/// the critical path. Max relative error 5.0e-16 (measured, tests/anomaly).
inline double exp_neg_half(double q) noexcept {
  constexpr double shifter = 0x1.8p52;
  constexpr double minus_32_over_ln2 = -46.166241308446828;  // -0.5 * 64 / ln 2
  constexpr double ln2_64_hi = 0x1.62e42fee00000p-7;         // 32 significant bits
  constexpr double ln2_64_lo = 0x1.a39ef35793c76p-39;
  const double y = fmadd(q, minus_32_over_ln2, shifter);
  const double k = y - shifter;
  const double t = -0.5 * q;
  const double r = fmadd(-k, ln2_64_hi, t);
  const double r2 = r * r;
  const double p01 = 1.0 + r;
  const double p23 = fmadd(r, 1.0 / 6, 0.5);
  const double p45 = fmadd(r, 1.0 / 120, 1.0 / 24);
  const double p = fmadd(r2, fmadd(r2, p45, p23), p01);
  const auto ki = __builtin_bit_cast(std::int64_t, y) - __builtin_bit_cast(std::int64_t, shifter);
  const auto bits = __builtin_bit_cast(std::uint64_t, exp2_table[ki & 63]) +
                    (static_cast<std::uint64_t>(ki >> 6) << 52);
  const double a = k * ln2_64_lo;  // |a| < 2e-7: e^-a = 1 - a + a^2/2 to 1e-21
  const double scale = __builtin_bit_cast(double, bits) * fmadd(a, fmadd(a, 0.5, -1.0), 1.0);
  return p * scale;
}

/// exp(t) for t in [-708, 0] without a table (the SIMD kernels use this form):
/// t = k ln2 + r, |r| <= ln2/2, degree-12 Taylor polynomial by Estrin's scheme
/// (truncation < 2e-16). Max relative error 4.7e-16 (measured).
inline double exp_poly(double t) noexcept {
  constexpr double log2e = 1.4426950408889634074;
  constexpr double shifter = 0x1.8p52;
  constexpr double ln2_hi = 6.93147180369123816490e-01;  // fdlibm's split of ln 2
  constexpr double ln2_lo = 1.90821492927058770002e-10;
  const double y = fmadd(t, log2e, shifter);
  const double k = y - shifter;
  double r = fmadd(-k, ln2_hi, t);
  r = fmadd(-k, ln2_lo, r);
  const double r2 = r * r;
  const double r4 = r2 * r2;
  const double r8 = r4 * r4;
  const double p01 = 1.0 + r;
  const double p23 = fmadd(r, 1.0 / 6, 0.5);
  const double p45 = fmadd(r, 1.0 / 120, 1.0 / 24);
  const double p67 = fmadd(r, 1.0 / 5040, 1.0 / 720);
  const double p89 = fmadd(r, 1.0 / 362880, 1.0 / 40320);
  const double pab = fmadd(r, 1.0 / 39916800, 1.0 / 3628800);
  const double q0 = fmadd(r2, p23, p01);
  const double q1 = fmadd(r2, p67, p45);
  const double q2 = fmadd(r2, pab, p89);
  const double s0 = fmadd(r4, q1, q0);
  const double s1 = fmadd(r4, 1.0 / 479001600, q2);
  const double p = fmadd(r8, s1, s0);
  const auto ki = __builtin_bit_cast(std::int64_t, y) - __builtin_bit_cast(std::int64_t, shifter);
  const double scale = __builtin_bit_cast(double, static_cast<std::uint64_t>(ki + 1023) << 52);
  return p * scale;
}

/// One update of (mean m, variance v, count n). Returns q = Z^2 (0 for the first
/// point, +inf when v = 0 and x != m) and, in e_out, the exp(-q/2) it used.
inline double pewma_step(const pewma_constants& c, double& m, double& v, double& n, double x,
                         double& e_out) noexcept {
  n += 1.0;
  const double d = x - m;
  const double d2 = d * d;
  double q;
  if (v > 0.0) [[likely]] {
    q = d2 / v;
  } else {
    q = d2 == 0.0 ? 0.0 : __builtin_inf();
  }
  double e = 0.0;
  if (q <= q_cutoff) [[likely]]
    e = exp_neg_half(q);
  double oma, alpha;  // 1 - alpha_t and alpha_t
  if (n < c.training || n == 1.0) [[unlikely]] {
    oma = 1.0 / n;
    alpha = 1.0 - oma;
  } else {
    oma = fmadd(c.k, e, c.one_minus_alpha0);
    alpha = fmadd(-c.k, e, 1.0 - c.one_minus_alpha0);
  }
  m = fmadd(oma, d, m);
  v = alpha * fmadd(oma, d2, v);
  e_out = e;
  return n == 1.0 ? 0.0 : q;
}

/// One point with the full output (mean, std, bounds, Z, P, flag, score).
inline void pewma_point(const pewma_constants& c, const pewma_params& p, double z_threshold,
                        pewma_state& s, double x, point_result& out) noexcept {
  const double m0 = s.mean;
  const double v0 = s.variance;
  double n = static_cast<double>(s.count);
  double e = 0;
  (void)pewma_step(c, s.mean, s.variance, n, x, e);
  s.count += 1;
  out.value = x;
  if (s.count == 1) {
    out.mean = out.lower = out.upper = x;
    out.stddev = out.z = out.score = out.raw = 0;
    out.p = inv_sqrt_2pi;
    out.warming_up = p.training > 1;
    out.anomaly = false;
    return;
  }
  const double sd = __builtin_sqrt(v0);
  const double d = x - m0;
  out.mean = m0;
  out.stddev = sd;
  out.lower = m0 - z_threshold * sd;
  out.upper = m0 + z_threshold * sd;
  out.z = sd > 0 ? d / sd : (d == 0 ? 0.0 : __builtin_copysign(__builtin_inf(), d));
  out.p = inv_sqrt_2pi * e;
  out.raw = __builtin_fabs(out.z);
  out.score = ::iotblocks::anomaly::detail::score_of_z(out.raw);
  out.warming_up = s.count < p.training;
  out.anomaly = !out.warming_up && out.p < p.threshold;
}
