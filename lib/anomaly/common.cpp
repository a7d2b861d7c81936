#include "anomaly/internal.hpp"

#include <iotblocks/anomaly/detector.hpp>
#include <iotblocks/anomaly/error.hpp>
#include <iotblocks/core/error.hpp>

#include <array>
#include <cctype>
#include <charconv>
#include <cmath>

namespace iotblocks::anomaly {
namespace {

const char* message(int ev) noexcept {
  switch (static_cast<error>(ev)) {
    case error::non_finite_value: return "value is NaN or infinite";
    case error::value_out_of_range: return "value exceeds the detector's max_abs_value";
    case error::invalid_parameter: return "invalid detector parameter";
    case error::unknown_detector: return "unknown detector";
    case error::invalid_key: return "series key or field is empty, too long or not valid UTF-8";
    case error::too_many_series: return "keyed store is full (max_series)";
    case error::invalid_snapshot: return "snapshot is truncated, corrupt or inconsistent";
    case error::detector_mismatch: return "state belongs to another detector or parameter set";
    case error::invalid_csv: return "malformed series CSV";
    case error::too_many_rows: return "series CSV has more rows than allowed";
    case error::invalid_corpus: return "malformed NAB corpus or scores";
    case error::size_mismatch: return "spans of a batch call differ in length";
  }
  return "unknown iotblocks.anomaly error";
}

bool is_space(char c) noexcept { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

}  // namespace

const std::error_category& error_category() noexcept {
  static const iotblocks::detail::error_category_impl category{"iotblocks.anomaly", &message};
  return category;
}

namespace detail {

result<void> parse_parameters(
    std::string_view text,
    const std::function<result<void>(std::string_view key, std::string_view value)>& set) {
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && (is_space(text[i]) || text[i] == ',')) ++i;
    if (i == text.size()) break;
    std::size_t end = i;
    while (end < text.size() && !is_space(text[end]) && text[end] != ',') ++end;
    const std::string_view pair = text.substr(i, end - i);
    const auto eq = pair.find('=');
    if (eq == std::string_view::npos || eq == 0) {
      return failure{error::invalid_parameter,
                     "expected key=value, got '" + std::string(pair) + "'", position_in(text, i)};
    }
    if (auto r = set(pair.substr(0, eq), pair.substr(eq + 1)); !r) {
      failure f = std::move(r).take_failure();
      f.where = position_in(text, i);
      return f;
    }
    i = end;
  }
  return {};
}

std::optional<double> parse_double(std::string_view s) noexcept {
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  double v = 0;
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || p != s.data() + s.size() || s.empty() || !std::isfinite(v)) {
    return std::nullopt;
  }
  return v;
}

std::optional<std::uint64_t> parse_uint(std::string_view s) noexcept {
  std::uint64_t v = 0;
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || p != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

std::string format_double(double v) {
  std::array<char, 32> buf{};
  const auto [p, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), v);
  return ec == std::errc{} ? std::string(buf.data(), p) : std::string("nan");
}

failure bad_parameter(std::string_view key, std::string_view why) {
  return failure{error::invalid_parameter, std::string(key) + ": " + std::string(why), {}};
}

namespace {

constexpr double ln10 = 2.30258509299404568402;

tail_table make_tail_table() noexcept {
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

}  // namespace

const tail_table the_tail_table = make_tail_table();  // before main; no guard when used

double log10_normal_tail_asymptotic(double z) noexcept {
  if (z == HUGE_VAL) return HUGE_VAL;
  const double r = 1.0 / (z * z);
  // ln p = ln 2 - z^2/2 - ln z - ln(2 pi)/2 + ln(1 - r + 3 r^2)
  const double ln_p = 0.69314718055994531 - 0.5 * z * z - std::log(z) - 0.91893853320467274 +
                      std::log1p(-r + 3 * r * r);
  return -ln_p / ln10;
}

std::uint32_t crc32(bytes_view data, std::uint32_t crc) noexcept {
  static const auto table = [] {
    std::array<std::uint32_t, 256> t{};
    for (std::uint32_t i = 0; i < 256; ++i) {
      std::uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  crc = ~crc;
  for (std::byte b : data)
    crc = table[(crc ^ std::to_integer<std::uint32_t>(b)) & 0xFF] ^ (crc >> 8);
  return ~crc;
}

}  // namespace detail

series::series(std::shared_ptr<const detector> model)
    : model_(std::move(model)), state_((model_->state_size() + 7) / 8) {
  model_->init(state());
}

bytes_view series::state() const noexcept {
  return {reinterpret_cast<const std::byte*>(state_.data()), model_->state_size()};
}
mutable_bytes_view series::state() noexcept {
  return {reinterpret_cast<std::byte*>(state_.data()), model_->state_size()};
}

std::error_code series::update(double value, std::int64_t time_ms, point_result& out) noexcept {
  return model_->update(state(), value, time_ms, out);
}

result<point_result> series::update(double value, std::int64_t time_ms) {
  point_result out;
  if (auto ec = update(value, time_ms, out)) {
    return failure{ec, ec.message() + " (" + detail::format_double(value) + ")", {}};
  }
  return out;
}

void series::reset() noexcept { model_->init(state()); }

}  // namespace iotblocks::anomaly
