// The gateway's operator log (operator_log.hpp).
#include "gateway/operator_log.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <ctime>

namespace iotblocks::gateway {

std::string_view to_string(log_level l) noexcept {
  switch (l) {
    case log_level::debug: return "debug";
    case log_level::info: return "info";
    case log_level::warn: return "warn";
    case log_level::error: return "error";
    case log_level::off: return "off";
  }
  return "off";
}

std::optional<log_level> parse_log_level(std::string_view s) noexcept {
  for (auto l :
       {log_level::debug, log_level::info, log_level::warn, log_level::error, log_level::off}) {
    if (s == to_string(l)) return l;
  }
  return std::nullopt;
}

void operator_log::append_value(std::string& out, std::string_view v) {
  bool cut = false;
  if (v.size() > max_value) {
    v = v.substr(0, max_value);
    cut = true;
  }
  bool bare = !v.empty() && !cut;
  for (const char ch : v) {
    const auto u = static_cast<unsigned char>(ch);
    if (u <= 0x20 || u == 0x7F || ch == '"' || ch == '=' || ch == '\\' || u >= 0x80) bare = false;
  }
  if (bare) {
    out += v;
    return;
  }
  out += '"';
  for (const char ch : v) {
    const auto u = static_cast<unsigned char>(ch);
    switch (ch) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (u < 0x20 || u == 0x7F) {
          out += fmt::format("\\x{:02x}", u);
        } else {
          out += ch;  // UTF-8 passes through
        }
    }
  }
  if (cut) out += "...";
  out += '"';
}

bool operator_log::take(bucket& b, clock::time_point now) const {
  const double burst = static_cast<double>(cfg_.burst);
  if (!b.started) {
    b.started = true;
    b.tokens = burst;
    b.last = now;
  }
  const double elapsed = std::chrono::duration<double>(now - b.last).count();
  if (elapsed > 0) {
    b.tokens = std::min(burst, b.tokens + elapsed * static_cast<double>(cfg_.per_second));
    b.last = now;
  }
  if (b.tokens < 1.0) return false;
  b.tokens -= 1.0;
  return true;
}

void operator_log::emit(std::string& line) {
  line += '\n';
  std::fwrite(line.data(), 1, line.size(), out_);
  std::fflush(out_);
}

namespace {

void prefix(std::string& line, log_level l) {
  const auto now = std::chrono::system_clock::now();
  const auto secs = std::chrono::system_clock::to_time_t(now);
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  line +=
      fmt::format("time={:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z level={}", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms, to_string(l));
}

}  // namespace

void operator_log::write(log_level l, std::string_view event, std::initializer_list<field> fields,
                         clock::time_point now) {
  if (!enabled(l)) return;
  std::lock_guard lock(mutex_);
  auto it = buckets_.find(event);
  if (it == buckets_.end()) it = buckets_.emplace(std::string(event), bucket{}).first;
  bucket& b = it->second;
  if (!take(b, now)) {
    ++b.suppressed;
    return;
  }
  std::string line;
  line.reserve(256);
  prefix(line, l);
  line += " event=";
  append_value(line, event);
  for (const auto& f : fields) {
    line += ' ';
    line += f.key;
    line += '=';
    append_value(line, f.value);
  }
  if (b.suppressed > 0) {
    line += fmt::format(" suppressed={}", b.suppressed);  // dropped since the last line
    b.suppressed = 0;
  }
  emit(line);
}

void operator_log::tick(clock::time_point now) {
  if (cfg_.level == log_level::off) return;
  std::lock_guard lock(mutex_);
  for (auto& [event, b] : buckets_) {
    if (b.suppressed == 0 || !take(b, now)) continue;
    std::string line;
    prefix(line, log_level::warn);
    line += " event=log_suppressed of=";
    append_value(line, event);
    line += fmt::format(" count={}", b.suppressed);
    b.suppressed = 0;
    emit(line);
  }
}

}  // namespace iotblocks::gateway
