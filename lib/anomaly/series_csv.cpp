#include "anomaly/internal.hpp"

#include <iotblocks/anomaly/error.hpp>
#include <iotblocks/anomaly/series_csv.hpp>

#include <chrono>
#include <cstring>
#include <limits>
#include <string>

namespace iotblocks::anomaly {
namespace {

bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Reads exactly `n` digits at `pos`; -1 when they are not all digits.
int digits(std::string_view s, std::size_t pos, std::size_t n) noexcept {
  if (pos + n > s.size()) return -1;
  int v = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (!is_digit(s[i])) return -1;
    v = v * 10 + (s[i] - '0');
  }
  return v;
}

failure bad_timestamp(std::size_t offset, const char* why) {
  return failure{error::invalid_csv, std::string("timestamp: ") + why, at_offset(offset)};
}

struct field {
  std::string_view text;
  std::size_t column;  // 0-based byte offset in the line
};

// Splits a line into fields (trimmed, quotes removed). False on a bad quote.
bool split(std::string_view line, std::vector<field>& out, std::size_t& bad_column) {
  out.clear();
  std::size_t start = 0;
  while (true) {
    std::size_t end = line.find(',', start);
    if (end == std::string_view::npos) end = line.size();
    std::string_view f = trim(line.substr(start, end - start));
    const std::size_t column = static_cast<std::size_t>(f.data() - line.data());
    if (!f.empty() && f.front() == '"') {
      if (f.size() < 2 || f.back() != '"' ||
          f.substr(1, f.size() - 2).find('"') != std::string_view::npos) {
        bad_column = column;
        return false;
      }
      f = f.substr(1, f.size() - 2);
    }
    out.push_back({f, column});
    if (end == line.size()) return true;
    start = end + 1;
  }
}

bool is_number(std::string_view s) noexcept { return detail::parse_double(s).has_value(); }

}  // namespace

result<std::int64_t> parse_timestamp(std::string_view s) {
  if (s.empty()) return bad_timestamp(0, "empty");
  // Integer Unix milliseconds.
  if (is_digit(s[0]) || s[0] == '-') {
    bool all_digits = true;
    for (std::size_t i = (s[0] == '-'); i < s.size(); ++i) all_digits &= is_digit(s[i]);
    if (all_digits && s.size() > (s[0] == '-') && s.find('-', 1) == std::string_view::npos) {
      if (auto v = detail::parse_uint(s[0] == '-' ? s.substr(1) : s);
          v && *v <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
        const auto ms = static_cast<std::int64_t>(*v);
        return s[0] == '-' ? -ms : ms;
      }
      return bad_timestamp(0, "integer out of range");
    }
  }
  const int year = digits(s, 0, 4);
  if (year < 0 || s.size() < 19 || s[4] != '-' || s[7] != '-' || (s[10] != ' ' && s[10] != 'T') ||
      s[13] != ':' || s[16] != ':') {
    return bad_timestamp(0, "expected YYYY-MM-DD HH:MM:SS or Unix milliseconds");
  }
  const int month = digits(s, 5, 2), day = digits(s, 8, 2);
  const int hour = digits(s, 11, 2), minute = digits(s, 14, 2), second = digits(s, 17, 2);
  if (month < 0 || day < 0 || hour < 0 || minute < 0 || second < 0) {
    return bad_timestamp(0, "non-digit in date or time");
  }
  namespace chr = std::chrono;
  const chr::year_month_day ymd{chr::year{year}, chr::month{static_cast<unsigned>(month)},
                                chr::day{static_cast<unsigned>(day)}};
  if (!ymd.ok()) return bad_timestamp(0, "no such date");
  if (hour > 23 || minute > 59 || second > 60) return bad_timestamp(11, "time out of range");
  std::size_t pos = 19;
  std::int64_t millis = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    const std::size_t begin = pos;
    while (pos < s.size() && is_digit(s[pos])) {
      if (pos - begin < 3) millis = millis * 10 + (s[pos] - '0');
      ++pos;
    }
    if (pos == begin || pos - begin > 9)
      return bad_timestamp(begin, "fraction needs 1 to 9 digits");
    for (std::size_t n = pos - begin; n < 3; ++n) millis *= 10;
  }
  if (pos < s.size() && s[pos] == 'Z') ++pos;
  if (pos != s.size()) return bad_timestamp(pos, "trailing characters");
  const auto days = chr::sys_days{ymd}.time_since_epoch().count();
  return ((static_cast<std::int64_t>(days) * 24 + hour) * 60 + minute) * 60'000 +
         static_cast<std::int64_t>(second) * 1000 + millis;
}

result<std::vector<series_point>> parse_series_csv(std::string_view text,
                                                   const series_csv_limits& limits) {
  std::vector<series_point> points;
  std::vector<field> fields;
  std::size_t width = 0;  // fields per row, fixed by the first row or header
  std::ptrdiff_t time_col = -1, value_col = -1;
  std::size_t line_start = 0;
  std::uint32_t line_no = 0;
  auto fail = [&](error e, failure_message msg, std::size_t column) {
    position where{line_start + column, line_no, static_cast<std::uint32_t>(column + 1)};
    return failure{e, msg, where};
  };
  while (line_start < text.size()) {
    ++line_no;
    std::size_t end = text.find('\n', line_start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(line_start, end - line_start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.size() > limits.max_line_length) {
      return fail(error::invalid_csv, "line longer than max_line_length", limits.max_line_length);
    }
    if (trim(line).empty()) {
      line_start = end + 1;
      continue;
    }
    std::size_t bad_column = 0;
    if (!split(line, fields, bad_column)) {
      return fail(error::invalid_csv, "unbalanced double quote", bad_column);
    }
    if (width == 0) {  // first row: header or data
      width = fields.size();
      if (width > 2) return fail(error::invalid_csv, "expected 1 or 2 columns", 0);
      value_col = static_cast<std::ptrdiff_t>(width) - 1;
      time_col = width == 2 ? 0 : -1;
      if (!is_number(fields.back().text)) {  // header
        value_col = time_col = -1;
        for (std::size_t i = 0; i < width; ++i) {
          const auto name = fields[i].text;
          if (name == "value") value_col = static_cast<std::ptrdiff_t>(i);
          if (name == "timestamp" || name == "time" || name == "ts") {
            time_col = static_cast<std::ptrdiff_t>(i);
          }
        }
        if (value_col < 0) return fail(error::invalid_csv, "header has no 'value' column", 0);
        if (width == 2 && time_col < 0) {
          return fail(error::invalid_csv, "header has no 'timestamp' column", 0);
        }
        line_start = end + 1;
        continue;
      }
    }
    if (fields.size() != width) {
      return fail(
          error::invalid_csv,
          "expected " + std::to_string(width) + " fields, got " + std::to_string(fields.size()), 0);
    }
    if (points.size() >= limits.max_rows) {
      return fail(error::too_many_rows, "more than max_rows rows", 0);
    }
    series_point p;
    const field& v = fields[static_cast<std::size_t>(value_col)];
    if (auto d = detail::parse_double(v.text)) {
      p.value = *d;
    } else {
      return fail(error::invalid_csv, "value is not a finite number", v.column);
    }
    if (time_col >= 0) {
      const field& t = fields[static_cast<std::size_t>(time_col)];
      auto ts = parse_timestamp(t.text);
      if (!ts) {
        failure f = std::move(ts).take_failure();
        return fail(error::invalid_csv, f.message, t.column + f.where.offset);
      }
      p.time_ms = *ts;
    }
    points.push_back(p);
    line_start = end + 1;
  }
  return points;
}

}  // namespace iotblocks::anomaly
