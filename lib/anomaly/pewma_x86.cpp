// PEWMA kernels for x86-64-v3 (AVX2 + FMA). This file alone is compiled with
// -mavx2 -mfma; callers reach it only after detail::have_avx2_fma().
#include "anomaly/internal.hpp"

#include <cmath>
#include <cstddef>
#include <cstdint>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>

namespace iotblocks::anomaly::detail {
namespace {

#define IOTBLOCKS_ANOMALY_FMA 1
using detail::pewma_constants;
#include "anomaly/pewma_kernel.hpp"
#undef IOTBLOCKS_ANOMALY_FMA

// Four lanes of exp_poly, same constants and operation order.
inline __m256d exp_poly4(__m256d t) noexcept {
  const __m256d shifter = _mm256_set1_pd(0x1.8p52);
  const __m256d y = _mm256_fmadd_pd(t, _mm256_set1_pd(1.4426950408889634074), shifter);
  const __m256d k = _mm256_sub_pd(y, shifter);
  __m256d r = _mm256_fnmadd_pd(k, _mm256_set1_pd(6.93147180369123816490e-01), t);
  r = _mm256_fnmadd_pd(k, _mm256_set1_pd(1.90821492927058770002e-10), r);
  const __m256d r2 = _mm256_mul_pd(r, r);
  const __m256d r4 = _mm256_mul_pd(r2, r2);
  const __m256d r8 = _mm256_mul_pd(r4, r4);
  auto c = [](double v) { return _mm256_set1_pd(v); };
  const __m256d p01 = _mm256_add_pd(c(1.0), r);
  const __m256d p23 = _mm256_fmadd_pd(r, c(1.0 / 6), c(0.5));
  const __m256d p45 = _mm256_fmadd_pd(r, c(1.0 / 120), c(1.0 / 24));
  const __m256d p67 = _mm256_fmadd_pd(r, c(1.0 / 5040), c(1.0 / 720));
  const __m256d p89 = _mm256_fmadd_pd(r, c(1.0 / 362880), c(1.0 / 40320));
  const __m256d pab = _mm256_fmadd_pd(r, c(1.0 / 39916800), c(1.0 / 3628800));
  const __m256d q0 = _mm256_fmadd_pd(r2, p23, p01);
  const __m256d q1 = _mm256_fmadd_pd(r2, p67, p45);
  const __m256d q2 = _mm256_fmadd_pd(r2, pab, p89);
  const __m256d s0 = _mm256_fmadd_pd(r4, q1, q0);
  const __m256d s1 = _mm256_fmadd_pd(r4, c(1.0 / 479001600), q2);
  const __m256d p = _mm256_fmadd_pd(r8, s1, s0);
  const __m256i ki = _mm256_sub_epi64(_mm256_castpd_si256(y), _mm256_castpd_si256(shifter));
  const __m256i bits = _mm256_slli_epi64(_mm256_add_epi64(ki, _mm256_set1_epi64x(1023)), 52);
  return _mm256_mul_pd(p, _mm256_castsi256_pd(bits));
}

}  // namespace

bool have_avx2_fma() noexcept {
  static const bool yes = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return yes;
}

void pewma_point_fma(const pewma_constants& c, const pewma_params& p, double z_threshold,
                     pewma_state& s, double x, point_result& out) noexcept {
  pewma_point(c, p, z_threshold, s, x, out);
}

void pewma_series_fma(const pewma_constants& c, double& mean, double& var, double& count,
                      const double* x, double* score, std::size_t n) noexcept {
  double m = mean, v = var, k = count;
  for (std::size_t i = 0; i < n; ++i) {
    double e = 0;
    score[i] = std::sqrt(pewma_step(c, m, v, k, x[i], e));
  }
  mean = m;
  var = v;
  count = k;
}

void pewma_batch_avx2(const pewma_constants& c, double* mean, double* var, double* count,
                      const double* x, double* score, std::size_t n) noexcept {
  const __m256d one = _mm256_set1_pd(1.0);
  const __m256d zero = _mm256_setzero_pd();
  const __m256d training = _mm256_set1_pd(c.training);
  const __m256d kk = _mm256_set1_pd(c.k);
  const __m256d oma0 = _mm256_set1_pd(c.one_minus_alpha0);
  const __m256d floor = _mm256_set1_pd(-708.0);  // exp(-708) ~ 3e-308: P ~ 0
  const __m256d minus_half = _mm256_set1_pd(-0.5);
  std::size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    const __m256d xv = _mm256_loadu_pd(x + i);
    const __m256d m = _mm256_loadu_pd(mean + i);
    const __m256d v = _mm256_loadu_pd(var + i);
    const __m256d cnt = _mm256_add_pd(_mm256_loadu_pd(count + i), one);
    const __m256d d = _mm256_sub_pd(xv, m);
    const __m256d d2 = _mm256_mul_pd(d, d);
    const __m256d q =
        _mm256_blendv_pd(_mm256_div_pd(d2, v), zero, _mm256_cmp_pd(d2, zero, _CMP_EQ_OQ));
    const __m256d e = exp_poly4(_mm256_max_pd(_mm256_mul_pd(minus_half, q), floor));
    __m256d oma = _mm256_fmadd_pd(kk, e, oma0);
    const __m256d train =
        _mm256_or_pd(_mm256_cmp_pd(cnt, training, _CMP_LT_OQ), _mm256_cmp_pd(cnt, one, _CMP_EQ_OQ));
    if (_mm256_movemask_pd(train) != 0) oma = _mm256_blendv_pd(oma, _mm256_div_pd(one, cnt), train);
    const __m256d alpha = _mm256_sub_pd(one, oma);
    _mm256_storeu_pd(mean + i, _mm256_fmadd_pd(oma, d, m));
    _mm256_storeu_pd(var + i, _mm256_mul_pd(alpha, _mm256_fmadd_pd(oma, d2, v)));
    _mm256_storeu_pd(count + i, cnt);
    const __m256d first = _mm256_cmp_pd(cnt, one, _CMP_EQ_OQ);
    _mm256_storeu_pd(score + i, _mm256_blendv_pd(_mm256_sqrt_pd(q), zero, first));
  }
  for (; i < n; ++i) {
    double e = 0;
    score[i] = std::sqrt(pewma_step(c, mean[i], var[i], count[i], x[i], e));
  }
}

}  // namespace iotblocks::anomaly::detail

#else  // not x86-64: generic code only

namespace iotblocks::anomaly::detail {
bool have_avx2_fma() noexcept { return false; }
// Never called: have_avx2_fma() is false.
void pewma_point_fma(const pewma_constants&, const pewma_params&, double, pewma_state&, double,
                     point_result&) noexcept {}
void pewma_series_fma(const pewma_constants&, double&, double&, double&, const double*, double*,
                      std::size_t) noexcept {}
void pewma_batch_avx2(const pewma_constants&, double*, double*, double*, const double*, double*,
                      std::size_t) noexcept {}
}  // namespace iotblocks::anomaly::detail

#endif
