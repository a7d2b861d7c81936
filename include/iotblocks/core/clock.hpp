// An injectable wall clock, so that time-driven logic (alarms, expiry,
// certificate validity, timestamps in messages) can be tested without sleeping.
//
//   iotblocks::manual_clock clock{iotblocks::from_unix_ms(1'700'000'000'000)};
//   clock.advance(std::chrono::seconds(60));
//   clock.now_ms();   // 1'700'000'060'000
#pragma once

#include <iotblocks/core/export.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>

IOTBLOCKS_API_BEGIN

namespace iotblocks {

using time_point = std::chrono::system_clock::time_point;

inline std::int64_t to_unix_ms(time_point t) noexcept {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}
inline time_point from_unix_ms(std::int64_t ms) noexcept {
  return time_point{
      std::chrono::duration_cast<time_point::duration>(std::chrono::milliseconds(ms))};
}

/// Source of wall-clock time. Implementations are safe to call from any thread.
class clock {
 public:
  virtual ~clock() = default;
  virtual time_point now() const noexcept = 0;
  std::int64_t now_ms() const noexcept { return to_unix_ms(now()); }
};

/// The system's real-time clock.
class system_clock final : public clock {
 public:
  time_point now() const noexcept override { return std::chrono::system_clock::now(); }
};

/// The process-wide system clock, the default wherever a clock is optional.
const clock& default_clock() noexcept;

/// A clock that moves only when told. Distinct objects: safe. Shared objects: safe.
class manual_clock final : public clock {
 public:
  explicit manual_clock(time_point start = from_unix_ms(0)) noexcept : ms_(to_unix_ms(start)) {}

  time_point now() const noexcept override {
    return from_unix_ms(ms_.load(std::memory_order_acquire));
  }
  void set(time_point t) noexcept { ms_.store(to_unix_ms(t), std::memory_order_release); }
  void advance(std::chrono::milliseconds d) noexcept {
    ms_.fetch_add(d.count(), std::memory_order_acq_rel);
  }

 private:
  std::atomic<std::int64_t> ms_;
};

}  // namespace iotblocks

IOTBLOCKS_API_END
