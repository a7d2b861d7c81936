#include "sql/tz.hpp"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <mutex>

namespace iotblocks::sql::detail {

std::int64_t days_from_civil(std::int64_t y, int m, int d) noexcept {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy =
      (153 * static_cast<unsigned>(m + (m > 2 ? -3 : 9)) + 2) / 5 + static_cast<unsigned>(d) - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

void civil_from_days(std::int64_t z, std::int64_t& y, int& m, int& d) noexcept {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  y = static_cast<std::int64_t>(yoe) + era * 400 + (m <= 2);
}

namespace {

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
}

// Unix seconds of the local midnight of the w-th weekday d of month m in year y.
std::int64_t rule_day(std::int64_t y, int m, int w, int d) {
  const std::int64_t first = days_from_civil(y, m, 1);
  const int first_wd = static_cast<int>(((first % 7) + 11) % 7);  // 0 = Sunday
  std::int64_t day = first + ((d - first_wd + 7) % 7);
  const int days_in_month =
      static_cast<int>(days_from_civil(m == 12 ? y + 1 : y, m == 12 ? 1 : m + 1, 1) - first);
  day += 7 * (w - 1);
  while (w == 5 && day - first >= days_in_month) day -= 7;
  return day * 86400;
}

bool parse_offset_posix(std::string_view& r, std::int32_t& out) {
  int sign = 1;
  if (!r.empty() && (r[0] == '+' || r[0] == '-')) {
    sign = r[0] == '-' ? -1 : 1;
    r.remove_prefix(1);
  }
  std::int32_t parts[3] = {0, 0, 0};
  for (int i = 0; i < 3; ++i) {
    if (r.empty() || r[0] < '0' || r[0] > '9') {
      if (i == 0) return false;
      break;
    }
    int v = 0;
    while (!r.empty() && r[0] >= '0' && r[0] <= '9') v = v * 10 + (r[0] - '0'), r.remove_prefix(1);
    parts[i] = v;
    if (i < 2 && !r.empty() && r[0] == ':') {
      r.remove_prefix(1);
    } else {
      break;
    }
  }
  out = sign * (parts[0] * 3600 + parts[1] * 60 + parts[2]);
  return true;
}

bool parse_name(std::string_view& r, std::string& out) {
  if (!r.empty() && r[0] == '<') {
    const auto e = r.find('>');
    if (e == std::string_view::npos) return false;
    out = std::string(r.substr(1, e - 1));
    r.remove_prefix(e + 1);
    return true;
  }
  std::size_t n = 0;
  while (n < r.size() && ((r[n] >= 'A' && r[n] <= 'Z') || (r[n] >= 'a' && r[n] <= 'z'))) ++n;
  if (n < 3) return false;
  out = std::string(r.substr(0, n));
  r.remove_prefix(n);
  return true;
}

}  // namespace

bool time_zone::parse_rule(std::string_view r) {
  std::string name;
  std::int32_t off = 0;
  if (!parse_name(r, name) || !parse_offset_posix(r, off)) return false;
  std_ = {-off, false, name};
  if (r.empty()) {
    has_rule_ = true;
    return true;
  }
  if (!parse_name(r, name)) return false;
  std::int32_t doff = off - 3600;
  if (!r.empty() && r[0] != ',' && !parse_offset_posix(r, doff)) return false;
  dst_ = {-doff, true, name};
  auto date = [&](rule_date& d) {
    if (r.empty() || r[0] != ',') return false;
    r.remove_prefix(1);
    if (r.empty() || r[0] != 'M') return false;  // Jn and n forms: not used by tzdata
    r.remove_prefix(1);
    int v[3] = {0, 0, 0};
    for (int i = 0; i < 3; ++i) {
      while (!r.empty() && r[0] >= '0' && r[0] <= '9')
        v[i] = v[i] * 10 + (r[0] - '0'), r.remove_prefix(1);
      if (i < 2) {
        if (r.empty() || r[0] != '.') return false;
        r.remove_prefix(1);
      }
    }
    d.month = v[0];
    d.week = v[1];
    d.weekday = v[2];
    d.time = 7200;
    if (!r.empty() && r[0] == '/') {
      r.remove_prefix(1);
      if (!parse_offset_posix(r, d.time)) return false;
    }
    return d.month >= 1 && d.month <= 12 && d.week >= 1 && d.week <= 5 && d.weekday <= 6;
  };
  if (!date(start_) || !date(end_)) return false;
  rule_dst_ = true;
  has_rule_ = true;
  return true;
}

zone_offset time_zone::from_rule(std::int64_t t) const {
  if (!rule_dst_) return {std_.offset, std_.abbr};
  std::int64_t y = 0;
  int m = 0, d = 0;
  civil_from_days(floor_div(t + std_.offset, 86400), y, m, d);
  const std::int64_t start =
      rule_day(y, start_.month, start_.week, start_.weekday) + start_.time - std_.offset;
  const std::int64_t end =
      rule_day(y, end_.month, end_.week, end_.weekday) + end_.time - dst_.offset;
  const bool in_dst = start < end ? (t >= start && t < end) : (t >= start || t < end);
  return in_dst ? zone_offset{dst_.offset, dst_.abbr} : zone_offset{std_.offset, std_.abbr};
}

zone_offset time_zone::at(std::int64_t t) const {
  if (transitions_.empty() || t >= transitions_.back()) {
    if (has_rule_) return from_rule(t);
    if (!types_.empty()) {
      const auto& ty = transitions_.empty() ? types_[0] : types_[indexes_.back()];
      return {ty.offset, ty.abbr};
    }
    return {std_.offset, std_.abbr};
  }
  if (t < transitions_.front()) {
    for (const auto& ty : types_) {
      if (!ty.dst) return {ty.offset, ty.abbr};
    }
    return {types_[0].offset, types_[0].abbr};
  }
  const auto it = std::upper_bound(transitions_.begin(), transitions_.end(), t);
  const auto& ty = types_[indexes_[static_cast<std::size_t>(it - transitions_.begin() - 1)]];
  return {ty.offset, ty.abbr};
}

std::int64_t time_zone::to_utc(std::int64_t local) const {
  const std::int32_t before = at(local - 86400).seconds;
  const std::int32_t after = at(local + 86400).seconds;
  // Try the earlier offset first (overlap: summer time), then the later one.
  for (std::int32_t off : {std::max(before, after), std::min(before, after)}) {
    if (at(local - off).seconds == off) return local - off;
  }
  return local - before;  // a gap: shift forward by the transition
}

std::shared_ptr<const time_zone> time_zone::fixed(std::int32_t seconds, std::string id) {
  auto z = std::make_shared<time_zone>();
  z->id_ = std::move(id);
  z->std_ = {seconds, false, seconds == 0 ? "UTC" : ""};
  z->has_rule_ = true;
  return z;
}

namespace {
std::uint32_t be32(const unsigned char* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
         p[3];
}
}  // namespace

std::shared_ptr<const time_zone> load_tzif(std::string id, std::string_view data) {
  const auto* d = reinterpret_cast<const unsigned char*>(data.data());
  const std::size_t n = data.size();
  if (n < 44 || data.substr(0, 4) != "TZif") return nullptr;
  auto counts = [&](std::size_t at, std::uint32_t c[6]) {
    if (at + 44 > n) return false;
    for (int i = 0; i < 6; ++i) c[i] = be32(d + at + 20 + 4 * i);
    return true;
  };
  std::uint32_t c[6];  // isutcnt isstdcnt leapcnt timecnt typecnt charcnt
  if (!counts(0, c)) return nullptr;
  std::size_t at = 44;
  int tsize = 4;
  if (data[4] >= '2') {
    at +=
        std::size_t{c[3]} * 5 + std::size_t{c[4]} * 6 + c[5] + std::size_t{c[2]} * 8 + c[1] + c[0];
    if (!counts(at, c)) return nullptr;
    at += 44;
    tsize = 8;
  }
  const std::size_t timecnt = c[3], typecnt = c[4], charcnt = c[5];
  const std::size_t need =
      timecnt * static_cast<std::size_t>(tsize) + timecnt + typecnt * 6 + charcnt;
  if (typecnt == 0 || at + need > n) return nullptr;
  auto z = std::make_shared<time_zone>();
  z->id_ = std::move(id);
  for (std::size_t i = 0; i < timecnt; ++i) {
    const unsigned char* p = d + at + i * static_cast<std::size_t>(tsize);
    std::int64_t t = 0;
    if (tsize == 8) {
      t = static_cast<std::int64_t>((std::uint64_t{be32(p)} << 32) | be32(p + 4));
    } else {
      t = static_cast<std::int32_t>(be32(p));
    }
    z->transitions_.push_back(t);
  }
  at += timecnt * static_cast<std::size_t>(tsize);
  for (std::size_t i = 0; i < timecnt; ++i) {
    if (d[at + i] >= typecnt) return nullptr;
    z->indexes_.push_back(d[at + i]);
  }
  at += timecnt;
  const std::size_t chars = at + typecnt * 6;
  for (std::size_t i = 0; i < typecnt; ++i) {
    const unsigned char* p = d + at + i * 6;
    const std::size_t ai = p[5];
    std::string abbr;
    for (std::size_t k = ai; k < charcnt && d[chars + k] != 0; ++k)
      abbr += static_cast<char>(d[chars + k]);
    z->types_.push_back({static_cast<std::int32_t>(be32(p)), p[4] != 0, std::move(abbr)});
  }
  if (tsize == 8) {
    // Footer: \n<POSIX TZ>\n after the remaining v2 data.
    const auto nl = data.rfind('\n', n >= 2 ? n - 2 : 0);
    if (nl != std::string_view::npos && data.back() == '\n' && nl + 1 < n - 1) {
      z->parse_rule(data.substr(nl + 1, n - nl - 2));
    }
  }
  return z;
}

namespace {

bool parse_fixed(std::string_view id, std::int32_t& seconds) {
  std::string_view s = id;
  for (std::string_view prefix : {"UTC", "GMT", "UT"}) {
    if (s.starts_with(prefix)) {
      s.remove_prefix(prefix.size());
      break;
    }
  }
  if (s.empty() || s == "Z") return seconds = 0, id != "";
  if (s[0] != '+' && s[0] != '-') return false;
  const int sign = s[0] == '-' ? -1 : 1;
  s.remove_prefix(1);
  int digits[4] = {0, 0, 0, 0};
  int nd = 0;
  bool colon = false;
  for (char ch : s) {
    if (ch == ':' && nd == 2 && !colon) {
      colon = true;
      continue;
    }
    if (ch == ':' && nd == 1 && !colon) {
      digits[1] = digits[0];
      digits[0] = 0;
      nd = 2;
      colon = true;
      continue;
    }
    if (ch < '0' || ch > '9' || nd >= 4) return false;
    digits[nd++] = ch - '0';
  }
  int h = 0, m = 0;
  if (nd == 1) {
    h = digits[0];
  } else if (nd == 2) {
    h = digits[0] * 10 + digits[1];
  } else if (nd == 3) {
    h = digits[0];
    m = digits[1] * 10 + digits[2];
  } else if (nd == 4) {
    h = digits[0] * 10 + digits[1];
    m = digits[2] * 10 + digits[3];
  } else {
    return false;
  }
  if (h > 18 || m > 59) return false;
  seconds = sign * (h * 3600 + m * 60);
  return true;
}

bool valid_id(std::string_view id) {
  if (id.empty() || id.size() > 64 || id[0] == '/' || id.find("..") != std::string_view::npos)
    return false;
  for (char c : id) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-' || c == '+' || c == '/';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

std::shared_ptr<const time_zone> find_zone(std::string_view id) {
  std::int32_t seconds = 0;
  if (parse_fixed(id, seconds)) {
    return time_zone::fixed(seconds, std::string(id));
  }
  if (!valid_id(id)) return nullptr;
  static std::mutex mu;
  static std::map<std::string, std::shared_ptr<const time_zone>, std::less<>> cache;
  std::lock_guard<std::mutex> lock(mu);
  if (auto it = cache.find(id); it != cache.end()) return it->second;
  const char* dir = std::getenv("TZDIR");
  const std::string path =
      std::string(dir && *dir ? dir : "/usr/share/zoneinfo") + "/" + std::string(id);
  std::shared_ptr<const time_zone> z;
  std::error_code ec;
  // Only regular files: a directory such as "America" must not be read.
  if (std::filesystem::is_regular_file(path, ec) &&
      std::filesystem::file_size(path, ec) < (1u << 20) && !ec) {
    std::ifstream in(path, std::ios::binary);
    std::string data;
    if (in) data.assign(std::istreambuf_iterator<char>(in), {});
    if (in.good() || in.eof()) z = load_tzif(std::string(id), data);
  }
  if (cache.size() < 512) cache.emplace(std::string(id), z);
  return z;
}

}  // namespace iotblocks::sql::detail
