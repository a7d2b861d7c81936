// Private helpers of the anomaly component: parameter text, little-endian
// encoding, CRC-32, and the PEWMA constants shared with the SIMD kernels.
#pragma once

#include <iotblocks/anomaly/error.hpp>
#include <iotblocks/anomaly/pewma.hpp>
#include <iotblocks/core/bytes.hpp>
#include <iotblocks/core/result.hpp>

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <new>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace iotblocks::anomaly::detail {

// ---- parameters: "key=value,key=value" (commas or whitespace between pairs)

/// Calls `set(key, value)` for each pair; a non-empty error from `set` stops the
/// walk. Errors: error::invalid_parameter with the pair's text.
result<void> parse_parameters(
    std::string_view text,
    const std::function<result<void>(std::string_view key, std::string_view value)>& set);

std::optional<double> parse_double(std::string_view s) noexcept;
std::optional<std::uint64_t> parse_uint(std::string_view s) noexcept;
/// Shortest text that parses back to exactly `v`.
std::string format_double(double v);

/// The failure for parameter `key` with `why` ("alpha0 must be in [0, 1]").
failure bad_parameter(std::string_view key, std::string_view why);

/// A detector's numeric parameters with their ranges, for set_parameter().
struct real_parameter {
  const char* key;
  double* field;
  double lo, hi;
};
struct whole_parameter {
  const char* key;
  std::uint32_t* field;
  std::uint64_t lo, hi;
};
/// Sets the field `key` names in `reals` or `wholes` from `value`, refusing a
/// value outside its range; "not a parameter of <detector>" for another key.
result<void> set_parameter(std::string_view key, std::string_view value,
                           std::span<const real_parameter> reals,
                           std::span<const whole_parameter> wholes, std::string_view detector);

// ---- scores

/// point_result::score of L = -log10(p), p a tail probability: L / (L + 5), in [0, 1],
/// 0.5 at p = 1e-5; strictly increasing in L, so no two tail probabilities tie.
inline double score_of_log10_tail(double l) noexcept {
  if (!(l > 0)) return 0.0;  // also NaN
  if (l == HUGE_VAL) return 1.0;
  return l / (l + 5.0);
}

/// g(z) = -log10 erfc(z / sqrt 2) - z^2 / (2 ln 10) on [0, 32) as one cubic per
/// interval of 1/16 (Hermite: g and g' match erfc's at the ends).
struct tail_table {
  static constexpr int steps_per_unit = 16;
  static constexpr int intervals = 32 * steps_per_unit;
  double c[intervals][4];
};
extern const tail_table the_tail_table;
/// The table from erfc, exp and log10 at run time (what the constant table holds).
tail_table compute_tail_table() noexcept;
/// log10_normal_tail for z >= 32 (asymptotic series; infinity for infinity).
double log10_normal_tail_asymptotic(double z) noexcept;

/// -log10 P(|N(0, 1)| >= z) = -log10 erfc(z / sqrt 2) for z >= 0: z^2 / (2 ln 10) plus
/// a cubic Hermite interpolation of g (step 1/16 up to z = 32, absolute error below
/// 1e-8), the asymptotic series beyond. A few ns instead of erfc + log10.
inline double log10_normal_tail(double z) noexcept {
  if (!(z > 0)) return 0.0;
  if (z >= 32.0) return log10_normal_tail_asymptotic(z);
  const double u = z * tail_table::steps_per_unit;
  const int i = static_cast<int>(u);
  const double x = u - i;
  const double* c = the_tail_table.c[i];
  const double g = ((c[3] * x + c[2]) * x + c[1]) * x + c[0];
  return z * z * 0.21714724095162590 + g;  // 1 / (2 ln 10)
}

/// The score of |z| under a normal model.
inline double score_of_z(double abs_z) noexcept {
  return score_of_log10_tail(log10_normal_tail(abs_z));
}

// ---- little-endian encoding

inline void put_u32(byte_buffer& out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<std::byte>(v >> (8 * i)));
}
inline void put_u64(byte_buffer& out, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<std::byte>(v >> (8 * i)));
}
inline void put_f64(byte_buffer& out, double v) { put_u64(out, std::bit_cast<std::uint64_t>(v)); }
inline void put_bytes(byte_buffer& out, std::string_view s) {
  const std::size_t n = out.size();
  out.resize(n + s.size());
  if (!s.empty()) std::memcpy(out.data() + n, s.data(), s.size());
}

/// Bounds-checked little-endian reader; after any short read ok() is false.
class reader {
 public:
  explicit reader(bytes_view in) noexcept : in_(in) {}
  bool ok() const noexcept { return ok_; }
  std::size_t offset() const noexcept { return pos_; }
  std::size_t remaining() const noexcept { return in_.size() - pos_; }

  std::uint64_t u64() noexcept { return take(8); }
  std::uint32_t u32() noexcept { return static_cast<std::uint32_t>(take(4)); }
  double f64() noexcept { return std::bit_cast<double>(take(8)); }
  std::string_view text(std::size_t n) noexcept {
    if (n > remaining()) {
      ok_ = false;
      pos_ = in_.size();
      return {};
    }
    std::string_view s{reinterpret_cast<const char*>(in_.data() + pos_), n};
    pos_ += n;
    return s;
  }
  bytes_view bytes(std::size_t n) noexcept { return as_bytes(text(n)); }

 private:
  std::uint64_t take(int n) noexcept {
    if (static_cast<std::size_t>(n) > remaining()) {
      ok_ = false;
      pos_ = in_.size();
      return 0;
    }
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < static_cast<std::size_t>(n); ++i) {
      v |= std::to_integer<std::uint64_t>(in_[pos_ + i]) << (8 * i);
    }
    pos_ += static_cast<std::size_t>(n);
    return v;
  }
  bytes_view in_;
  std::size_t pos_ = 0;
  bool ok_ = true;
};

/// CRC-32 (IEEE 802.3, reflected, as zlib).
std::uint32_t crc32(bytes_view data, std::uint32_t crc = 0) noexcept;

// ---- typed access to caller-owned state bytes

template <class T>
T& state_as(mutable_bytes_view s) noexcept {
  return *std::launder(reinterpret_cast<T*>(s.data()));
}
template <class T>
const T& state_as(bytes_view s) noexcept {
  return *std::launder(reinterpret_cast<const T*>(s.data()));
}

// ---- PEWMA constants shared with the kernels

struct pewma_constants {
  double one_minus_alpha0;
  double k;         // alpha0 * beta / sqrt(2 pi): 1 - alpha = (1 - alpha0) + k exp(-q/2)
  double training;  // T
  double max_abs;
};

/// The batch kernel for x86-64-v3 (AVX2 + FMA); defined only on x86-64 GCC/Clang builds.
void pewma_batch_avx2(const pewma_constants& c, double* mean, double* var, double* count,
                      const double* x, double* score, std::size_t n) noexcept;
/// One series, many points, FMA build; returns nothing (inputs pre-validated).
void pewma_series_fma(const pewma_constants& c, double& mean, double& var, double& count,
                      const double* x, double* score, std::size_t n) noexcept;
/// pewma::update for one point, FMA build.
void pewma_point_fma(const pewma_constants& c, const pewma_params& p, double z_threshold,
                     pewma_state& s, double x, point_result& out) noexcept;
/// True when the CPU runs the x86-64-v3 kernels.
bool have_avx2_fma() noexcept;

}  // namespace iotblocks::anomaly::detail
