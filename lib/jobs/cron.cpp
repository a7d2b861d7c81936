// AWS cron expressions: a parser into bit sets and a bounded search for the next match.
#include <iotblocks/jobs/cron.hpp>
#include <iotblocks/jobs/error.hpp>

#include <bitset>
#include <chrono>
#include <string>

namespace iotblocks::jobs {
namespace {

struct field_spec {
  const char* name;
  int lo, hi;
};
constexpr field_spec specs[6] = {{"Minutes", 0, 59}, {"Hours", 0, 23},      {"Day-of-month", 1, 31},
                                 {"Month", 1, 12},   {"Day-of-week", 1, 7}, {"Year", 1970, 2199}};
enum : int { minutes_f, hours_f, dom_f, month_f, dow_f, year_f };
constexpr std::string_view month_names[] = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                            "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
constexpr std::string_view day_names[] = {"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"};
constexpr std::size_t max_length = 256;  // CronExpression (AWS)

char upper(char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c; }
bool digit(char c) { return c >= '0' && c <= '9'; }
bool letter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

struct parser {
  std::string_view text;
  cron_expression out;
  std::bitset<256> values[6];

  failure fail(std::size_t at, std::string message) const {
    return failure{make_error_code(error::invalid_request), "cron: " + std::move(message),
                   position_in(text, at)};
  }
  std::string where(int f) const { return std::string(specs[f].name) + ": "; }

  // A number or (months, weekdays) a name, at text[i]; advances i.
  std::optional<failure> value(int f, std::size_t& i, std::size_t end, int& v) const {
    const std::size_t at = i;
    if (i < end && digit(text[i])) {
      v = 0;
      while (i < end && digit(text[i])) {
        if (i - at == 4) return fail(at, where(f) + "number too long");
        v = v * 10 + (text[i++] - '0');
      }
    } else if (i + 3 <= end && letter(text[i]) && (f == month_f || f == dow_f)) {
      std::string name{upper(text[i]), upper(text[i + 1]), upper(text[i + 2])};
      v = 0;
      if (f == month_f) {
        for (int k = 0; k < 12; ++k) v = month_names[k] == name ? k + 1 : v;
      } else {
        for (int k = 0; k < 7; ++k) v = day_names[k] == name ? k + 1 : v;
      }
      if (v == 0) return fail(at, where(f) + "unknown name " + name);
      i += 3;
    } else {
      return fail(at,
                  where(f) + (at < end ? "unexpected character '" + std::string(1, text[at]) + "'"
                                       : std::string("a value is missing")));
    }
    if (v < specs[f].lo || v > specs[f].hi) {
      return fail(at, where(f) + std::to_string(v) + " is out of range " +
                          std::to_string(specs[f].lo) + "-" + std::to_string(specs[f].hi));
    }
    return std::nullopt;
  }

  // `nW` or `LW` in day-of-month (text[i, end), the W at i + w): a field of its own.
  std::optional<failure> nearest_weekday(std::size_t i, std::size_t end, std::size_t w,
                                         bool alone) {
    if (!alone) return fail(i + w, where(dom_f) + "W takes one day, not a list");
    if (i + w + 1 != end) return fail(i + w + 1, where(dom_f) + "unexpected character after W");
    if (w == 1 && (text[i] == 'L' || text[i] == 'l')) {
      out.last_weekday_of_month = true;
      return std::nullopt;
    }
    int day = 0;
    std::size_t p = i;
    if (auto e = value(dom_f, p, i + w, day)) return e;
    if (p != i + w) return fail(p, where(dom_f) + "W takes one day, not a range or a step");
    out.nearest_weekday = static_cast<std::uint8_t>(day);
    return std::nullopt;
  }

