// Private: the gateway's operator log: one logfmt line per event an operator
// must see (refused TLS handshake, authentication failure, JITR registration,
// CA problem, policy denial, disconnect for a protocol error), on standard
// error, rate-limited per event so that a flood cannot fill the disk.
//
//   operator_log log{{.level = log_level::info}};
//   log.write(log_level::warn, "tls_refused", {{"peer", "192.0.2.7"}, {"error", why}});
//   // time=2026-12-06T21:41:13.123Z level=warn event=tls_refused peer=192.0.2.7 error="…"
//   log.tick();   // once a second: reports suppressed lines (event=log_suppressed)
#pragma once

#include <iotblocks/gateway/config.hpp>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <initializer_list>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace iotblocks::gateway {

/// Distinct objects: safe. Shared objects: safe (one mutex).
class operator_log {
 public:
  using clock = std::chrono::steady_clock;
  struct field {
    std::string_view key;
    std::string_view value;
  };
  /// Longest value written (bytes); longer ones are cut and end in "…".
  static constexpr std::size_t max_value = 512;

  explicit operator_log(log_config c, std::FILE* out = stderr) : cfg_(c), out_(out) {}

  bool enabled(log_level l) const noexcept {
    return l >= cfg_.level && cfg_.level != log_level::off;
  }
  /// Writes one line unless the level is below the configured one or the
  /// event's budget is spent (then it is counted as suppressed).
  void write(log_level l, std::string_view event, std::initializer_list<field> fields,
             clock::time_point now = clock::now());
  /// Writes one event=log_suppressed line per event whose lines were dropped.
  void tick(clock::time_point now = clock::now());

  /// The logfmt text of a value: bare, or quoted with \" \\ \n \t and \xNN escapes.
  static void append_value(std::string& out, std::string_view v);

 private:
  struct bucket {
    double tokens = 0;
    clock::time_point last{};
    std::uint64_t suppressed = 0;
    bool started = false;
  };
  bool take(bucket& b, clock::time_point now) const;
  void emit(std::string& line);

  log_config cfg_;
  std::FILE* out_;
  std::mutex mutex_;
  std::map<std::string, bucket, std::less<>> buckets_;
};

/// "debug", "info", "warn", "error", "off".
std::string_view to_string(log_level l) noexcept;
std::optional<log_level> parse_log_level(std::string_view s) noexcept;

}  // namespace iotblocks::gateway
