#include "sql/time_format.hpp"

#include <array>
#include <charconv>
#include <vector>

namespace iotblocks::sql::detail {
namespace {

constexpr std::array<std::string_view, 12> months = {
    "January", "February", "March",     "April",   "May",      "June",
    "July",    "August",   "September", "October", "November", "December"};
constexpr std::array<std::string_view, 7> weekdays = {"Monday", "Tuesday",  "Wednesday", "Thursday",
                                                      "Friday", "Saturday", "Sunday"};

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
}

void pad(std::string& out, std::int64_t v, int width) {
  if (v < 0) {
    out += '-';
    v = -v;
  }
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  const auto len = static_cast<int>(r.ptr - buf);
  for (int i = len; i < width; ++i) out += '0';
  out.append(buf, static_cast<std::size_t>(len));
}

void offset_text(std::string& out, std::int32_t s, bool colon) {
  out += s < 0 ? '-' : '+';
  if (s < 0) s = -s;
  pad(out, s / 3600, 2);
  if (colon) out += ':';
  pad(out, (s / 60) % 60, 2);
}

// ISO week-based year and week of a date.
void iso_week(std::int64_t days, std::int64_t year, int& week, std::int64_t& week_year) {
  const int wd = static_cast<int>(((days + 3) % 7 + 7) % 7);  // 0 = Monday
  const std::int64_t thursday = days - wd + 3;
  std::int64_t y = 0;
  int m = 0, d = 0;
  civil_from_days(thursday, y, m, d);
  week_year = y;
  week = static_cast<int>((thursday - days_from_civil(y, 1, 1)) / 7 + 1);
  (void)year;
}

}  // namespace

std::optional<std::string> format_joda(std::string_view pat, std::int64_t ms, const time_zone& tz) {
  const std::int64_t secs = floor_div(ms, 1000);
  const int millis = static_cast<int>(ms - secs * 1000);
  const zone_offset off = tz.at(secs);
  const std::int64_t local = secs + off.seconds;
  const std::int64_t days = floor_div(local, 86400);
  const auto sod = static_cast<int>(local - days * 86400);
  std::int64_t year = 0;
  int month = 0, day = 0;
  civil_from_days(days, year, month, day);
  const int hour = sod / 3600, minute = (sod / 60) % 60, second = sod % 60;
  const int weekday = static_cast<int>(((days + 3) % 7 + 7) % 7);  // 0 = Monday
  const std::int64_t doy = days - days_from_civil(year, 1, 1) + 1;

  std::string out;
  for (std::size_t i = 0; i < pat.size();) {
    const char c = pat[i];
    if (c == '\'') {
      const std::size_t start = ++i;
      if (i < pat.size() && pat[i] == '\'') {
        out += '\'';
        ++i;
        continue;
      }
      std::string lit;
      while (true) {
        if (i >= pat.size()) return std::nullopt;
        if (pat[i] == '\'') {
          if (i + 1 < pat.size() && pat[i + 1] == '\'') {
            lit += '\'';
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        lit += pat[i++];
      }
      (void)start;
      out += lit;
      continue;
    }
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))) {
      out += c;
      ++i;
      continue;
    }
    std::size_t n = 1;
    while (i + n < pat.size() && pat[i + n] == c) ++n;
    i += n;
    const int w = static_cast<int>(n);
    const std::int64_t year_of_era = year <= 0 ? 1 - year : year;
    switch (c) {
      case 'G': out += year <= 0 ? "BC" : "AD"; break;
      case 'C': pad(out, year_of_era / 100, w); break;
      case 'Y':
      case 'y':
        if (n == 2) {
          pad(out, ((c == 'Y' ? year_of_era : year) % 100 + 100) % 100, 2);
        } else {
          pad(out, c == 'Y' ? year_of_era : year, w);
        }
        break;
      case 'x':
      case 'w': {
        int week = 0;
        std::int64_t wy = 0;
        iso_week(days, year, week, wy);
        if (c == 'w') {
          pad(out, week, w);
        } else if (n == 2) {
          pad(out, (wy % 100 + 100) % 100, 2);
        } else {
          pad(out, wy, w);
        }
        break;
      }
      case 'e': pad(out, weekday + 1, w); break;
      case 'E':
        out += n >= 4 ? weekdays[static_cast<std::size_t>(weekday)]
                      : weekdays[static_cast<std::size_t>(weekday)].substr(0, 3);
        break;
      case 'D': pad(out, doy, w); break;
      case 'M':
        if (n >= 4) {
          out += months[static_cast<std::size_t>(month - 1)];
        } else if (n == 3) {
          out += months[static_cast<std::size_t>(month - 1)].substr(0, 3);
        } else {
          pad(out, month, w);
        }
        break;
      case 'd': pad(out, day, w); break;
      case 'a': out += hour < 12 ? "AM" : "PM"; break;
      case 'K': pad(out, hour % 12, w); break;
      case 'h': pad(out, hour % 12 == 0 ? 12 : hour % 12, w); break;
      case 'H': pad(out, hour, w); break;
      case 'k': pad(out, hour == 0 ? 24 : hour, w); break;
      case 'm': pad(out, minute, w); break;
      case 's': pad(out, second, w); break;
      case 'S': {
        std::string frac;
        pad(frac, millis, 3);
        while (frac.size() < n) frac += '0';
        out += frac.substr(0, n);
        break;
      }
      case 'z':
        if (n >= 4 || off.abbreviation.empty()) {
          out += tz.id();
        } else {
          out += off.abbreviation;
        }
        break;
      case 'Z':
        if (n >= 3) {
          out += tz.id();
        } else {
          offset_text(out, off.seconds, n == 2);
        }
        break;
      default: return std::nullopt;
    }
  }
  return out;
}

