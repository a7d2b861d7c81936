// Evaluation through the API: allocation behaviour, the lazy payload reader,
// limits, errors, reuse and threads.
#include <iotblocks/core/bytes.hpp>
#include <iotblocks/core/clock.hpp>
#include <iotblocks/sql.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

namespace iotblocks::sql {
namespace {

const std::string sensor =
    R"({"device":"greenhouse_lux_probe_1","lux":20000,"temperature":21.5,"humidity":48,)"
    R"("battery":3.7,"location":{"site":"north","row":12},"ts":1700000000123})";

message msg_of(const std::string& payload, std::string_view topic = "t") {
  message m;
  m.topic = topic;
  m.payload = as_bytes(payload);
  return m;
}

TEST(SqlEvaluate, OutputViewStaysValidUntilNextCall) {
  evaluator ev;
  auto r = compile("SELECT lux FROM 't'").value();
  const auto m = msg_of(sensor);
  auto a = ev.evaluate(r, m);
  ASSERT_TRUE(a.ok() && a->has_value());
  EXPECT_EQ(**a, R"({"lux":20000})");
}

// Paths not read before validation are read during it (one pass, json_index.cpp);
// the values must be those the lazy reader gives.
TEST(SqlEvaluate, PathsReadWhileValidatingAsTheLazyReader) {
  evaluator ev;
  auto r = compile("SELECT a, b.c AS c, b.d AS d, e, s FROM 't'").value();
  const auto eval = [&](const std::string& payload) {
    auto out = ev.evaluate(r, msg_of(payload));
    EXPECT_TRUE(out.ok() && out->has_value()) << payload;
    return out.ok() && out->has_value() ? std::string(**out) : std::string("<none>");
  };
  // First occurrence wins, at every level, as the lazy reader.
  EXPECT_EQ(eval(R"({"a":1,"b":{"c":2,"c":3},"a":4,"b":{"d":5}})"), R"({"a":1,"c":2})");
  // A parent that is not an object first: its members are absent.
  EXPECT_EQ(eval(R"({"b":7,"b":{"c":1},"a":null})"), R"({"a":null})");
  // Numbers keep their text; whole ones are Ints; beyond 64 bits stays exact.
  EXPECT_EQ(eval(R"({"a":10.50,"e":1.0e1,"b":{"c":-0,"d":123456789012345678901234567890}})"),
            R"({"a":10.50,"c":0,"d":123456789012345678901234567890,"e":10})");
  // Escaped keys and strings.
  EXPECT_EQ(eval(R"({"\u0061":"x\"y","s":"\u00e9","b":{"\u0063":true}})"),
            R"({"a":"x\"y","c":true,"s":"é"})");
  // Whitespace everywhere.
  EXPECT_EQ(eval(" {\n \"a\" : 2.5 ,\t\"s\":\"v\" } \n"), R"({"a":2.5,"s":"v"})");
  // Not JSON: a trailing value, a bad escape, a missing comma. As bytes, paths are absent.
  for (const std::string bad : {R"({"a":1} 2)", R"({"a":"\q"})", R"({"a":1 "s":2})"}) {
    EXPECT_EQ(eval(bad), "{}") << bad;
  }
}

TEST(SqlEvaluate, EvaluateValue) {
  evaluator ev;
  auto r = compile("SELECT lux, location FROM 't'").value();
  auto v = ev.evaluate_value(r, msg_of(sensor));
  ASSERT_TRUE(v.ok() && v->has_value());
  EXPECT_EQ((*v)->find("lux")->as_int(), 20000);
  EXPECT_EQ((*v)->find("location")->find("site")->as_string(), "north");
  auto none = ev.evaluate_value(compile("SELECT * FROM 't' WHERE false").value(), msg_of(sensor));
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
}

TEST(SqlEvaluate, ReuseAcrossRulesAndMessages) {
  evaluator ev;
  auto a = compile("SELECT a FROM 't' WHERE a > 1").value();
  auto b = compile("SELECT x.y AS y, z FROM 't'").value();
  const std::string p1 = R"({"a":2,"x":{"y":"q"},"z":[1]})", p2 = "garbage";
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(ev.evaluate(a, msg_of(p1)).value().value(), R"({"a":2})");
    EXPECT_EQ(ev.evaluate(b, msg_of(p1)).value().value(), R"({"y":"q","z":[1]})");
    EXPECT_FALSE(ev.evaluate(a, msg_of(p2)).value().has_value());
    EXPECT_EQ(ev.evaluate(b, msg_of(p2)).value().value(), "{}");
  }
}

TEST(SqlEvaluate, MatchesAgreesWithEvaluate) {
  evaluator ev;
  auto r = compile("SELECT * FROM 't' WHERE lux > 10000").value();
  EXPECT_TRUE(ev.matches(r, msg_of(sensor)).value());
  EXPECT_FALSE(ev.matches(r, msg_of(R"({"lux":5})")).value());
  EXPECT_FALSE(ev.matches(r, msg_of(R"({"lux":50000)")).value());  // not JSON
}

TEST(SqlEvaluate, PayloadDepthLimit) {
  std::string deep;
  for (int i = 0; i < 100; ++i) deep += "{\"a\":";
  deep += "1";
  for (int i = 0; i < 100; ++i) deep += "}";
  evaluator ev(evaluator_options{}.max_payload_depth(64));
  auto r = compile("SELECT a FROM 't'").value();
  auto out = ev.evaluate(r, msg_of(deep));
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error(), error::payload_too_deep);
  evaluator deeper(evaluator_options{}.max_payload_depth(128));
  EXPECT_TRUE(deeper.evaluate(r, msg_of(deep)).ok());
  // A non-matching WHERE does not need to look at the whole payload.
  auto w = compile("SELECT a FROM 't' WHERE b = 1").value();
  auto none = ev.evaluate(w, msg_of(deep));
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
}