  // One item of a field's comma list: text[i, end).
  std::optional<failure> item(int f, std::size_t i, std::size_t end, bool alone) {
    const auto lo = specs[f].lo, hi = specs[f].hi;
    const std::string_view s = text.substr(i, end - i);
    if (s.empty()) return fail(i, where(f) + "empty item in a list");
    if (auto w = s.find_first_of("Ww"); w != std::string_view::npos && f == dom_f) {
      return nearest_weekday(i, end, w, alone);
    }
    if (s == "?") {
      if (f != dom_f && f != dow_f) return fail(i, where(f) + "? is only for the day fields");
      if (!alone) return fail(i, where(f) + "? stands alone");
      (f == dom_f ? out.any_day : out.any_weekday) = true;
      return std::nullopt;
    }
    if (s == "L" || s == "l") {
      if (f == dom_f) {
        out.last_day = true;
      } else if (f == dow_f) {
        values[f].set(7 - lo);  // the last day of the week
      } else {
        return fail(i, where(f) + "L is only for the day fields");
      }
      return std::nullopt;
    }
    int first = lo, last = hi, step = 1;
    std::size_t p = i;
    if (text[p] == '*') {
      ++p;
      if (p < end && text[p] != '/') return fail(p, where(f) + "unexpected character after *");
    } else {
      if (auto e = value(f, p, end, first)) return e;
      last = first;
      if (p < end && f == dow_f && (text[p] == 'L' || text[p] == 'l')) {
        if (p + 1 != end) return fail(p + 1, where(f) + "unexpected character after L");
        out.last_weekdays |= static_cast<std::uint8_t>(1u << first);
        return std::nullopt;
      }
      if (p < end && f == dow_f && text[p] == '#') {
        int n = 0;
        const std::size_t at = ++p;
        while (p < end && digit(text[p]) && p - at < 2) n = n * 10 + (text[p++] - '0');
        if (p != end || n < 1 || n > 5) return fail(at, where(f) + "# takes 1-5");
        out.nth[static_cast<std::size_t>(first)] |= static_cast<std::uint8_t>(1u << n);
        return std::nullopt;
      }
      if (p < end && text[p] == '-') {
        const std::size_t at = ++p;
        if (auto e = value(f, p, end, last)) return e;
        if (last < first) return fail(at, where(f) + "a range ends before it starts");
      } else if (p < end && text[p] == '/') {
        last = hi;  // a/step: from a to the end of the range
      }
    }
    if (p < end && text[p] == '/') {
      const std::size_t at = ++p;
      step = 0;
      while (p < end && digit(text[p]) && p - at < 4) step = step * 10 + (text[p++] - '0');
      if (p == at || step < 1) return fail(at, where(f) + "/ takes a step of at least 1");
    }
    if (p != end)
      return fail(p, where(f) + "unexpected character '" + std::string(1, text[p]) + "'");
    for (int v = first; v <= last; v += step) values[f].set(static_cast<std::size_t>(v - lo));
    return std::nullopt;
  }

