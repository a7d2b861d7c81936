// Private helpers of the anomaly component: parameter text, little-endian
// encoding, CRC-32, and the PEWMA constants shared with the SIMD kernels.
#pragma once

#include <iotblocks/anomaly/error.hpp>
#include <iotblocks/anomaly/pewma.hpp>
#include <iotblocks/core/bytes.hpp>
#include <iotblocks/core/result.hpp>

#include <bit>
#include <cstdint>
#include <cstring>
#include <functional>
#include <new>
#include <optional>
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
