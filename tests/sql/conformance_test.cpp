// The conformance table: tests/data/sql/*.json, each a list of cases
//   {"name", "sql", "topic", "payload" | "payload_text" | "payload_base64", "context",
//    "expect" | "expect_text" | "no_match": true | "error": {"code", "at", "contains"} |
//    "eval_error": "<code>", "from_matches": bool}
// With "from_matches", FROM is applied first: sql::matches_from must say so and agree with
// the topic index the rules engine routes by; a topic that does not match ends the case.
// Outputs are compared as values (Int and Decimal by value, objects ignoring key order).
#include "core/json.hpp"

#include <iotblocks/core/bytes.hpp>
#include <iotblocks/core/clock.hpp>
#include <iotblocks/core/error.hpp>
#include <iotblocks/sql.hpp>
#include <iotblocks/topic/index.hpp>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <string>
#include <vector>

namespace iotblocks::sql {
namespace {

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

std::string str(const rapidjson::Value& v, const char* key, std::string def = {}) {
  auto s = json::get_string(v, key);
  return s ? std::string(*s) : def;
}

std::string error_name(const std::error_code& ec) {
  static const char* names[] = {"",
                                "syntax_error",
                                "unterminated_string",
                                "invalid_number",
                                "unknown_function",
                                "external_not_registered",
                                "wrong_arity",
                                "alias_in_where",
                                "too_deep",
                                "too_long",
                                "invalid_topic_filter",
                                "unknown_variable",
                                "duplicate_variable",
                                "invalid_cast_type",
                                "invalid_utf8",
                                "invalid_template",
                                "binary_payload",
                                "payload_too_deep",
                                "memory_limit",
                                "external_failed"};
  if (ec.category() != error_category()) return ec.message();
  const auto i = static_cast<std::size_t>(ec.value());
  return i < std::size(names) ? names[i] : "?";
}

struct case_runner {
  function_registry functions;
  manual_clock clock{from_unix_ms(1'700'000'000'000)};

  case_runner() {
    functions.add("echo", 0, 8, [](std::span<const value> args, const message&) -> result<value> {
      value::array a(args.begin(), args.end());
      return value(std::move(a));
    });
    functions.add("get_thing_shadow", 2, 3,
                  [](std::span<const value> args, const message&) -> result<value> {
                    if (args[0].kind() != type::string) return value{};
                    value::object reported{{"alarm", "ON"}, {"thing", args[0].as_string()}};
                    value::object state{{"reported", value(std::move(reported))}};
                    return value(value::object{{"state", value(std::move(state))}});
                  });
    functions.add("decode", 6, 6, [](std::span<const value> args, const message&) -> result<value> {
      return value(value::object{{"type", args[5]}, {"data", args[0]}});
    });
    functions.add("fail_always", 0, 0, [](std::span<const value>, const message&) -> result<value> {
      return failure{iotblocks::core::error::invalid_argument, "boom", {}};
    });
  }

