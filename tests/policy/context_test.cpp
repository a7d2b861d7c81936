// policy::context::set and the variables it fills: Amazon Cognito identity
// keys, iot:DomainName, certificate values addressed by index, and the
// certificate values AWS IoT does not substitute.
#include <iotblocks/policy.hpp>

#include "policy/variables.hpp"

#include <gtest/gtest.h>

#include <string>

namespace iotblocks::policy {
namespace {

const std::vector<std::string>& common_names(const context& ctx) {
  return ctx.subject.values[static_cast<std::size_t>(dn_attribute::common_name)];
}

TEST(PolicyContext, CognitoAndDomainName) {
  context ctx;
  EXPECT_TRUE(ctx.set("cognito-identity.amazonaws.com:sub", "us-east-1:abc"));
  EXPECT_TRUE(ctx.set("Cognito-Identity.AmazonAWS.com:AUD", "us-east-1:pool"));
  EXPECT_TRUE(ctx.set("cognito-identity.amazonaws.com:amr", "authenticated"));
  EXPECT_TRUE(ctx.set("cognito-identity.amazonaws.com:amr", "graph.facebook.com"));
  EXPECT_TRUE(ctx.set("iot:DomainName", "iot.example.com"));
  EXPECT_EQ(ctx.cognito.sub, "us-east-1:abc");
  EXPECT_EQ(ctx.cognito.aud, "us-east-1:pool");
  EXPECT_EQ(ctx.cognito.amr, (std::vector<std::string>{"authenticated", "graph.facebook.com"}));
  EXPECT_EQ(ctx.domain_name, "iot.example.com");
  EXPECT_TRUE(ctx.extra.empty());
  // AWS defines sub, aud and amr only: another key of that prefix is refused,
  // as an unknown iot:Certificate.* name is.
  EXPECT_FALSE(ctx.set("cognito-identity.amazonaws.com:custom", "x"));
  EXPECT_FALSE(ctx.set("iot:Certificate.Subject.Colour", "x"));
  // Other dotted prefixes (web identity providers) are caller-supplied keys.
  EXPECT_TRUE(ctx.set("accounts.google.com:sub", "1234"));
  ASSERT_EQ(ctx.extra.size(), 1u);
  // Dots are allowed inside a prefix, not at its ends or doubled.
  for (const char* bad : {".cognito:sub", "cognito.:sub", "a..b:sub"}) {
    EXPECT_FALSE(ctx.set(bad, "x")) << bad;
  }
}

TEST(PolicyContext, CognitoVariablesResolveAndWarn) {
  bool known = false;
  auto sub = detail::parse_var("cognito-identity.amazonaws.com:sub", known);
  ASSERT_TRUE(sub);
  EXPECT_TRUE(known);
  EXPECT_EQ(sub->kind, detail::var_kind::cognito_sub);
  auto other = detail::parse_var("cognito-identity.amazonaws.com:subject", known);
  ASSERT_TRUE(other);
  EXPECT_FALSE(known);  // check warns: AWS defines sub, aud and amr
  context ctx;
  EXPECT_FALSE(detail::resolve_one(*sub, ctx));  // no Cognito identity: unresolved
  ctx.cognito.sub = "us-east-1:abc";
  EXPECT_EQ(detail::resolve_one(*sub, ctx), "us-east-1:abc");
  auto doc = parse_document(R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow",
    "Action":"iot:Connect","Resource":"arn:aws:iot:*:*:client/${cognito-identity.amazonaws.com:nope}"}]})");
  ASSERT_TRUE(doc) << doc.describe();
  ASSERT_EQ(doc->warnings().size(), 1u);
}

TEST(PolicyContext, IndexedCertificateValuesArePositional) {
  context ctx;
  EXPECT_TRUE(ctx.set("iot:Certificate.Subject.CommonName", "alice"));
  EXPECT_TRUE(ctx.set("iot:Certificate.Subject.CommonName.1", "carol"));  // the next one
  EXPECT_TRUE(ctx.set("iot:Certificate.Subject.CommonName.2", "bob"));
  EXPECT_EQ(common_names(ctx), (std::vector<std::string>{"alice", "carol", "bob"}));
  EXPECT_TRUE(ctx.set("iot:Certificate.Subject.CommonName.1", "dave"));  // replaces
  EXPECT_TRUE(ctx.set("iot:Certificate.Subject.CommonName.0", "erin"));
  EXPECT_EQ(common_names(ctx), (std::vector<std::string>{"erin", "dave", "bob"}));
  EXPECT_TRUE(ctx.set("iot:Certificate.Subject.CommonName", "frank"));  // unindexed: adds
  EXPECT_EQ(common_names(ctx).size(), 4u);

  // An index with no value before it is refused, with a message that says why.
  context gap;
  const auto r = gap.set("iot:Certificate.Subject.AlternativeName.DNSName.2", "x");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), make_error_code(error::invalid_variable));
  EXPECT_NE(r.describe().find("positional"), std::string::npos) << r.describe();
  EXPECT_TRUE(gap.subject.alt_names[static_cast<std::size_t>(alt_name_type::dns_name)].empty());
  EXPECT_TRUE(gap.set("iot:Certificate.Subject.AlternativeName.DNSName.0", "a.example.com"));
  EXPECT_TRUE(gap.set("iot:Certificate.Issuer.Organization.0", "Example Corp"));
  EXPECT_TRUE(gap.set("iot:Certificate.Issuer.Organization.1", "AnyCompany"));

  bool known = false;
  auto second = detail::parse_var("iot:Certificate.Issuer.Organization.1", known);
  ASSERT_TRUE(second);
  EXPECT_EQ(detail::resolve_one(*second, gap), "AnyCompany");
}

TEST(PolicyContext, CertificateWildcardsAreNotSubstituted) {
  bool known = false;
  auto cn = detail::parse_var("iot:Certificate.Subject.CommonName", known);
  auto client = detail::parse_var("iot:ClientId", known);
  auto site = detail::parse_var("iot:Connection.Thing.Attributes[site]", known);
  ASSERT_TRUE(cn && client && site);
  for (const char* value : {"a*", "a$b", "a+b", "a?", "a#", "+", "#"}) {
    SCOPED_TRACE(value);
    context ctx;
    ctx.subject.add(dn_attribute::common_name, value);
    ctx.client_id = value;
    ctx.thing_attributes.emplace_back("site", value);
    EXPECT_FALSE(detail::resolve_one(*cn, ctx));
    EXPECT_EQ(detail::resolve(*cn, ctx).size(), 1u);  // a condition key still sees it
    // AWS documents the rule for certificate variables only.
    EXPECT_EQ(detail::resolve_one(*client, ctx), value);
    EXPECT_EQ(detail::resolve_one(*site, ctx), value);
  }
  context plain;
  plain.subject.add(dn_attribute::common_name, "a-b_c.d@e=f,g");
  EXPECT_EQ(detail::resolve_one(*cn, plain), "a-b_c.d@e=f,g");
}

}  // namespace
}  // namespace iotblocks::policy
