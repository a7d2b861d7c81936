// SigV4 verification against requests signed by the AWS CLI's botocore and AWS's
// published test suite (tests/data/gateway/sigv4/vectors.json, see make_vectors.py).
#include <iotblocks/gateway/aws_sigv4.hpp>

#include "core/json.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <memory>
#include <sstream>

namespace {

using namespace iotblocks::gateway::aws;

struct vector_case {
  std::string name, service, method, path, query, body, key_id, secret;
  std::int64_t now = 0;
  std::vector<header> headers;

  http_request_view view() const { return {method, path, query, headers, body}; }
};

std::vector<vector_case> load() {
  std::ifstream in("tests/data/gateway/sigv4/vectors.json");
  std::ostringstream ss;
  ss << in.rdbuf();
  auto doc = iotblocks::json::parse(ss.str());
  EXPECT_TRUE(doc) << doc.describe();
  std::vector<vector_case> out;
  if (!doc) return out;
  for (const auto& c : doc->GetArray()) {
    vector_case v;
    for (auto [key, field] : {std::pair<const char*, std::string*>{"name", &v.name},
                              {"service", &v.service},
                              {"method", &v.method},
                              {"path", &v.path},
                              {"query", &v.query},
                              {"body", &v.body},
                              {"key_id", &v.key_id},
                              {"secret", &v.secret}}) {
      *field = std::string(iotblocks::json::view(c[key]));
    }
    v.now = c["now"].GetInt64();
    for (const auto& h : c["headers"].GetArray()) {
      v.headers.emplace_back(std::string(iotblocks::json::view(h[0])),
                             std::string(iotblocks::json::view(h[1])));
    }
    out.push_back(std::move(v));
  }
  return out;
}

std::unique_ptr<sigv4_verifier> verifier_for(const vector_case& c, std::string secret = {}) {
  auto v = std::make_unique<sigv4_verifier>();
  v->add_key({c.key_id, secret.empty() ? c.secret : secret});
  return v;
}

TEST(AwsSigv4, AcceptsEveryVectorSignedByBotocoreAndTheAwsSuite) {
  const auto cases = load();
  ASSERT_GE(cases.size(), 7u);
  for (const auto& c : cases) {
    const auto out = verifier_for(c)->verify(c.view(), c.now);
    EXPECT_TRUE(out.ok()) << c.name << ": " << out.error_type << " " << out.message;
    EXPECT_EQ(out.service, c.service) << c.name;
    EXPECT_EQ(out.access_key_id, c.key_id) << c.name;
  }
}

TEST(AwsSigv4, CanonicalRequestOfGetVanillaIsTheSuites) {
  const auto cases = load();
  ASSERT_FALSE(cases.empty());
  const auto& c = cases.front();
  ASSERT_EQ(c.name, "aws-suite get-vanilla");
  // aws-sig-v4-test-suite/get-vanilla/get-vanilla.creq and .sts
  const auto creq = sigv4::canonical_request(c.view(), "host;x-amz-date", sigv4::hex_sha256(""));
  EXPECT_EQ(creq,
            "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
            "host;x-amz-date\n"
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  const auto sts =
      sigv4::string_to_sign("20150830T123600Z", "20150830/us-east-1/service/aws4_request", creq);
  EXPECT_EQ(sts,
            "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
            "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63");
  EXPECT_EQ(sigv4::signature(c.secret, "20150830", "us-east-1", "service", sts),
            "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
}

TEST(AwsSigv4, WrongSecretIsInvalidSignature) {
  for (const auto& c : load()) {
    const auto out = verifier_for(c, "not-the-secret")->verify(c.view(), c.now);
    EXPECT_EQ(out.result, sigv4_result::verdict::bad_signature) << c.name;
    EXPECT_EQ(out.status, 403);
    EXPECT_EQ(out.error_type, "InvalidSignatureException");
    EXPECT_NE(out.message.find("does not match"), std::string::npos) << out.message;
  }
}

TEST(AwsSigv4, UnknownAccessKeyIsUnrecognizedClient) {
  const auto c = load().at(2);
  sigv4_verifier v;
  v.add_key({"AKIDOTHER", c.secret});
  const auto out = v.verify(c.view(), c.now);
  EXPECT_EQ(out.result, sigv4_result::verdict::unknown_key);
  EXPECT_EQ(out.status, 403);
  EXPECT_EQ(out.error_type, "UnrecognizedClientException");
}

TEST(AwsSigv4, StaleOrFutureDateIsExpired) {
  const auto c = load().at(2);
  const auto v = verifier_for(c);
  EXPECT_TRUE(v->verify(c.view(), c.now + 300).ok());
  EXPECT_TRUE(v->verify(c.view(), c.now - 300).ok());
  auto late = v->verify(c.view(), c.now + 301);
  EXPECT_EQ(late.result, sigv4_result::verdict::expired);
  EXPECT_EQ(late.status, 403);
  EXPECT_EQ(late.error_type, "InvalidSignatureException");
  EXPECT_EQ(late.message,
            "Signature expired: 20150830T123600Z is now earlier than 20150830T123601Z "
            "(20150830T124101Z - 5 min.)");
  EXPECT_EQ(v->verify(c.view(), c.now - 301).result, sigv4_result::verdict::expired);
}

TEST(AwsSigv4, TamperedBodyQueryPathOrSignedHeaderFails) {
  const auto cases = load();
  const auto& pub = cases.at(2);  // iot-data publish: body, query and an encoded path
  ASSERT_EQ(pub.name, "iot-data publish");
  const auto v = verifier_for(pub);
  auto body = pub;
  body.body = R"({"t":99})";
  EXPECT_EQ(v->verify(body.view(), pub.now).result, sigv4_result::verdict::bad_signature);
  auto query = pub;
  query.query = "qos=0&retain=true";
  EXPECT_EQ(v->verify(query.view(), pub.now).result, sigv4_result::verdict::bad_signature);
  auto path = pub;
  path.path = "/topics/dev%2F2%2Ftemp";
  EXPECT_EQ(v->verify(path.view(), pub.now).result, sigv4_result::verdict::bad_signature);
  auto host = pub;
  for (auto& h : host.headers) {
    if (h.first == "Host") h.second = "127.0.0.1:9999";
  }
  EXPECT_EQ(v->verify(host.view(), pub.now).result, sigv4_result::verdict::bad_signature);
}

TEST(AwsSigv4, MissingOrMalformedAuthorization) {
  auto c = load().at(2);
  const auto v = verifier_for(c);
  auto set_auth = [&](std::string value) {
    for (auto& h : c.headers) {
      if (h.first == "Authorization") h.second = std::move(value);
    }
  };
  auto none = c;
  std::erase_if(none.headers, [](const header& h) { return h.first == "Authorization"; });
  auto out = v->verify(none.view(), c.now);
  EXPECT_EQ(out.result, sigv4_result::verdict::missing);
  EXPECT_EQ(out.error_type, "MissingAuthenticationTokenException");
  EXPECT_EQ(out.status, 403);
  for (const char* bad : {"Bearer abc", "AWS4-HMAC-SHA256 SignedHeaders=host, Signature=00",
                          "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830, "
                          "SignedHeaders=host, Signature=00"}) {
    set_auth(bad);
    out = v->verify(c.view(), c.now);
    EXPECT_EQ(out.result, sigv4_result::verdict::malformed) << bad;
    EXPECT_EQ(out.status, 400);
    EXPECT_EQ(out.error_type, "IncompleteSignatureException");
  }
}

TEST(AwsSigv4, ParsesAmzDate) {
  EXPECT_EQ(sigv4::parse_amz_date("19700101T000000Z"), 0);
  EXPECT_EQ(sigv4::parse_amz_date("20150830T123600Z"), 1440938160);
  EXPECT_EQ(sigv4::parse_amz_date("20240229T235959Z"), 1709251199);
  EXPECT_EQ(sigv4::parse_amz_date("2015-08-30T12:36:00Z"), -1);
  EXPECT_EQ(sigv4::parse_amz_date("20151330T123600Z"), -1);
  EXPECT_EQ(sigv4::parse_amz_date(""), -1);
}

TEST(AwsSigv4, UriEncodeIsRfc3986Unreserved) {
  EXPECT_EQ(sigv4::uri_encode("a b/c~d_e.f-g+h=", false), "a%20b%2Fc~d_e.f-g%2Bh%3D");
  EXPECT_EQ(sigv4::uri_encode("/topics/a%2Fb", true), "/topics/a%252Fb");
  EXPECT_EQ(sigv4::uri_encode("\xc3\xbc", false), "%C3%BC");
}

// Presigned URLs as AWS IoT's SDKs make them for MQTT over WebSocket: signed with the
// sigv4:: parts here; the SDKs' own signers are exercised by aws_sdk_test.js.
struct presigned {
  std::string query;  // without X-Amz-Signature
  std::string signature;
  std::vector<header> headers{{"Host", "gw.example:8443"}};
  std::string full() const { return query + "&X-Amz-Signature=" + signature; }
};

presigned presign(std::string_view id, std::string_view secret, std::string_view amz_date,
                  std::string extra = {}) {
  presigned p;
  const std::string day(amz_date.substr(0, 8));
  const std::string scope = day + "/eu-west-1/iotdevicegateway/aws4_request";
  p.query = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=" + std::string(id) + "%2F" +
            sigv4::uri_encode(scope, false) + "&X-Amz-Date=" + std::string(amz_date) +
            "&X-Amz-SignedHeaders=host" + extra;
  http_request_view v{"GET", "/mqtt", p.query, p.headers, {}};
  const auto canonical = sigv4::canonical_request(v, "host", sigv4::hex_sha256(""));
  p.signature = sigv4::signature(secret, day, "eu-west-1", "iotdevicegateway",
                                 sigv4::string_to_sign(amz_date, scope, canonical));
  return p;
}

TEST(AwsSigv4Presigned, AcceptsAValidUrlAndASessionTokenAddedAfterSigning) {
  sigv4_verifier v;
  v.add_key({"AKIDPRESIGN", "secret"});
  const auto now = sigv4::parse_amz_date("20261206T120000Z");
  auto p = presign("AKIDPRESIGN", "secret", "20261206T120000Z");
  auto q = p.full();
  auto out = v.verify_presigned({"GET", "/mqtt", q, p.headers, {}}, now);
  EXPECT_TRUE(out.ok()) << out.message;
  EXPECT_EQ(out.access_key_id, "AKIDPRESIGN");
  EXPECT_EQ(out.service, "iotdevicegateway");
  q += "&X-Amz-Security-Token=tok%2Fen";
  EXPECT_TRUE(v.verify_presigned({"GET", "/mqtt", q, p.headers, {}}, now).ok());
}

TEST(AwsSigv4Presigned, RefusesTamperingWrongKeysStaleDatesAndMalformedQueries) {
  sigv4_verifier v;
  v.add_key({"AKIDPRESIGN", "secret"});
  const auto now = sigv4::parse_amz_date("20261206T120000Z");
  using enum sigv4_result::verdict;
  auto check = [&](const std::string& query, sigv4_result::verdict want, int status) {
    const std::vector<header> headers{{"Host", "gw.example:8443"}};
    auto out = v.verify_presigned({"GET", "/mqtt", query, headers, {}}, now);
    EXPECT_EQ(out.result, want) << query << ": " << out.message;
    EXPECT_EQ(out.status, status) << query;
  };
  check(presign("AKIDPRESIGN", "wrong", "20261206T120000Z").full(), bad_signature, 403);
  check(presign("AKIDOTHER", "secret", "20261206T120000Z").full(), unknown_key, 403);
  check(presign("AKIDPRESIGN", "secret", "20261206T115400Z").full(), expired, 403);
  check(presign("AKIDPRESIGN", "secret", "20261206T120600Z").full(), expired, 403);
  check(presign("AKIDPRESIGN", "secret", "20261206T120000Z").full() + "&extra=1", bad_signature,
        403);
  // X-Amz-Expires extends the window from the date (within 7 days).
  check(presign("AKIDPRESIGN", "secret", "20261206T115000Z", "&X-Amz-Expires=900").full(), ok, 200);
  check(presign("AKIDPRESIGN", "secret", "20261206T114000Z", "&X-Amz-Expires=900").full(), expired,
        403);
  check(presign("AKIDPRESIGN", "secret", "20261206T120000Z", "&X-Amz-Expires=0").full(), malformed,
        400);
  check(presign("AKIDPRESIGN", "secret", "20261206T120000Z", "&X-Amz-Expires=9x").full(), malformed,
        400);
  check(presign("AKIDPRESIGN", "secret", "20261206T120000Z").query, malformed, 400);
  check("x=1", missing, 403);
  check("X-Amz-Algorithm=AWS4-HMAC-SHA1&X-Amz-Signature=00", malformed, 400);
  check(
      "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=A%2Fb&X-Amz-Date=20261206T120000Z"
      "&X-Amz-SignedHeaders=host&X-Amz-Signature=00",
      malformed, 400);
}

}  // namespace
