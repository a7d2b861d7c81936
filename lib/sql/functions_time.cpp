// timestamp(), parse_time(pattern, millis[, zone]), time_to_epoch(text, pattern).
#include "sql/convert.hpp"
#include "sql/functions.hpp"
#include "sql/time_format.hpp"

namespace iotblocks::sql::detail {
namespace {

val f_timestamp(eval_state& st, const val*, std::size_t) { return val::integer(st.timestamp()); }

val f_parse_time(eval_state& st, const val* a, std::size_t n) {
  auto pattern = to_string(st, a[0]);
  auto ms = to_int_floor(a[1]);
  if (!pattern || !ms) return val::undef();
  std::shared_ptr<const time_zone> zone;
  if (n == 3) {
    auto id = to_string(st, a[2]);
    if (!id) return val::undef();
    zone = find_zone(*id);
  } else {
    zone = find_zone("UTC");
  }
  if (!zone) return val::undef();
  auto text = format_joda(*pattern, *ms, *zone);
  return text ? val::string(st.copy(*text)) : val::undef();
}

val f_time_to_epoch(eval_state& st, const val* a, std::size_t) {
  auto text = to_string(st, a[0]);
  auto pattern = to_string(st, a[1]);
  if (!text || !pattern) return val::undef();
  auto ms = parse_java(*text, *pattern);
  return ms ? val::integer(*ms) : val::undef();
}

const builtin table[] = {
    {"parse_time", 2, 3, false, f_parse_time},
    {"time_to_epoch", 2, 2, false, f_time_to_epoch},
    {"timestamp", 0, 0, false, f_timestamp},
};

}  // namespace

std::span<const builtin> time_builtins() { return table; }

}  // namespace iotblocks::sql::detail