  void run(const rapidjson::Value& c, const std::string& file) {
    const std::string name = str(c, "name", "(unnamed)");
    SCOPED_TRACE(file + ": " + name);
    const std::string sql = str(c, "sql");
    auto r = compile(sql, compile_options{}.functions(&functions));
    if (const auto* e = json::find(c, "error")) {
      ASSERT_FALSE(r.ok()) << "expected a compile error for: " << sql;
      EXPECT_EQ(error_name(r.error()), str(*e, "code")) << r.describe();
      if (auto at = json::get_string(*e, "at")) {
        const auto pos =
            std::to_string(r.fail().where.line) + ":" + std::to_string(r.fail().where.column);
        EXPECT_EQ(pos, *at) << r.describe();
      }
      if (auto text = json::get_string(*e, "contains")) {
        EXPECT_NE(r.describe().find(*text), std::string::npos) << r.describe();
      }
      return;
    }
    ASSERT_TRUE(r.ok()) << r.describe();
    if (auto from = json::get_string(c, "from")) {
      EXPECT_EQ(r->from(), *from);
    }

    std::string payload;
    if (const auto* p = json::find(c, "payload")) {
      payload = json::write(*p);
    } else if (auto t = json::get_string(c, "payload_text")) {
      payload = std::string(*t);
    } else if (auto b = json::get_string(c, "payload_base64")) {
      auto bin = from_base64(*b);
      ASSERT_TRUE(bin.ok());
      payload = std::string(as_string_view(*bin));
    } else {
      payload = "{}";
    }
    message m;
    const std::string topic = str(c, "topic", "t");
    m.topic = topic;
    m.payload = as_bytes(payload);
    std::string client, principal, ip, trace, account, ctype, rtopic;
    std::vector<std::string> prop_text;
    std::vector<user_property> props;
    byte_buffer correlation;
    if (const auto* ctx = json::find(c, "context")) {
      if (auto v = json::get_string(*ctx, "clientid")) m.client_id = client = *v;
      if (auto v = json::get_string(*ctx, "principal")) m.principal = principal = *v;
      if (auto v = json::get_string(*ctx, "sourceip")) m.source_ip = ip = *v;
      if (auto v = json::get_string(*ctx, "traceid")) m.trace_id = trace = *v;
      if (auto v = json::get_string(*ctx, "accountid")) m.account_id = account = *v;
      if (auto v = json::get_int64(*ctx, "timestamp")) m.timestamp_ms = *v;
      if (auto v = json::get_string(*ctx, "content_type")) m.content_type = ctype = *v;
      if (auto v = json::get_string(*ctx, "response_topic")) m.response_topic = rtopic = *v;
      if (auto v = json::get_int64(*ctx, "format_indicator")) {
        m.payload_format_indicator = static_cast<std::uint8_t>(*v);
      }
      if (auto v = json::get_string(*ctx, "correlation_data_base64")) {
        correlation = from_base64(*v).value();
        m.correlation_data = bytes_view{correlation};
      }
      if (const auto* up = json::find(*ctx, "user_properties")) {
        for (const auto& pair : up->GetArray()) {
          prop_text.emplace_back(json::view(pair[0]));
          prop_text.emplace_back(json::view(pair[1]));
        }
        for (std::size_t i = 0; i < prop_text.size(); i += 2) {
          props.push_back({prop_text[i], prop_text[i + 1]});
        }
        m.user_properties = props;
      }
    }
    if (auto from_matches = json::get_bool(c, "from_matches")) {
      EXPECT_EQ(matches_from(*r, m.topic), *from_matches) << "FROM '" << r->from() << "'";
      topic::subscription_index rules_engine_index;
      ASSERT_TRUE(rules_engine_index.subscribe(r->from(), 1).ok());
      EXPECT_EQ(rules_engine_index.any_match(m.topic), *from_matches) << "topic index";
      if (!*from_matches) return;
    }
    evaluator ev(evaluator_options{}.clock(&clock));
    auto out = ev.evaluate(*r, m);
    auto matched = ev.matches(*r, m);
    if (auto code = json::get_string(c, "eval_error")) {
      ASSERT_FALSE(out.ok()) << "expected an evaluation error";
      EXPECT_EQ(error_name(out.error()), *code) << out.describe();
      return;
    }
    ASSERT_TRUE(out.ok()) << out.describe();
    ASSERT_TRUE(matched.ok()) << matched.describe();
    EXPECT_EQ(*matched, out->has_value()) << "matches() and evaluate() disagree";
    if (auto nm = json::get_bool(c, "no_match"); nm && *nm) {
      EXPECT_FALSE(out->has_value()) << "output: " << std::string(out->value_or("<none>"));
      return;
    }
    ASSERT_TRUE(out->has_value()) << "WHERE did not match";
    const std::string got(**out);
    if (auto text = json::get_string(c, "expect_text")) {
      EXPECT_EQ(got, *text);
      return;
    }
    const auto* want = json::find(c, "expect");
    ASSERT_NE(want, nullptr) << "case has no expectation";
    auto got_v = value::from_json(got);
    ASSERT_TRUE(got_v.ok()) << "output is not JSON: " << got;
    auto want_v = value::from_json(json::write(*want));
    ASSERT_TRUE(want_v.ok());
    EXPECT_TRUE(*got_v == *want_v) << "got:  " << got << "\nwant: " << json::write(*want);
  }
};

void run_file(const std::string& name) {
  const std::filesystem::path p = std::filesystem::path("tests/data/sql") / (name + ".json");
  ASSERT_TRUE(std::filesystem::exists(p)) << p;
  auto doc = json::parse(read_file(p));
  ASSERT_TRUE(doc.ok()) << doc.describe();
  const auto* cases = json::find(*doc, "cases");
  ASSERT_NE(cases, nullptr);
  ASSERT_GT(cases->Size(), 0u);
  case_runner runner;
  for (const auto& c : cases->GetArray()) runner.run(c, name);
}

const std::vector<std::string>& files() {
  static const std::vector<std::string> f = {
      "scenarios",   "select",    "operators", "types",   "where",    "case",    "nested",
      "literals",    "variables", "errors",    "binary",  "math",     "strings", "regex",
      "collections", "hashing",   "time",      "context", "external", "from"};
  return f;
}

#define IOTBLOCKS_CONFORMANCE(file) \
  TEST(SqlConformance, file) { run_file(#file); }
IOTBLOCKS_CONFORMANCE(scenarios)
IOTBLOCKS_CONFORMANCE(select)
IOTBLOCKS_CONFORMANCE(operators)
IOTBLOCKS_CONFORMANCE(types)
IOTBLOCKS_CONFORMANCE(where)
IOTBLOCKS_CONFORMANCE(case)
IOTBLOCKS_CONFORMANCE(nested)
IOTBLOCKS_CONFORMANCE(literals)
IOTBLOCKS_CONFORMANCE(variables)
IOTBLOCKS_CONFORMANCE(errors)
IOTBLOCKS_CONFORMANCE(binary)
IOTBLOCKS_CONFORMANCE(math)
IOTBLOCKS_CONFORMANCE(strings)
IOTBLOCKS_CONFORMANCE(regex)
IOTBLOCKS_CONFORMANCE(collections)
IOTBLOCKS_CONFORMANCE(hashing)
IOTBLOCKS_CONFORMANCE(time)
IOTBLOCKS_CONFORMANCE(context)
IOTBLOCKS_CONFORMANCE(external)
IOTBLOCKS_CONFORMANCE(from)

TEST(SqlConformance, EveryFileIsRun) {
  std::set<std::string> known(files().begin(), files().end());
  for (const auto& e : std::filesystem::directory_iterator("tests/data/sql")) {
    if (e.path().extension() != ".json") continue;
    EXPECT_TRUE(known.count(e.path().stem().string())) << e.path() << " is not in files()";
  }
}

}  // namespace
}  // namespace iotblocks::sql
