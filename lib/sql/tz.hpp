// Private: time zones for parse_time and time_to_epoch, read from the system tz
// database (TZif files under $TZDIR or /usr/share/zoneinfo, with the POSIX rule
// of the file's footer for instants past its last transition), plus fixed
// offsets ("UTC", "GMT-5", "UTC+01:00", "+0530"). GCC 12's libstdc++ has no
// std::chrono::tzdb, hence this reader.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace iotblocks::sql::detail {

struct zone_offset {
  std::int32_t seconds = 0;       ///< UTC offset
  std::string_view abbreviation;  ///< "CST", "CEST", "UTC"...
};

class time_zone {
 public:
  static std::shared_ptr<const time_zone> fixed(std::int32_t seconds, std::string id);

  const std::string& id() const noexcept { return id_; }
  /// Offset in force at Unix time `t` (seconds).
  zone_offset at(std::int64_t t) const;
  /// Unix time of a local wall time (seconds since the epoch as if UTC). In a gap
  /// the later offset applies; in an overlap the earlier (summer) one, as Java does.
  std::int64_t to_utc(std::int64_t local) const;

 private:
  friend std::shared_ptr<const time_zone> load_tzif(std::string id, std::string_view data);
  struct type {
    std::int32_t offset;
    bool dst;
    std::string abbr;
  };
  struct rule_date {
    int month = 0, week = 0, weekday = 0;  // Mm.w.d
    std::int32_t time = 7200;              // seconds after local midnight
  };
  std::string id_;
  std::vector<std::int64_t> transitions_;
  std::vector<std::uint8_t> indexes_;
  std::vector<type> types_;
  // POSIX footer rule
  bool has_rule_ = false;
  type std_{0, false, "UTC"}, dst_{0, true, ""};
  bool rule_dst_ = false;
  rule_date start_, end_;
  zone_offset from_rule(std::int64_t t) const;
  bool parse_rule(std::string_view r);
};

/// The zone for `id` (cached; nullptr when unknown or malformed).
std::shared_ptr<const time_zone> find_zone(std::string_view id);

/// Days since 1970-01-01 of a proleptic Gregorian date, and back.
std::int64_t days_from_civil(std::int64_t y, int m, int d) noexcept;
void civil_from_days(std::int64_t z, std::int64_t& y, int& m, int& d) noexcept;

}  // namespace iotblocks::sql::detail