TEST(SqlEvaluate, HostilePayloadsDoNotRecurse) {
  evaluator ev;
  auto r = compile("SELECT * FROM 't' WHERE a = [[1]] OR a.b.c = 1").value();
  for (std::string p : {std::string(200000, '['), "{\"a\":" + std::string(200000, '['),
                        std::string("{\"a\":\"") + std::string(100000, '\\'), std::string("{")}) {
    auto out = ev.evaluate(r, msg_of(p));
    EXPECT_TRUE(!out.ok() || !out->has_value());
  }
}

TEST(SqlEvaluate, MemoryLimit) {
  evaluator ev(evaluator_options{}.max_memory(64 * 1024));
  auto r = compile(
               "SELECT lpad(lpad(lpad(lpad(lpad(lpad(s, 1000), 1000), 1000), 1000), 1000), "
               "1000) AS a, concat(a1, a1, a1, a1, a1, a1, a1, a1, a1, a1) AS b FROM 't'")
               .value();
  std::string payload = R"({"s":"x","a1":")" + std::string(10000, 'y') + R"("})";
  auto out = ev.evaluate(r, msg_of(payload));
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error(), error::memory_limit);
  // The evaluator recovers for the next message.
  auto ok = ev.evaluate(compile("SELECT s FROM 't'").value(), msg_of(payload));
  ASSERT_TRUE(ok.ok()) << ok.describe();
}

TEST(SqlEvaluate, ClockIsInjectable) {
  manual_clock clock{from_unix_ms(1000)};
  evaluator ev(evaluator_options{}.clock(&clock));
  auto r = compile("SELECT timestamp() AS a, timestamp() AS b FROM 't'").value();
  EXPECT_EQ(ev.evaluate(r, msg_of("{}")).value().value(), R"({"a":1000,"b":1000})");
  clock.advance(std::chrono::seconds(1));
  EXPECT_EQ(ev.evaluate(r, msg_of("{}")).value().value(), R"({"a":2000,"b":2000})");
}

TEST(SqlEvaluate, RegexBudgetIsANamedLimit) {
  evaluator ev(evaluator_options{}.max_regex_steps(1000));
  auto r = compile("SELECT regexp_matches(s, '(a|b)*c') AS m FROM 't'").value();
  const std::string p = R"({"s":")" + std::string(5000, 'a') + R"("})";
  EXPECT_EQ(ev.evaluate(r, msg_of(p)).value().value(), "{}");  // Undefined: over budget
  evaluator generous;
  EXPECT_EQ(generous.evaluate(r, msg_of(p)).value().value(), R"({"m":false})");
}

TEST(SqlEvaluate, ExternalFunctionsSeeTheMessage) {
  function_registry fns;
  fns.add("score", 1, 1, [](std::span<const value> args, const message& m) -> result<value> {
    if (!args[0].is_number()) return value{};
    return value(args[0].number() * 2 + static_cast<double>(m.topic.size()));
  });
  auto r = compile("SELECT score(lux) AS s FROM 't' WHERE score(lux) > 10",
                   compile_options{}.functions(&fns))
               .value();
  evaluator ev;
  EXPECT_FALSE(ev.evaluate(r, msg_of(R"({"lux":2.5})", "abc")).value().has_value());  // 8
  EXPECT_EQ(ev.evaluate(r, msg_of(R"({"lux":4})", "abc")).value().value(), R"({"s":11})");
}

TEST(SqlEvaluate, OneRuleManyThreads) {
  auto r = compile("SELECT device, lux * 2 AS l FROM 't' WHERE lux > 100").value();
  std::atomic<int> good{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      evaluator ev;
      for (int i = 0; i < 2000; ++i) {
        auto out = ev.evaluate(r, msg_of(sensor));
        if (out.ok() && out->has_value() &&
            **out == R"({"device":"greenhouse_lux_probe_1","l":40000})") {
          ++good;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(good.load(), 8000);
}

// upper() and lower() write valid UTF-8 even when a caller's string is not: a
// CESU-8 surrogate (ED A0 80) or a sequence above U+10FFFF (F4 90 80 80) in the
// client id comes out as U+FFFD, not as the same invalid bytes.
TEST(SqlEvaluate, CaseMappingOfInvalidUtf8WritesReplacementCharacter) {
  evaluator ev;
  const auto upper = compile("SELECT upper(clientid()) AS c FROM 't'").value();
  const auto lower = compile("SELECT lower(clientid()) AS c FROM 't'").value();
  auto m = msg_of(sensor);
  m.client_id = "ab\xED\xA0\x80z";
  auto a = ev.evaluate(upper, m);
  ASSERT_TRUE(a.ok() && a->has_value());
  EXPECT_EQ(**a, "{\"c\":\"AB\xEF\xBF\xBDZ\"}");
  m.client_id = "X\xF4\x90\x80\x80";
  auto b = ev.evaluate(lower, m);
  ASSERT_TRUE(b.ok() && b->has_value());
  EXPECT_EQ(**b, "{\"c\":\"x\xEF\xBF\xBD\"}");
  m.client_id = "\xC3\xA9t\xC3\xA9 \xF0\x9F\x98\x80";  // valid text is mapped as before
  auto c = ev.evaluate(upper, m);
  ASSERT_TRUE(c.ok() && c->has_value());
  EXPECT_EQ(**c, "{\"c\":\"\xC3\x89T\xC3\x89 \xF0\x9F\x98\x80\"}");
}

}  // namespace
}  // namespace iotblocks::sql
