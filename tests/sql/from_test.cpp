// sql::matches_from: the call that applies FROM, and the evaluator calls that do not.
// The topic cases (exact, '+', '#', '$' topics) are in tests/data/sql/from.json.
#include <iotblocks/core/bytes.hpp>
#include <iotblocks/sql.hpp>

#include <gtest/gtest.h>

#include <string>

namespace iotblocks::sql {
namespace {

TEST(SqlFrom, MatchesFromAppliesTheFilter) {
  const auto exact = compile("SELECT * FROM 'a/b'").value();
  const auto one = compile("SELECT * FROM 'a/+'").value();
  const auto rest = compile("SELECT * FROM 'a/#'").value();
  EXPECT_TRUE(matches_from(exact, "a/b"));
  EXPECT_FALSE(matches_from(exact, "a/c"));
  EXPECT_TRUE(matches_from(one, "a/c"));
  EXPECT_FALSE(matches_from(one, "a/c/d"));
  EXPECT_TRUE(matches_from(rest, "a/c/d"));
  EXPECT_FALSE(matches_from(rest, "b/c"));
}

TEST(SqlFrom, RuleWithoutFromMatchesNoTopic) {
  const auto r = compile("SELECT * WHERE x = 1").value();
  ASSERT_TRUE(r.from().empty());
  EXPECT_FALSE(matches_from(r, "a"));
  EXPECT_FALSE(matches_from(r, "$aws/rules/r1/a"));
}

TEST(SqlFrom, InvalidTopicNamesMatchNothing) {
  const auto r = compile("SELECT * FROM '#'").value();
  EXPECT_TRUE(matches_from(r, "a/b"));
  EXPECT_FALSE(matches_from(r, ""));
  EXPECT_FALSE(matches_from(r, "a/+"));  // a filter, not a topic name
  EXPECT_FALSE(matches_from(r, "a/#"));
  EXPECT_FALSE(matches_from(r, std::string_view("a\0b", 3)));
}

TEST(SqlFrom, SharedSubscriptionFromMatchesNothing) {
  const auto r = compile("SELECT * FROM '$share/g/a/b'").value();
  EXPECT_FALSE(matches_from(r, "a/b"));
  EXPECT_FALSE(matches_from(r, "$share/g/a/b"));
}

// The evaluator assumes FROM matched (its documented contract): it evaluates a
// message whatever its topic; the caller applies FROM with matches_from.
TEST(SqlFrom, EvaluatorDoesNotApplyFrom) {
  const auto r = compile("SELECT x FROM 'a/b'").value();
  const std::string payload = R"({"x":1})";
  message m;
  m.topic = "other/topic";
  m.payload = as_bytes(payload);
  evaluator ev;
  EXPECT_FALSE(matches_from(r, m.topic));
  auto out = ev.evaluate(r, m);
  ASSERT_TRUE(out.ok() && out->has_value());
  EXPECT_EQ(**out, R"({"x":1})");
  EXPECT_TRUE(ev.matches(r, m).value());
}

}  // namespace
}  // namespace iotblocks::sql
