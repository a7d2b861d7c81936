// Rule SQL: evaluations per second on a ~150-byte sensor message, with the JSON
// readers measured in the same run as floors (RapidJSON DOM, simdjson DOM and
// on-demand, the evaluator's lazy scanner), and compile time per rule.
#include "core/json.hpp"
#include "sql/json_scan.hpp"
#include "sql/val.hpp"

#include <iotblocks/core/bytes.hpp>
#include <iotblocks/sql.hpp>

#include <benchmark/benchmark.h>
#include <rapidjson/document.h>
// Same configuration as libiotblocks_sql (simdjson's CMake package defines it):
// dom::parser's layout depends on it, and its inline functions are shared.
#ifndef SIMDJSON_THREADS_ENABLED
#define SIMDJSON_THREADS_ENABLED 1
#endif
#include <simdjson.h>

#include <string>

namespace {

using namespace iotblocks;

// 150 bytes each; identical except for the lux value.
const std::string match_msg =
    R"({"device":"greenhouse_lux_probe_1","lux":36250,"sensors":{"temp":21.5,"hum":48},)"
    R"("location":{"site":"north","row":12},"battery":3.7,"ts":1700000000123})";
const std::string nomatch_msg =
    R"({"device":"greenhouse_lux_probe_1","lux":20000,"sensors":{"temp":21.5,"hum":48},)"
    R"("location":{"site":"north","row":12},"battery":3.7,"ts":1700000000123})";

constexpr const char* where_sql = "SELECT * FROM 't' WHERE lux > 35000";
constexpr const char* projection_sql =
    "SELECT sensors.temp AS temp, sensors.hum AS hum, location.site AS site, location.row AS row, "
    "battery, upper(device) AS dev, round(sensors.temp) AS t FROM 't'";
constexpr const char* case_sql =
    "SELECT CASE lux > 35000 WHEN true THEN 'close' ELSE 'open' END AS shade FROM 't'";

sql::message msg_of(const std::string& payload) {
  sql::message m;
  m.topic = "t";
  m.payload = as_bytes(payload);
  return m;
}

void run_rule(benchmark::State& state, const char* text, const std::string& payload) {
  const auto r = sql::compile(text).value();
  sql::evaluator ev;
  const auto m = msg_of(payload);
  std::size_t matched = 0;
  for (auto _ : state) {
    auto out = ev.evaluate(r, m);
    matched += out->has_value();
    benchmark::DoNotOptimize(out);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  state.counters["matched"] =
      static_cast<double>(matched) / static_cast<double>(state.iterations());
}

void BM_WhereMatchSelectStar(benchmark::State& s) { run_rule(s, where_sql, match_msg); }
void BM_WhereNoMatch(benchmark::State& s) { run_rule(s, where_sql, nomatch_msg); }
void BM_Projection5Fields2Functions(benchmark::State& s) { run_rule(s, projection_sql, match_msg); }
void BM_Case(benchmark::State& s) { run_rule(s, case_sql, match_msg); }
BENCHMARK(BM_WhereMatchSelectStar);
BENCHMARK(BM_WhereNoMatch);
BENCHMARK(BM_Projection5Fields2Functions);
BENCHMARK(BM_Case);

void BM_WhereOnlyMatches(benchmark::State& state) {
  const auto r = sql::compile(where_sql).value();
  sql::evaluator ev;
  const auto m = msg_of(nomatch_msg);
  for (auto _ : state) benchmark::DoNotOptimize(ev.matches(r, m));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_WhereOnlyMatches);

void BM_Compile(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(sql::compile(projection_sql));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_Compile);

void BM_TemplateRender(benchmark::State& state) {
  const auto t = sql::compile_template("$$aws/things/${device}/shadow/${topic()}").value();
  sql::evaluator ev;
  const auto m = msg_of(match_msg);
  for (auto _ : state) benchmark::DoNotOptimize(ev.render(t, m));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_TemplateRender);

// --- readers alone, same message -------------------------------------------------------
void BM_RapidJsonDomParse(benchmark::State& state) {
  for (auto _ : state) {
    rapidjson::Document d;
    d.Parse(match_msg.data(), match_msg.size());
    benchmark::DoNotOptimize(d["lux"].GetInt64());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_RapidJsonDomParse);

void BM_RapidJsonDomParseCoreHelpers(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(json::parse(match_msg));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_RapidJsonDomParseCoreHelpers);

void BM_SimdjsonDomParse(benchmark::State& state) {
  simdjson::dom::parser parser;
  const simdjson::padded_string padded(match_msg);
  for (auto _ : state) {
    auto doc = parser.parse(padded);
    benchmark::DoNotOptimize(doc["lux"].get_int64().value_unsafe());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_SimdjsonDomParse);

void BM_SimdjsonOnDemandLookup(benchmark::State& state) {
  simdjson::ondemand::parser parser;
  const simdjson::padded_string padded(match_msg);
  for (auto _ : state) {
    auto doc = parser.iterate(padded);
    benchmark::DoNotOptimize(doc["lux"].get_int64().value_unsafe());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_SimdjsonOnDemandLookup);

void BM_LazyScannerLookup(benchmark::State& state) {
  sql::detail::arena mem;
  for (auto _ : state) {
    std::string_view v;
    sql::detail::json::find_member(match_msg, "lux", v);
    benchmark::DoNotOptimize(sql::detail::json::to_val(v, mem));
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_LazyScannerLookup);

}  // namespace

BENCHMARK_MAIN();
