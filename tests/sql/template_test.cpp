// Substitution templates.
#include <iotblocks/core/bytes.hpp>
#include <iotblocks/core/clock.hpp>
#include <iotblocks/sql.hpp>

#include <gtest/gtest.h>

namespace iotblocks::sql {
namespace {

struct fixture : ::testing::Test {
  manual_clock clock{from_unix_ms(1579637878451)};
  evaluator ev{evaluator_options{}.clock(&clock)};
  std::string payload =
      R"({"device":"probe_1","temp":54.98,"coords":{"lat":47.6},"tags":["a","b"],"n":null})";
  message msg;
  fixture() {
    msg.topic = "my/iot/topic";
    msg.payload = as_bytes(payload);
  }
  std::string render(std::string_view text, const rule* r = nullptr) {
    auto t = compile_template(text, {}, r);
    EXPECT_TRUE(t.ok()) << t.describe();
    if (!t) return "<error>";
    auto s = ev.render(*t, msg);
    EXPECT_TRUE(s.ok()) << s.describe();
    return s ? *s : "<error>";
  }
};

TEST_F(fixture, TopicAndFields) {
  EXPECT_EQ(render("${topic()}/republish"), "my/iot/topic/republish");
  EXPECT_EQ(render("${device}"), "probe_1");
  EXPECT_EQ(render("${timestamp()}"), "1579637878451");
  EXPECT_EQ(render("${device}-${timestamp()}"), "probe_1-1579637878451");
  EXPECT_EQ(render("t=${temp * 2}"), "t=109.96");
}

TEST_F(fixture, DollarEscapes) {
  EXPECT_EQ(render("$$aws/things/${device}/shadow/update"), "$aws/things/probe_1/shadow/update");
  EXPECT_EQ(render("cost: 5$ and $x"), "cost: 5$ and $x");
  EXPECT_EQ(render("$${x}"), "${x}");
}

TEST_F(fixture, ValuesRenderAsJsonStringsVerbatim) {
  EXPECT_EQ(render("${coords}"), R"({"lat":47.6})");
  EXPECT_EQ(render("${tags}"), R"(["a","b"])");
  EXPECT_EQ(render("[${missing}]"), "[]");
  EXPECT_EQ(render("${n}"), "null");
  EXPECT_EQ(render("${true}"), "true");
}

TEST_F(fixture, ExpressionsWithBracesAndQuotes) {
  EXPECT_EQ(render("${concat('}', device)}"), "}probe_1");
  EXPECT_EQ(render("${get({'k': 'v'}, 'k')}!"), "v!");
  EXPECT_EQ(render("${parse_time('yyyy', timestamp(), 'UTC')}"), "2020");
}

TEST_F(fixture, ConstantTemplate) {
  auto t = compile_template("plain/topic");
  ASSERT_TRUE(t.ok());
  EXPECT_TRUE(t->is_constant());
  EXPECT_EQ(t->text(), "plain/topic");
  EXPECT_EQ(ev.render(*t, msg).value(), "plain/topic");
  auto t2 = compile_template("${device}");
  ASSERT_TRUE(t2.ok());
  EXPECT_FALSE(t2->is_constant());
}

TEST_F(fixture, VariablesFromTheRule) {
  auto r = compile("SET @id = upper(device) SELECT * FROM 'my/#'");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(render("things/${@id}", &*r), "things/PROBE_1");
  auto bad = compile_template("things/${@id}");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error(), error::unknown_variable);
}

TEST_F(fixture, ErrorsHavePositions) {
  auto a = compile_template("abc/${device");
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.error(), error::invalid_template);
  EXPECT_EQ(a.fail().where.column, 13u);
  auto b = compile_template("abc/${timestmp()}");
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.error(), error::unknown_function);
  EXPECT_EQ(b.fail().where.column, 7u);
  EXPECT_NE(b.describe().find("did you mean 'timestamp'"), std::string::npos);
  auto c = compile_template("x/${}");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error(), error::syntax_error);
  auto d = compile_template("x/${'abc}");
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error(), error::unterminated_string);
}

TEST_F(fixture, NonJsonPayload) {
  payload = "raw";
  msg.payload = as_bytes(payload);
  EXPECT_EQ(render("${topic(2)}/${device}"), "iot/");
  EXPECT_EQ(render("${encode(*, 'base64')}"), "cmF3");
}

}  // namespace
}  // namespace iotblocks::sql
