// Custom authentication, sans-I/O (lib/gateway/custom_auth.hpp): the config's
// authorizers and their errors, credentials from a username, headers or a query
// string, signed tokens, the request event and the response document.
#include "gateway/custom_auth.hpp"

#include <iotblocks/core/bytes.hpp>

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <memory>

namespace iotblocks::gateway::custom_auth {
namespace {

struct key_pair {
  std::string public_pem;
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key{nullptr, &EVP_PKEY_free};
  std::string sign(std::string_view data) const {
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
    EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key.get());
    std::size_t n = 0;
    const auto* p = reinterpret_cast<const unsigned char*>(data.data());
    EVP_DigestSign(ctx.get(), nullptr, &n, p, data.size());
    byte_buffer sig(n);
    EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &n, p, data.size());
    sig.resize(n);
    return to_base64(bytes_view{sig});
  }
};

key_pair make_rsa() {
  key_pair k;
  k.key.reset(EVP_RSA_gen(2048));
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), &BIO_free);
  PEM_write_bio_PUBKEY(bio.get(), k.key.get());
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio.get(), &data);
  k.public_pem.assign(data, static_cast<std::size_t>(n));
  return k;
}

TEST(CustomAuthConfig, ReadsAuthorizersAndTheDefault) {
  auto c = parse_config(R"({"custom_authorizers":{
      "A":{"function":{"url":"http://127.0.0.1:9/auth"},"signing_disabled":true},
      "B":{"function":{"command":["/bin/cat"]},"signing_disabled":true,"status":"INACTIVE",
           "timeout_ms":250,"token_key_name":"tok"}},
    "default_authorizer":"A"})");
  ASSERT_TRUE(c) << c.describe();
  ASSERT_EQ(c->custom_authorizers.size(), 2u);
  EXPECT_EQ(c->custom_authorizers[0].url, "http://127.0.0.1:9/auth");
  EXPECT_TRUE(c->custom_authorizers[0].active);
  EXPECT_EQ(c->custom_authorizers[1].command, std::vector<std::string>{"/bin/cat"});
  EXPECT_FALSE(c->custom_authorizers[1].active);
  EXPECT_EQ(c->custom_authorizers[1].timeout_ms, 250u);
  EXPECT_EQ(c->default_authorizer, "A");
}

TEST(CustomAuthConfig, ErrorsNameTheValue) {
  const std::string fn = R"("function":{"url":"http://127.0.0.1:9/"})";
  for (
      const auto& [text, starts] : std::vector<std::pair<std::string, std::string>>{
          {R"({"custom_authorizers":[]})", "custom_authorizers: expected an object"},
          {R"({"custom_authorizers":{"a b":{}}})", "custom_authorizers.a b: name"},
          {R"({"custom_authorizers":{"A":{"signing_disabled":true}}})",
           "custom_authorizers.A.function: expected"},
          {R"({"custom_authorizers":{"A":{"function":{"url":"ftp://x"},"signing_disabled":true}}})",
           "custom_authorizers.A.function.url: expected an http"},
          {R"({"custom_authorizers":{"A":{"function":{"url":"http://x/","command":["a"]},"signing_disabled":true}}})",
           "custom_authorizers.A.function: expected exactly one"},
          {R"({"custom_authorizers":{"A":{)" + fn + R"(}}})",
           "custom_authorizers.A: signing is on"},
          {R"({"custom_authorizers":{"A":{)" + fn +
               R"(,"token_key_name":"t","token_signing_public_keys":{"k":"not a key"}}}})",
           "custom_authorizers.A.token_signing_public_keys.k: expected a PEM public key"},
          {R"({"custom_authorizers":{"A":{)" + fn + R"(,"signing_disabled":true,"status":"on"}}})",
           "custom_authorizers.A.status: expected ACTIVE or INACTIVE"},
          {R"({"custom_authorizers":{"A":{)" + fn + R"(,"signing_disabled":true,"x":1}}})",
           "custom_authorizers.A.x: unknown key"},
          {R"({"default_authorizer":"Nope"})", "default_authorizer: no custom authorizer"},
      }) {
    auto c = parse_config(text);
    ASSERT_FALSE(c) << text;
    EXPECT_TRUE(c.describe().starts_with(starts)) << c.describe();
  }
}

TEST(CustomAuthCredentials, FromTheUsernameTheHeadersOrTheQueryString) {
  auto u = find_credentials(
      "dev?x-amz-customauthorizer-name=Auth&tok=a%2Bb&x-amz-customauthorizer-signature=c2ln", "pw",
      "id1", nullptr);
  EXPECT_EQ(u.authorizer, "Auth");
  EXPECT_EQ(u.signature, "c2ln");
  EXPECT_EQ(find_token(u, "tok"), "a+b");
  EXPECT_EQ(u.password, "pw");

  http_request ws{"x-amz-customauthorizer-name=FromQuery&tok=q",
                  {{"X-Amz-CustomAuthorizer-Name", "FromHeader"}}};
  auto h = find_credentials(std::nullopt, std::nullopt, "id2", &ws);
  EXPECT_EQ(h.authorizer, "FromHeader");  // headers before the query string
  EXPECT_EQ(find_token(h, "tok"), "q");

  EXPECT_FALSE(names_authorizer(
      find_credentials("?SDK=JavaScriptV2&Version=1.28.0", std::nullopt, "c", nullptr)));
  EXPECT_FALSE(names_authorizer(find_credentials(std::nullopt, std::nullopt, "c", nullptr)));
}

