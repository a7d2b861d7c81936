// Detector parameter text: "key=value,..." pairs, numbers in and out.
#include "anomaly/internal.hpp"

#include <array>
#include <charconv>
#include <cmath>

namespace iotblocks::anomaly::detail {
namespace {

bool is_space(char c) noexcept { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

}  // namespace

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

result<void> set_parameter(std::string_view key, std::string_view value,
                           std::span<const real_parameter> reals,
                           std::span<const whole_parameter> wholes, std::string_view detector) {
  for (const auto& f : reals) {
    if (key != f.key) continue;
    auto d = parse_double(value);
    if (!d || *d < f.lo || *d > f.hi) {
      return bad_parameter(
          key, "must be a number in [" + format_double(f.lo) + ", " + format_double(f.hi) + "]");
    }
    *f.field = *d;
    return {};
  }
  for (const auto& f : wholes) {
    if (key != f.key) continue;
    auto u = parse_uint(value);
    if (!u || *u < f.lo || *u > f.hi) {
      return bad_parameter(key, "must be an integer in [" + std::to_string(f.lo) + ", " +
                                    std::to_string(f.hi) + "]");
    }
    *f.field = static_cast<std::uint32_t>(*u);
    return {};
  }
  return bad_parameter(key, "not a parameter of " + std::string(detector));
}

}  // namespace iotblocks::anomaly::detail
