// Evaluation on hostile payloads: a fixed set of rules exercising every part of
// the evaluator runs on random bytes. No crash, bounded time and memory, and
// whenever a rule produces JSON output it is valid JSON (as simdjson reads it).
#include <iotblocks/core/bytes.hpp>
#include <iotblocks/sql.hpp>

// Same configuration as libiotblocks_sql (simdjson's CMake package defines it):
// dom::parser's layout depends on it, and its inline functions are shared.
#ifndef SIMDJSON_THREADS_ENABLED
#define SIMDJSON_THREADS_ENABLED 1
#endif
#include <simdjson.h>

#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

namespace {

const std::vector<iotblocks::sql::rule>& rules() {
  using iotblocks::sql::compile;
  static const std::vector<iotblocks::sql::rule> r = [] {
    std::vector<iotblocks::sql::rule> v;
    for (
        const char* sql : {
            "SELECT * FROM 't' WHERE lux > 35000",
            "SELECT *, 1 AS one FROM 't'",
            "SELECT a, a.b.c AS abc, get(c, 1) AS c1, upper(b) AS ub FROM 't'",
            "SELECT VALUE * FROM 't'",
            "SELECT (SELECT VALUE v FROM e WHERE n = 't') AS r, transform('enrichArray', o, e) AS "
            "t "
            "FROM 't'",
            "SELECT * FROM 't' WHERE isUndefined(x) OR x = [1, {'k': 'v'}]",
            "SELECT concat(*, 'x') AS s, length(a) AS l, encode(*, 'base64') AS e FROM 't'",
            "SELECT decode(a, 'base64') AS d, md5(b) AS h, regexp_replace(b, '(a|b)*c', '$1') AS r "
            "FROM 't'",
            "SET @v = a.b SELECT @v, CASE @v WHEN 1 THEN 'one' ELSE @v END AS c FROM 't' "
            "WHERE @v <> 2",
            "SELECT time_to_epoch(a, 'yyyy-MM-dd HH:mm:ss z') AS t, parse_time(b, a) AS p FROM 't'",
            "SELECT a = b AS eq, a + b AS sum, a * b AS mul, cast(a AS String) AS s FROM 't'",
        }) {
      v.push_back(compile(sql).value());
    }
    return v;
  }();
  return r;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace iotblocks;
  static sql::evaluator ev(sql::evaluator_options{}.max_memory(4 << 20).max_regex_steps(200000));
  sql::message m;
  m.topic = "t";
  m.payload = bytes_view{reinterpret_cast<const std::byte*>(data), size};
  for (const auto& r : rules()) {
    auto out = ev.evaluate(r, m);
    if (!out || !*out) continue;
    // Output is JSON unless it is the payload itself (SELECT * / VALUE * on bytes).
    const std::string_view text = **out;
    if (text.data() == reinterpret_cast<const char*>(data) || text.empty()) continue;
    if (text == std::string_view(reinterpret_cast<const char*>(data), size)) continue;
    // Valid JSON by the same definition as payloads (simdjson; RapidJSON-based
    // helpers reject some valid numbers such as 0e10123).
    static simdjson::dom::parser parser;
    const simdjson::padded_string padded(text);
    const auto err = parser.parse(padded).error();
    if (err != simdjson::SUCCESS && err != simdjson::NUMBER_OUT_OF_RANGE &&
        err != simdjson::NUMBER_ERROR && err != simdjson::DEPTH_ERROR) {
      std::abort();
    }
  }
  return 0;
}