TEST(CustomAuthToken, SignedTokensVerifyAgainstThePublicKeys) {
  const auto k = make_rsa(), other = make_rsa();
  custom_authorizer a;
  a.token_key_name = "tok";
  a.token_signing_public_keys = {{"other", other.public_pem}, {"k", k.public_pem}};
  auto with = [&](std::string token, std::string sig) {
    return find_credentials("?tok=" + token + "&x-amz-customauthorizer-signature=" + sig,
                            std::nullopt, "c", nullptr);
  };
  auto ok = check_token(a, with("t1", k.sign("t1")));
  EXPECT_EQ(ok.result, refusal::none);
  EXPECT_TRUE(ok.signature_verified);
  EXPECT_EQ(check_token(a, with("t2", k.sign("t1"))).result, refusal::bad_signature);
  EXPECT_EQ(check_token(a, with("t1", "%%%")).result, refusal::bad_signature);
  EXPECT_EQ(check_token(a, find_credentials("?tok=t1", std::nullopt, "c", nullptr)).result,
            refusal::missing_token);
  a.signing_disabled = true;
  auto unsigned_token = check_token(a, find_credentials("?tok=t1", std::nullopt, "c", nullptr));
  EXPECT_EQ(unsigned_token.result, refusal::none);
  EXPECT_FALSE(unsigned_token.signature_verified);
  EXPECT_EQ(unsigned_token.token, "t1");
}

TEST(CustomAuthEvent, HasAwsShape) {
  http_request ws{"a=1", {{"Host", "gw"}}};
  auto c = find_credentials("user", std::string_view("pw\0x", 4), "client-1", &ws);
  c.server_name = "gw.example";
  token_check t;
  t.token = "tk";
  const auto e = request_event(c, t, "conn-1");
  EXPECT_EQ(e,
            R"({"token":"tk","signatureVerified":false,"protocols":["tls","http","mqtt"],)"
            R"("protocolData":{"tls":{"serverName":"gw.example"},"http":{"headers":{"Host":"gw"},)"
            R"("queryString":"?a=1"},"mqtt":{"username":"user","password":"cHcAeA==",)"
            R"("clientId":"client-1"}},"connectionMetadata":{"id":"conn-1"}})");
}

TEST(CustomAuthResponse, ParsesAndRefusesWhatAwsRefuses) {
  auto r = parse_response(R"({"isAuthenticated":true,"principalId":"dev1",
      "policyDocuments":["{\"Version\":\"2012-10-17\",\"Statement\":[]}", {"Version":"2012-10-17"}],
      "disconnectAfterInSeconds":3600,"refreshAfterInSeconds":300})");
  ASSERT_TRUE(r) << r.describe();
  EXPECT_TRUE(r->is_authenticated);
  EXPECT_EQ(r->principal_id, "dev1");
  EXPECT_EQ(r->policy_documents.size(), 2u);
  EXPECT_EQ(r->disconnect_after_seconds, 3600u);
  EXPECT_EQ(r->refresh_after_seconds, 300u);
  auto no = parse_response(R"({"isAuthenticated":false})");
  ASSERT_TRUE(no);
  EXPECT_FALSE(no->is_authenticated);
  for (
      const auto& [text, starts] : std::vector<std::pair<std::string, std::string>>{
          {"not json", "response is not JSON"},
          {"[]", "response: expected a JSON object"},
          {R"({"isAuthenticated":"yes"})", "isAuthenticated"},
          {R"({"isAuthenticated":true,"principalId":"a-b","policyDocuments":[]})", "principalId"},
          {R"({"isAuthenticated":true,"principalId":"a","policyDocuments":{}})", "policyDocuments"},
          {R"({"isAuthenticated":true,"principalId":"a","policyDocuments":[1]})",
           "policyDocuments"},
          {R"({"isAuthenticated":true,"principalId":"a","policyDocuments":[],"refreshAfterInSeconds":0})",
           "refreshAfterInSeconds"},
          {R"({"isAuthenticated":true,"principalId":"a","policyDocuments":[],"disconnectAfterInSeconds":86401})",
           "disconnectAfterInSeconds"},
      }) {
    auto bad = parse_response(text);
    ASSERT_FALSE(bad) << text;
    EXPECT_TRUE(bad.describe().starts_with(starts)) << bad.describe();
  }
  EXPECT_FALSE(parse_response(std::string(max_response_bytes + 1, ' ')));
}

}  // namespace
}  // namespace iotblocks::gateway::custom_auth
