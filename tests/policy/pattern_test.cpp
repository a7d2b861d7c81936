// The private matchers: IAM wildcards, ARN parts, variables, IP addresses.
#include "policy/pattern.hpp"
#include "policy/ip.hpp"
#include "policy/variables.hpp"

#include <gtest/gtest.h>

#include <arpa/inet.h>

#include <cstring>
#include <string>

namespace iotblocks::policy::detail {
namespace {

match_result m(std::string_view pattern, std::string_view s, const context& ctx = {}) {
  text_template t;
  template_error err;
  EXPECT_TRUE(compile_template(pattern, {}, t, err)) << err.message;
  return match(t, s, ctx);
}

TEST(PolicyPattern, Wildcards) {
  EXPECT_EQ(m("a*", "a"), match_result::yes);
  EXPECT_EQ(m("a*", "abc/def"), match_result::yes);
  EXPECT_EQ(m("*", ""), match_result::yes);
  EXPECT_EQ(m("a?c", "abc"), match_result::yes);
  EXPECT_EQ(m("a?c", "ac"), match_result::no);
  EXPECT_EQ(m("*b*b*", "abababa"), match_result::yes);
  EXPECT_EQ(m("*b*b*c", "abababa"), match_result::no);
  EXPECT_EQ(m("a**b", "a/x/b"), match_result::yes);
  EXPECT_EQ(m("?", "\xC3\xA9"), match_result::yes);  // one character, two bytes
  EXPECT_EQ(m("??", "\xC3\xA9"), match_result::no);
  EXPECT_EQ(m("*\xC3\xA9", "x\xC3\xA9"), match_result::yes);
  EXPECT_EQ(m("a+b#", "a+b#"), match_result::yes);  // MQTT wildcards are literal
  EXPECT_EQ(m("a/+", "a/b"), match_result::no);
  EXPECT_EQ(m("a/#", "a/b"), match_result::no);
}

TEST(PolicyPattern, PathologicalBacktrackingIsBounded) {
  const std::string pattern = std::string(40, '*') + "a*a*a*a*a*b";
  const std::string text(2000, 'a');
  EXPECT_EQ(m(pattern, text), match_result::no);
}

TEST(PolicyPattern, Variables) {
  context ctx;
  ctx.client_id.emplace("c1");
  EXPECT_EQ(m("t/${iot:ClientId}/x", "t/c1/x", ctx), match_result::yes);
  EXPECT_EQ(m("t/${iot:ClientId}/x", "t/c2/x", ctx), match_result::no);
  EXPECT_EQ(m("t/${iot:Connection.Thing.ThingName}", "t/c1", ctx), match_result::unresolved);
  EXPECT_EQ(m("t/${iot:Connection.Thing.ThingName, 'none'}", "t/none", ctx), match_result::yes);
  EXPECT_EQ(m("t/${ iot:clientid }", "t/c1", ctx), match_result::yes);  // case, spaces
  context star;
  star.client_id.emplace("a*");
  EXPECT_EQ(m("t/${iot:ClientId}", "t/abc", star), match_result::no);  // substituted literally
  EXPECT_EQ(m("t/${iot:ClientId}", "t/a*", star), match_result::yes);
  text_template t;
  template_error err;
  EXPECT_FALSE(compile_template("t/${iot:ClientId", {}, t, err));
  EXPECT_TRUE(err.variable);
  EXPECT_EQ(err.offset, 2u);
  EXPECT_FALSE(compile_template("t/${}", {}, t, err));
  EXPECT_FALSE(compile_template("t/${iot:ClientId, bad}", {}, t, err));
  EXPECT_TRUE(compile_template("t/${iot:ClientId", {.variables = false}, t, err));
}

TEST(PolicyPattern, ArnPartsAreMatchedSeparately) {
  arn_pattern p;
  template_error err;
  context ctx;
  ASSERT_TRUE(compile_arn("arn:aws:iot:*:123:topic/*", {}, p, err));
  EXPECT_EQ(match(p, split("arn:aws:iot:eu-west-1:123:topic/a:b/c"), ctx), match_result::yes);
  EXPECT_EQ(match(p, split("arn:aws:iot:eu:west:123:topic/a"), ctx), match_result::no);
  EXPECT_EQ(match(p, split("topic/a"), ctx), match_result::no);
  EXPECT_FALSE(compile_arn("arn:aws:iot", {}, p, err));
  EXPECT_FALSE(compile_arn("urn:aws:iot:r:a:x", {}, p, err));
  ASSERT_TRUE(compile_arn("*", {}, p, err));
  EXPECT_EQ(match(p, split("anything"), ctx), match_result::yes);
}

TEST(PolicyPattern, ActionWildcards) {
  EXPECT_TRUE(wildcard_match("iot:*", "iot:Publish", false));
  EXPECT_TRUE(wildcard_match("IOT:pub*", "iot:Publish", true));
  EXPECT_FALSE(wildcard_match("IOT:pub*", "iot:Publish", false));
  EXPECT_TRUE(wildcard_match("iot:*Shadow", "iot:GetThingShadow", true));
  EXPECT_FALSE(wildcard_match("iot:Get?", "iot:GetThingShadow", true));
}

TEST(PolicyVariables, Names) {
  bool known = true;
  auto v = parse_var("iot:Certificate.Subject.Organization.List", known);
  ASSERT_TRUE(v);
  EXPECT_TRUE(known);
  EXPECT_EQ(v->kind, var_kind::subject);
  EXPECT_TRUE(v->list);
  v = parse_var("IOT:certificate.issuer.alternativename.dnsname.2", known);
  ASSERT_TRUE(v);
  EXPECT_EQ(v->kind, var_kind::issuer_alt);
  EXPECT_EQ(v->index, 2);
  v = parse_var("iot:Connection.Thing.Attributes[Floor]", known);
  ASSERT_TRUE(v);
  EXPECT_EQ(v->name, "Floor");  // attribute names keep their case
  v = parse_var("iot:Connection.Thing.Colour", known);
  ASSERT_TRUE(v);
  EXPECT_FALSE(known);
  EXPECT_EQ(v->kind, var_kind::extra);
  EXPECT_FALSE(parse_var("nocolon", known));
  EXPECT_FALSE(parse_var(":x", known));
  EXPECT_FALSE(parse_var("a b:c", known));
}

TEST(PolicyVariables, CertificateLimits) {
  context ctx;
  for (int i = 0; i < 7; ++i) ctx.subject.add(dn_attribute::organization, "o" + std::to_string(i));
  bool known = true;
  auto list = parse_var("iot:Certificate.Subject.Organization.List", known);
  EXPECT_EQ(resolve(*list, ctx).size(), 5u);  // AWS IoT sees five values at most
  auto fifth = parse_var("iot:Certificate.Subject.Organization.5", known);
  EXPECT_FALSE(resolve_one(*fifth, ctx));
  ctx.subject.add(dn_attribute::common_name, std::string(1025, 'x'));
  auto cn = parse_var("iot:Certificate.Subject.CommonName", known);
  EXPECT_FALSE(resolve_one(*cn, ctx));  // longer than 1024: not substituted
}

TEST(PolicyContext, SetByName) {
  context ctx;
  EXPECT_TRUE(ctx.set("iot:ClientId", "c"));
  EXPECT_TRUE(ctx.set("iot:Connection.Thing.IsAttached", "TRUE"));
  EXPECT_TRUE(ctx.set("iot:Certificate.Subject.CommonName", "cn"));
  EXPECT_TRUE(ctx.set("iot:Certificate.Issuer.AlternativeName.IPAddress", "10.0.0.1"));
  EXPECT_TRUE(ctx.set("aws:SourceIp", "2001:db8::1"));
  EXPECT_TRUE(ctx.set("aws:SourceArn", "arn:aws:iot:r:1:rule/x"));
  EXPECT_TRUE(ctx.set("AWS:sourcearn", "arn:aws:iot:r:1:rule/y"));
  EXPECT_EQ(ctx.client_id, "c");
  EXPECT_EQ(ctx.thing_is_attached, true);
  EXPECT_EQ(ctx.subject.values[static_cast<std::size_t>(dn_attribute::common_name)][0], "cn");
  ASSERT_EQ(ctx.extra.size(), 1u);
  EXPECT_EQ(ctx.extra[0].second.size(), 2u);
  EXPECT_FALSE(ctx.set("aws:SourceIp", "300.1.1.1"));
  EXPECT_FALSE(ctx.set("iot:Connection.Thing.IsAttached", "maybe"));
  EXPECT_FALSE(ctx.set("iot:Certificate.Subject.Organization.List", "x"));
  EXPECT_FALSE(ctx.set("bad", "x"));
  EXPECT_EQ(find_dn_attribute("CN"), dn_attribute::common_name);
  EXPECT_EQ(find_dn_attribute("dnQualifier"), dn_attribute::distinguished_name_qualifier);
  EXPECT_EQ(make_arn(ctx, "topic", "a/b"), "arn:aws:iot:::topic/a/b");
}

// Our parser against the C library's, on addresses both accept or reject.
TEST(PolicyIp, AgreesWithInetPton) {
  for (const char* s : {"0.0.0.0",
                        "255.255.255.255",
                        "192.0.2.1",
                        "1.2.3",
                        "1.2.3.4.5",
                        "256.1.1.1",
                        "::",
                        "::1",
                        "1::",
                        "2001:db8::1",
                        "2001:db8:0:0:0:0:0:1",
                        "1:2:3:4:5:6:7:8",
                        "1:2:3:4:5:6:7:8:9",
                        "1::2::3",
                        ":1::",
                        "1:::2",
                        "::1.2.3.4",
                        "fe80::1:2.3.4.5",
                        "12345::",
                        "g::1",
                        "1:2:3:4:5:6:1.2.3.4",
                        "1:2:3:4:5:6:7:1.2.3.4",
                        ""}) {
    SCOPED_TRACE(s);
    const auto ours = parse_ip(s);
    unsigned char buf[16];
    const bool v4 = std::strchr(s, ':') == nullptr;
    const bool theirs = inet_pton(v4 ? AF_INET : AF_INET6, s, buf) == 1;
    ASSERT_EQ(ours.has_value(), theirs);
    if (ours && !v4 && !ours->v6) continue;  // mapped
    if (ours) {
      EXPECT_EQ(std::memcmp(ours->bytes.data(), buf, v4 ? 4 : 16), 0);
    }
  }
  EXPECT_FALSE(parse_ip("01.2.3.4"));  // leading zeros are ambiguous (octal): rejected
}

TEST(PolicyIp, Cidr) {
  auto block = parse_cidr("10.1.0.0/16");
  ASSERT_TRUE(block);
  EXPECT_TRUE(contains(*block, *parse_ip("10.1.255.3")));
  EXPECT_FALSE(contains(*block, *parse_ip("10.2.0.0")));
  EXPECT_FALSE(contains(*block, *parse_ip("::ffff:10.2.0.0")));
  EXPECT_TRUE(contains(*block, *parse_ip("::ffff:10.1.0.9")));
  auto v6 = parse_cidr("2001:db8::/33");
  ASSERT_TRUE(v6);
  EXPECT_TRUE(contains(*v6, *parse_ip("2001:db8:7fff::1")));
  EXPECT_FALSE(contains(*v6, *parse_ip("2001:db8:8000::1")));
  EXPECT_FALSE(contains(*v6, *parse_ip("10.1.0.0")));
  EXPECT_TRUE(contains(*parse_cidr("0.0.0.0/0"), *parse_ip("8.8.8.8")));
  EXPECT_TRUE(contains(*parse_cidr("::/0"), *parse_ip("::1")));
  EXPECT_FALSE(parse_cidr("10.0.0.0/33"));
  EXPECT_FALSE(parse_cidr("10.0.0.0/"));
  EXPECT_FALSE(parse_cidr("10.0.0.0/08"));
  EXPECT_FALSE(parse_cidr("::/129"));
}

}  // namespace
}  // namespace iotblocks::policy::detail