  result<cron_expression> run() {
    if (text.empty()) return fail(0, "empty expression");
    if (text.size() > max_length) return fail(max_length, "longer than 256 characters");
    std::size_t begin = 0, end = text.size();
    if (text.starts_with("cron(")) {
      begin = 5;
      if (!text.ends_with(")")) return fail(end, "cron( without its closing )");
      --end;
    }
    std::size_t starts[6] = {}, ends[6] = {};
    int n = 0;
    for (std::size_t i = begin; i < end;) {
      if (text[i] == ' ') {
        ++i;
        continue;
      }
      if (n == 6) return fail(i, "more than 6 fields");
      starts[n] = i;
      while (i < end && text[i] != ' ') ++i;
      ends[n++] = i;
    }
    if (n < 6) {
      return fail(end,
                  "expected 6 fields (Minutes Hours Day-of-month Month Day-of-week Year), got " +
                      std::to_string(n));
    }
    for (int f = 0; f < 6; ++f) {
      const bool alone =
          text.substr(starts[f], ends[f] - starts[f]).find(',') == std::string_view::npos;
      for (std::size_t i = starts[f]; i <= ends[f];) {
        std::size_t comma = i;
        while (comma < ends[f] && text[comma] != ',') ++comma;
        if (auto e = item(f, i, comma, alone)) return *e;
        i = comma + 1;
      }
    }
    if (out.any_day == out.any_weekday) {
      return fail(starts[dom_f], "exactly one of Day-of-month and Day-of-week must be ?");
    }
    auto bits = [&](int f) {
      std::uint64_t b = 0;
      for (int v = specs[f].lo; v <= specs[f].hi; ++v) {
        if (values[f].test(static_cast<std::size_t>(v - specs[f].lo))) b |= std::uint64_t{1} << v;
      }
      return b;
    };
    out.minutes = bits(minutes_f);
    out.hours = static_cast<std::uint32_t>(bits(hours_f));
    out.days = static_cast<std::uint32_t>(bits(dom_f));
    out.months = static_cast<std::uint16_t>(bits(month_f));
    out.weekdays = static_cast<std::uint8_t>(bits(dow_f));
    for (std::size_t y = 0; y < out.years.size(); ++y) out.years[y] = values[year_f].test(y);
    return out;
  }
};

// The weekday (MON-FRI) nearest day n of a month whose day d is weekday w (SUN = 1) and
// whose last day is `last`, within the month; 0 when the month has no day n.
unsigned nearest_weekday(unsigned n, unsigned d, unsigned w, unsigned last) {
  if (n > last) return 0;
  const unsigned wn = (w - 1 + 35 + n - d) % 7 + 1;  // n's weekday
  if (wn == 7) return n == 1 ? 3 : n - 1;            // SAT: FRI, or MON after the 1st
  if (wn == 1) return n == last ? n - 2 : n + 1;     // SUN: MON, or FRI before the last
  return n;
}

bool day_matches(const cron_expression& c, const std::chrono::year_month_day& ymd,
                 std::chrono::weekday wd) {
  const int y = static_cast<int>(ymd.year());
  if (y < 1970 || y > 2199 || !c.years.test(static_cast<std::size_t>(y - 1970))) return false;
  const auto m = static_cast<unsigned>(ymd.month());
  if (((c.months >> m) & 1u) == 0) return false;
  const auto d = static_cast<unsigned>(ymd.day());
  const auto last = static_cast<unsigned>(
      std::chrono::year_month_day_last{ymd.year(), std::chrono::month_day_last{ymd.month()}}.day());
  const unsigned w = wd.c_encoding() + 1;  // SUN = 1
  if (!c.any_day) {
    return ((c.days >> d) & 1u) != 0 || (c.last_day && d == last) ||
           (c.nearest_weekday != 0 && d == nearest_weekday(c.nearest_weekday, d, w, last)) ||
           (c.last_weekday_of_month && d == nearest_weekday(last, d, w, last));
  }
  return ((c.weekdays >> w) & 1u) != 0 || (((c.last_weekdays >> w) & 1u) != 0 && d + 7 > last) ||
         ((c.nth[w] >> ((d - 1) / 7 + 1)) & 1u) != 0;
}

std::int64_t floor_div(std::int64_t a, std::int64_t b) { return a / b - (a % b != 0 && a < 0); }

}  // namespace

result<cron_expression> parse_cron(std::string_view text) { return parser{text, {}, {}}.run(); }

std::optional<std::int64_t> next_match(const cron_expression& c, std::int64_t t) {
  const std::int64_t start = (floor_div(t - 1, 60) + 1) * 60;  // t rounded up to a minute
  std::int64_t day = floor_div(start, 86400);
  int from = static_cast<int>((start - day * 86400) / 60);  // minute of the first day
  for (std::int64_t i = 0; i <= cron_search_days; ++i, ++day, from = 0) {
    const std::chrono::sys_days sd{std::chrono::days{day}};
    if (!day_matches(c, std::chrono::year_month_day{sd}, std::chrono::weekday{sd})) continue;
    for (int h = from / 60; h < 24; ++h) {
      if (((c.hours >> h) & 1u) == 0) continue;
      for (int mi = h == from / 60 ? from % 60 : 0; mi < 60; ++mi) {
        if (((c.minutes >> mi) & 1u) != 0) return day * 86400 + h * 3600 + mi * 60;
      }
    }
  }
  return std::nullopt;
}

}  // namespace iotblocks::jobs
