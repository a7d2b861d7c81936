// Functions that read the message context: topic(), clientid(), principal(), ...
#include "sql/convert.hpp"
#include "sql/functions.hpp"

#include <iotblocks/core/bytes.hpp>
#include <iotblocks/core/uuid.hpp>
#include <iotblocks/topic/syntax.hpp>

#include <random>

namespace iotblocks::sql::detail {
namespace {

val optional_string(const std::optional<std::string_view>& s) {
  return s ? val::string(*s) : val::undef();
}

// topic() without the Basic Ingest prefix $aws/rules/<rule-name>/.
std::string_view visible_topic(std::string_view t) {
  constexpr std::string_view prefix = "$aws/rules/";
  if (!t.starts_with(prefix)) return t;
  const auto slash = t.find('/', prefix.size());
  return slash == std::string_view::npos ? std::string_view{} : t.substr(slash + 1);
}

val f_topic(eval_state& st, const val* a, std::size_t n) {
  const std::string_view t = visible_topic(st.msg->topic);
  if (n == 0) return val::string(t);
  auto i = to_int_floor(a[0]);
  if (!i || *i < 1) return val::undef();
  std::int64_t k = 1;
  for (auto level : topic::levels(t)) {
    if (k++ == *i) return val::string(level);
  }
  return val::undef();
}

val f_clientid(eval_state& st, const val*, std::size_t) {
  return val::string(st.msg->client_id ? *st.msg->client_id : std::string_view{"n/a"});
}
val f_principal(eval_state& st, const val*, std::size_t) {
  return optional_string(st.msg->principal);
}
val f_accountid(eval_state& st, const val*, std::size_t) {
  return optional_string(st.msg->account_id);
}
val f_sourceip(eval_state& st, const val*, std::size_t) {
  return optional_string(st.msg->source_ip);
}
val f_traceid(eval_state& st, const val*, std::size_t) { return optional_string(st.msg->trace_id); }
val f_sql_version(eval_state&, const val*, std::size_t) { return val::string("2016-03-23"); }

val f_newuuid(eval_state& st, const val*, std::size_t) {
  const std::uint64_t hi = st.rng(), lo = st.rng();
  char* out = st.alloc<char>(36);
  if (!out) return val::undef();
  format_uuid4(hi, lo, out);
  return val::string({out, 36});
}

// get_mqtt_property('format_indicator' | 'content_type' | 'response_topic' | 'correlation_data')
val f_get_mqtt_property(eval_state& st, const val* a, std::size_t) {
  if (a[0].k != kind::string) return val::undef();
  const auto name = a[0].text();
  const message& m = *st.msg;
  if (name == "format_indicator") {
    if (!m.payload_format_indicator) return val::undef();
    return val::string(*m.payload_format_indicator == 1 ? "UTF8_DATA" : "UNSPECIFIED_BYTES");
  }
  if (name == "content_type") return optional_string(m.content_type);
  if (name == "response_topic") return optional_string(m.response_topic);
  if (name == "correlation_data") {
    if (!m.correlation_data) return val::undef();
    return val::string(st.copy(to_base64(*m.correlation_data)));
  }
  return val::undef();
}

// get_user_properties(name): the values of `name` in order; without an argument,
// every property as {"name": "value"} objects in order. Undefined when none.
val f_get_user_properties(eval_state& st, const val* a, std::size_t n) {
  const auto props = st.msg->user_properties;
  if (n == 1 && a[0].k != kind::string) return val::undef();
  std::size_t count = 0;
  for (const auto& p : props) count += (n == 0 || p.name == a[0].text()) ? 1 : 0;
  if (count == 0) return val::undef();
  val* items = st.alloc<val>(count);
  if (!items) return val::undef();
  std::size_t k = 0;
  for (const auto& p : props) {
    if (n == 1) {
      if (p.name == a[0].text()) items[k++] = val::string(p.value);
      continue;
    }
    member* m = st.alloc<member>(1);
    if (!m) return val::undef();
    m[0] = member{p.name, val::string(p.value)};
    items[k++] = val::object(m, 1);
  }
  return val::array(items, count);
}

const builtin table[] = {
    {"accountid", 0, 0, false, f_accountid},
    {"clientid", 0, 0, false, f_clientid},
    {"get_mqtt_property", 1, 1, false, f_get_mqtt_property},
    {"get_user_properties", 0, 1, false, f_get_user_properties},
    {"newuuid", 0, 0, false, f_newuuid},
    {"principal", 0, 0, false, f_principal},
    {"sourceip", 0, 0, false, f_sourceip},
    {"sql_version", 0, 0, false, f_sql_version},
    {"topic", 0, 1, false, f_topic},
    {"traceid", 0, 0, false, f_traceid},
};

}  // namespace

std::span<const builtin> context_builtins() { return table; }

}  // namespace iotblocks::sql::detail
