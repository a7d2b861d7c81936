// Compiling: the rule's properties, limits and error reporting beyond the
// conformance table.
#include <iotblocks/sql.hpp>

#include <gtest/gtest.h>

#include <string>

namespace iotblocks::sql {
namespace {

TEST(SqlCompile, RuleProperties) {
  auto r = compile("SET @x = a.b SELECT VALUE @x FROM 'sensors/+/lux' WHERE a.c > 1 AND d = 2");
  ASSERT_TRUE(r.ok()) << r.describe();
  EXPECT_EQ(r->from(), "sensors/+/lux");
  EXPECT_TRUE(r->has_where());
  EXPECT_TRUE(r->select_value());
  EXPECT_EQ(r->variables(), (std::vector<std::string>{"x"}));
  EXPECT_EQ(r->payload_paths(), (std::vector<std::string>{"a", "a.b", "a.c", "d"}));
  EXPECT_EQ(r->text(), "SET @x = a.b SELECT VALUE @x FROM 'sensors/+/lux' WHERE a.c > 1 AND d = 2");
  auto copy = *r;  // cheap, shared
  EXPECT_EQ(&copy.program(), &r->program());
}

TEST(SqlCompile, ErrorCategoryAndDescribe) {
  auto r = compile("SELECT timestmp() FROM 't'");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), error::unknown_function);
  EXPECT_STREQ(r.error().category().name(), "iotblocks.sql");
  EXPECT_EQ(r.describe(), "unknown function 'timestmp' (did you mean 'timestamp'?) at 1:8");
  EXPECT_EQ(r.fail().where.line, 1u);
  EXPECT_EQ(r.fail().where.column, 8u);
}

TEST(SqlCompile, MaxLengthIsANamedLimit) {
  const std::string sql = "SELECT a FROM 't'";
  EXPECT_TRUE(compile(sql, compile_options{}.max_length(sql.size())).ok());
  auto r = compile(sql, compile_options{}.max_length(sql.size() - 1));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), error::too_long);
}

TEST(SqlCompile, MaxDepthIsANamedLimit) {
  std::string sql = "SELECT ";
  for (int i = 0; i < 10; ++i) sql += "(";
  sql += "1";
  for (int i = 0; i < 10; ++i) sql += ")";
  sql += " AS x FROM 't'";
  EXPECT_TRUE(compile(sql, compile_options{}.max_depth(11)).ok());
  auto r = compile(sql, compile_options{}.max_depth(5));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), error::too_deep);
}

TEST(SqlCompile, HostileNestingIsBoundedNotRecursive) {
  // 40k nested brackets, parentheses and NOTs: refused at the depth limit, no stack overflow.
  for (const char* open : {"(", "[", "NOT ", "-", "{'a':"}) {
    std::string sql = "SELECT ";
    for (int i = 0; i < 40000; ++i) sql += open;
    sql += "1 FROM 't'";
    auto r = compile(sql);
    ASSERT_FALSE(r.ok()) << open;
    EXPECT_EQ(r.error(), error::too_deep) << open << ": " << r.describe();
  }
}

TEST(SqlCompile, InvalidUtf8IsRejectedWithItsPosition) {
  auto r = compile("SELECT 'caf\xC3' FROM 't'");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), error::invalid_utf8);
  EXPECT_EQ(r.fail().where.column, 12u);
}

TEST(SqlCompile, RegisteredFunctionShadowsBuiltin) {
  function_registry fns;
  fns.add("upper", 1, 1,
          [](std::span<const value>, const message&) -> result<value> { return value("mine"); });
  auto r = compile("SELECT upper('x') AS u FROM 't'", compile_options{}.functions(&fns));
  ASSERT_TRUE(r.ok());
  evaluator ev;
  message m;
  auto out = ev.evaluate(*r, m);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(**out, R"({"u":"mine"})");
  EXPECT_EQ(fns.names(), std::vector<std::string>{"upper"});
}

TEST(SqlCompile, RegistrationKeepsBuiltinForOtherArgumentCounts) {
  function_registry fns;
  fns.add("round", 2, 2,
          [](std::span<const value>, const message&) -> result<value> { return value("mine"); });
  auto r = compile("SELECT round(2.6) AS a, round(2.6, 1) AS b FROM 't'",
                   compile_options{}.functions(&fns));
  ASSERT_TRUE(r.ok()) << r.describe();
  evaluator ev;
  message m;
  EXPECT_EQ(ev.evaluate(*r, m).value().value(), R"({"a":3,"b":"mine"})");
  // Counts neither takes are still an arity error, naming the registration.
  auto bad = compile("SELECT round(1, 2, 3) FROM 't'", compile_options{}.functions(&fns));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error(), make_error_code(error::wrong_arity));
}

TEST(SqlCompile, ProtoDecodeNeedsARegistration) {
  const std::string sql =
      "SELECT decode(*, 'proto', 'my-bucket', 'schemas/msg.desc', 'msg', 'Reading') FROM 't'";
  auto r = compile(sql);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), make_error_code(error::external_not_registered));
  EXPECT_NE(r.describe().find("Protobuf descriptors from S3"), std::string::npos) << r.describe();
  EXPECT_EQ(r.fail().where.column, 8u);
}

TEST(SqlCompile, ExternalNamesAreListed) {
  bool lambda = false;
  for (auto n : external_function_names()) lambda |= n == "aws_lambda";
  EXPECT_TRUE(lambda);
}

TEST(SqlValue, JsonRoundTripAndEquality) {
  auto v = value::from_json(R"({"a":1,"b":[true,null,"s",2.5],"c":{"d":10.0}})");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->to_json(), R"({"a":1,"b":[true,null,"s",2.5],"c":{"d":10}})");
  EXPECT_EQ(v->find("a")->as_int(), 1);
  EXPECT_EQ(v->find("c")->find("d")->kind(), type::integer);
  EXPECT_TRUE(value(1) == value(1.0));
  EXPECT_FALSE(value(1) == value("1"));
  EXPECT_TRUE(
      (value(value::object{{"a", 1}, {"b", 2}}) == value(value::object{{"b", 2}, {"a", 1}})));
  EXPECT_EQ(value().to_json(), "");
  EXPECT_EQ(type_name(type::decimal), "Decimal");
  EXPECT_FALSE(value::from_json("[1,").ok());
}

}  // namespace
}  // namespace iotblocks::sql