// --- parsing (java.time patterns) --------------------------------------------------
namespace {

struct element {
  char letter = 0;  // 0: literal
  std::size_t count = 0;
  std::string literal;
  int optional_depth = 0;  // >0 inside [ ]
  int section = -1;        // optional section id
};

struct fields {
  std::optional<std::int64_t> year;
  bool bc = false;
  bool two_digit_year = false;
  std::optional<int> month, day, doy, hour, hour12, minute, second;
  std::optional<bool> pm;
  std::int64_t nanos = 0;
  std::optional<std::int32_t> offset;
  std::shared_ptr<const time_zone> zone;
};

bool is_letter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

bool ieq_prefix(std::string_view text, std::size_t at, std::string_view word) {
  if (text.size() - at < word.size()) return false;
  for (std::size_t i = 0; i < word.size(); ++i) {
    char a = text[at + i], b = word[i];
    if (a >= 'A' && a <= 'Z') a = static_cast<char>(a - 'A' + 'a');
    if (b >= 'A' && b <= 'Z') b = static_cast<char>(b - 'A' + 'a');
    if (a != b) return false;
  }
  return true;
}

// Well-known abbreviations to zones (java.time's English names).
std::shared_ptr<const time_zone> zone_from_name(std::string_view name) {
  static constexpr std::pair<std::string_view, std::string_view> names[] = {
      {"PST", "America/Los_Angeles"}, {"PDT", "America/Los_Angeles"}, {"MST", "America/Denver"},
      {"MDT", "America/Denver"},      {"CST", "America/Chicago"},     {"CDT", "America/Chicago"},
      {"EST", "America/New_York"},    {"EDT", "America/New_York"},    {"AKST", "America/Anchorage"},
      {"AKDT", "America/Anchorage"},  {"HST", "Pacific/Honolulu"},    {"BST", "Europe/London"},
      {"CET", "Europe/Paris"},        {"CEST", "Europe/Paris"},       {"EET", "Europe/Bucharest"},
      {"EEST", "Europe/Bucharest"},   {"WET", "Europe/Lisbon"},       {"WEST", "Europe/Lisbon"},
      {"JST", "Asia/Tokyo"},          {"IST", "Asia/Kolkata"},        {"AEST", "Australia/Sydney"},
      {"AEDT", "Australia/Sydney"},   {"NZST", "Pacific/Auckland"},   {"NZDT", "Pacific/Auckland"}};
  for (const auto& [abbr, id] : names) {
    if (abbr == name) return find_zone(id);
  }
  return nullptr;
}

std::vector<element> tokenize(std::string_view pat, bool& ok) {
  std::vector<element> out;
  int depth = 0;
  int sections = 0;
  std::vector<int> open;
  for (std::size_t i = 0; i < pat.size();) {
    const char c = pat[i];
    element e;
    e.optional_depth = depth;
    e.section = open.empty() ? -1 : open.back();
    if (c == '\'') {
      ++i;
      if (i < pat.size() && pat[i] == '\'') {
        e.literal = "'";
        ++i;
      } else {
        while (true) {
          if (i >= pat.size()) return ok = false, out;
          if (pat[i] == '\'') {
            if (i + 1 < pat.size() && pat[i + 1] == '\'') {
              e.literal += '\'';
              i += 2;
              continue;
            }
            ++i;
            break;
          }
          e.literal += pat[i++];
        }
      }
      out.push_back(std::move(e));
    } else if (c == '[') {
      ++depth;
      open.push_back(sections++);
      ++i;
    } else if (c == ']') {
      if (open.empty()) return ok = false, out;
      --depth;
      open.pop_back();
      ++i;
    } else if (is_letter(c)) {
      std::size_t n = 1;
      while (i + n < pat.size() && pat[i + n] == c) ++n;
      e.letter = c;
      e.count = n;
      i += n;
      out.push_back(std::move(e));
    } else {
      e.literal = std::string(1, c);
      ++i;
      out.push_back(std::move(e));
    }
  }
  ok = open.empty();
  return out;
}

bool is_numeric_letter(char c) {
  switch (c) {
    case 'y':
    case 'u':
    case 'M':
    case 'L':
    case 'd':
    case 'D':
    case 'H':
    case 'h':
    case 'K':
    case 'k':
    case 'm':
    case 's':
    case 'S':
    case 'n': return true;
    default: return false;
  }
}

bool read_digits(std::string_view t, std::size_t& at, std::size_t min, std::size_t max,
                 std::int64_t& v) {
  std::size_t n = 0;
  v = 0;
  while (at + n < t.size() && n < max && t[at + n] >= '0' && t[at + n] <= '9') {
    if (v > 99'999'999'999'999'999) return false;  // would overflow: no date has such fields
    v = v * 10 + (t[at + n] - '0');
    ++n;
  }
  if (n < min) return false;
  at += n;
  return true;
}

bool parse_offset(std::string_view t, std::size_t& at, std::int32_t& out, bool allow_z) {
  if (allow_z && at < t.size() && t[at] == 'Z') {
    ++at;
    out = 0;
    return true;
  }
  if (at >= t.size() || (t[at] != '+' && t[at] != '-')) return false;
  const int sign = t[at] == '-' ? -1 : 1;
  ++at;
  std::int64_t h = 0, m = 0, s = 0;
  if (!read_digits(t, at, 1, 2, h)) return false;
  if (at < t.size() && t[at] == ':') {
    ++at;
    if (!read_digits(t, at, 2, 2, m)) return false;
    if (at < t.size() && t[at] == ':') {
      ++at;
      if (!read_digits(t, at, 2, 2, s)) return false;
    }
  } else {
    read_digits(t, at, 0, 2, m);
  }
  if (h > 18 || m > 59 || s > 59) return false;
  out = sign * static_cast<std::int32_t>(h * 3600 + m * 60 + s);
  return true;
}

bool parse_zone_id(std::string_view t, std::size_t& at, fields& f) {
  std::size_t n = 0;
  while (at + n < t.size()) {
    const char c = t[at + n];
    if (!(is_letter(c) || (c >= '0' && c <= '9') || c == '/' || c == '_' || c == '+' || c == '-' ||
          c == ':'))
      break;
    ++n;
  }
  // Longest prefix that names a zone.
  for (; n > 0; --n) {
    const std::string_view id = t.substr(at, n);
    auto z = zone_from_name(id);
    if (!z) z = find_zone(id);
    if (z) {
      f.zone = std::move(z);
      at += n;
      return true;
    }
  }
  return false;
}

bool parse_element(const element& e, const element* next, std::string_view t, std::size_t& at,
                   fields& f) {
  if (!e.letter) {
    if (t.substr(at, e.literal.size()) != e.literal) return false;
    at += e.literal.size();
    return true;
  }
  const bool adjacent = next && next->letter && is_numeric_letter(next->letter);
  auto number = [&](std::size_t min, std::size_t max, std::int64_t& v) {
    if (adjacent) max = min;
    return read_digits(t, at, min, max, v);
  };
  std::int64_t v = 0;
  const std::size_t n = e.count;
  switch (e.letter) {
    case 'y':
    case 'u':
      if (n == 2) {
        if (!read_digits(t, at, 2, 2, v)) return false;
        f.year = 2000 + v;
        return true;
      }
      if (at < t.size() && (t[at] == '-' || t[at] == '+') && n >= 4) {
        const bool neg = t[at] == '-';
        ++at;
        if (!number(n, 19, v)) return false;
        f.year = neg ? -v : v;
        return true;
      }
      if (!number(n, 19, v)) return false;
      f.year = v;
      return true;
    case 'M':
    case 'L':
      if (n >= 3) {
        for (std::size_t i = 0; i < 12; ++i) {
          const std::string_view name = n == 3 ? months[i].substr(0, 3) : months[i];
          if (ieq_prefix(t, at, name)) {
            f.month = static_cast<int>(i + 1);
            at += name.size();
            return true;
          }
        }
        return false;
      }
      if (!number(n, 2, v)) return false;
      f.month = static_cast<int>(v);
      return true;
    case 'd':
      if (!number(n, 2, v)) return false;
      f.day = static_cast<int>(v);
      return true;
    case 'D':
      if (!number(n, 3, v)) return false;
      f.doy = static_cast<int>(v);
      return true;
    case 'H':
      if (!number(n, 2, v)) return false;
      f.hour = static_cast<int>(v);
      return true;
    case 'k':
      if (!number(n, 2, v)) return false;
      f.hour = static_cast<int>(v == 24 ? 0 : v);
      return true;
    case 'h':
      if (!number(n, 2, v)) return false;
      f.hour12 = static_cast<int>(v == 12 ? 0 : v);
      return true;
    case 'K':
      if (!number(n, 2, v)) return false;
      f.hour12 = static_cast<int>(v);
      return true;
    case 'm':
      if (!number(n, 2, v)) return false;
      f.minute = static_cast<int>(v);
      return true;
    case 's':
      if (!number(n, 2, v)) return false;
      f.second = static_cast<int>(v);
      return true;
    case 'S': {
      const std::size_t start = at;
      if (!read_digits(t, at, n, n, v)) return false;
      std::int64_t nanos = v;
      for (std::size_t k = at - start; k < 9; ++k) nanos *= 10;
      f.nanos = nanos;
      return true;
    }
    case 'n':
      if (!read_digits(t, at, 1, 9, v)) return false;
      f.nanos = v;
      return true;
    case 'a':
      if (ieq_prefix(t, at, "AM") || ieq_prefix(t, at, "PM")) {
        f.pm = t[at] == 'P' || t[at] == 'p';
        at += 2;
        return true;
      }
      return false;
    case 'G':
      if (ieq_prefix(t, at, "AD") || ieq_prefix(t, at, "BC")) {
        f.bc = t[at] == 'B' || t[at] == 'b';
        at += 2;
        return true;
      }
      return false;
    case 'E':
    case 'e':
    case 'c':
      for (const auto& day : weekdays) {
        const std::string_view name = n >= 4 ? day : day.substr(0, 3);
        if (ieq_prefix(t, at, name)) {
          at += name.size();
          return true;
        }
      }
      if (e.letter != 'E' && number(1, 1, v)) return true;
      return false;
    case 'X':
    case 'x':
    case 'Z': {
      std::int32_t off = 0;
      if (e.letter == 'Z' && n == 4) {
        if (ieq_prefix(t, at, "GMT")) at += 3;
        if (at >= t.size() || (t[at] != '+' && t[at] != '-')) return f.offset = 0, true;
      }
      if (!parse_offset(t, at, off, e.letter == 'X' || (e.letter == 'Z' && n == 5))) return false;
      f.offset = off;
      return true;
    }
    case 'O': {
      if (!ieq_prefix(t, at, "GMT")) return false;
      at += 3;
      std::int32_t off = 0;
      if (at < t.size() && (t[at] == '+' || t[at] == '-')) {
        if (!parse_offset(t, at, off, false)) return false;
      }
      f.offset = off;
      return true;
    }
    case 'V':
    case 'z':
    case 'v': return parse_zone_id(t, at, f);
    default: return false;
  }
}

bool parse_range(const std::vector<element>& els, std::size_t from, std::size_t to,
                 std::string_view t, std::size_t& at, fields& f) {
  for (std::size_t i = from; i < to;) {
    const element& e = els[i];
    if (e.section >= 0) {
      // An optional section: try it, skip it when it does not parse.
      std::size_t end = i;
      while (end < to && els[end].section == e.section) ++end;
      std::size_t save = at;
      fields saved = f;
      bool ok = true;
      for (std::size_t k = i; k < end && ok; ++k) {
        ok = parse_element(els[k], k + 1 < end ? &els[k + 1] : nullptr, t, at, f);
      }
      if (!ok) {
        at = save;
        f = saved;
      }
      i = end;
      continue;
    }
    if (!parse_element(e, i + 1 < to && els[i + 1].section == e.section ? &els[i + 1] : nullptr, t,
                       at, f)) {
      return false;
    }
    ++i;
  }
  return true;
}

int days_in_month(std::int64_t y, int m) {
  static constexpr int d[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (m == 2 && (y % 4 == 0 && (y % 100 != 0 || y % 400 == 0))) return 29;
  return d[m - 1];
}

}  // namespace

std::optional<std::int64_t> parse_java(std::string_view text, std::string_view pattern) {
  bool ok = true;
  const auto els = tokenize(pattern, ok);
  if (!ok) return std::nullopt;
  fields f;
  std::size_t at = 0;
  if (!parse_range(els, 0, els.size(), text, at, f) || at != text.size()) return std::nullopt;
  if (!f.year) return std::nullopt;
  std::int64_t year = f.bc ? 1 - *f.year : *f.year;
  // Epoch milliseconds must fit in 64 bits (Java's toEpochMilli fails beyond).
  if (year > 200'000'000 || year < -200'000'000) return std::nullopt;
  std::int64_t days = 0;
  if (f.month) {
    if (*f.month < 1 || *f.month > 12 || !f.day) return std::nullopt;
    if (*f.day < 1 || *f.day > days_in_month(year, *f.month)) return std::nullopt;
    days = days_from_civil(year, *f.month, *f.day);
  } else if (f.doy) {
    const int max = days_in_month(year, 2) == 29 ? 366 : 365;
    if (*f.doy < 1 || *f.doy > max) return std::nullopt;
    days = days_from_civil(year, 1, 1) + *f.doy - 1;
  } else {
    return std::nullopt;
  }
  int hour = 0;
  if (f.hour) {
    hour = *f.hour;
  } else if (f.hour12) {
    if (!f.pm) return std::nullopt;
    hour = *f.hour12 + (*f.pm ? 12 : 0);
  }
  const int minute = f.minute.value_or(0), second = f.second.value_or(0);
  if (hour > 23 || minute > 59 || second > 59 || (f.hour12 && *f.hour12 > 11)) return std::nullopt;
  const std::int64_t local = days * 86400 + hour * 3600 + minute * 60 + second;
  std::int64_t utc = local;
  if (f.offset) {
    utc = local - *f.offset;
  } else if (f.zone) {
    utc = f.zone->to_utc(local);
  }
  return utc * 1000 + f.nanos / 1000000;
}

}  // namespace iotblocks::sql::detail
