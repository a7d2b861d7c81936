// The HTTP(S) client against a Beast server on 127.0.0.1 (plain and TLS with a
// certificate made by the test).
#include <iotblocks/net/http_client.hpp>

#include "net/test_servers.hpp"

#include <gtest/gtest.h>

namespace iotblocks::net {
namespace {

using testing::canned_response;
using testing::http_server;
using testing::recorded_request;
using testing::test_certificate;

http_request make(std::string method, std::string url, std::string body = {}) {
  http_request r;
  r.method = std::move(method);
  r.url = std::move(url);
  r.body = std::move(body);
  return r;
}

TEST(ParseUrl, AcceptsHttpAndHttps) {
  auto u = parse_url("https://example.com:8443/a/b?x=1#frag");
  ASSERT_TRUE(u) << u.describe();
  EXPECT_TRUE(u->tls);
  EXPECT_EQ(u->host, "example.com");
  EXPECT_EQ(u->port, 8443);
  EXPECT_EQ(u->target, "/a/b?x=1");
  u = parse_url("http://[::1]/");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->host, "::1");
  EXPECT_EQ(u->port, 80);
  u = parse_url("HTTP://h");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->target, "/");
}

TEST(ParseUrl, RejectsMalformedWithOffset) {
  EXPECT_EQ(parse_url("ftp://x").error(), error::invalid_url);
  EXPECT_EQ(parse_url("http://").error(), error::invalid_url);
  auto r = parse_url("http://host:99999/");
  EXPECT_EQ(r.error(), error::invalid_url);
  EXPECT_EQ(r.fail().where.offset, 12u);
  EXPECT_EQ(parse_url("http://a b/").error(), error::invalid_url);
  EXPECT_EQ(parse_url("http://u@h/").error(), error::invalid_url);
  EXPECT_EQ(parse_url("http://[::1/").error(), error::invalid_url);
}

TEST(HttpClient, PostsBodyAndHeaders) {
  http_server server{[](const recorded_request&) { return canned_response{201, "created"}; }};
  http_client client;
  http_request req;
  req.url = server.url("/ingest?x=1");
  req.headers = {{"content-type", "application/json"}, {"x-device", "probe_1"}};
  req.body = R"({"lux":36250})";
  auto res = client.send(req);
  EXPECT_EQ(res.status, 201u);
  EXPECT_EQ(res.body, "created");
  ASSERT_TRUE(server.requests().wait_for(1));
  auto got = server.requests().items().at(0);
  EXPECT_EQ(got.method, "POST");
  EXPECT_EQ(got.target, "/ingest?x=1");
  EXPECT_EQ(got.body, R"({"lux":36250})");
  EXPECT_EQ(got.header("x-device"), "probe_1");
  EXPECT_EQ(got.header("content-type"), "application/json");
}

TEST(HttpClient, ErrorStatusIsAResponse) {
  http_server server{[](const recorded_request&) { return canned_response{503, "busy"}; }};
  http_client client;
  std::error_code ec;
  auto res = client.send(make("PUT", server.url(), "x"), ec);
  EXPECT_FALSE(ec);
  EXPECT_EQ(res.status, 503u);
}

TEST(HttpClient, TimesOutOnSilentServer) {
  http_server server{[](const recorded_request&) { return canned_response{.hang = true}; }};
  http_client client;
  client.timeout(std::chrono::milliseconds(200));
  std::error_code ec;
  client.send(make("POST", server.url()), ec);
  EXPECT_EQ(ec, error::timeout);
}

TEST(HttpClient, ConnectionRefused) {
  std::uint16_t port = 0;
  {
    http_server gone;
    port = gone.port();
  }
  http_client client;
  std::error_code ec;
  client.send(make("POST", "http://127.0.0.1:" + std::to_string(port) + "/"), ec);
  EXPECT_TRUE(ec);
  EXPECT_THROW(client.send(make("POST", "http://127.0.0.1:" + std::to_string(port) + "/")),
               std::system_error);
}

TEST(HttpClient, RejectsInvalidRequests) {
  http_client client;
  std::error_code ec;
  client.send(make("POST", "nope"), ec);
  EXPECT_EQ(ec, error::invalid_url);
  client.send(make("PO ST", "http://127.0.0.1:1/"), ec);
  EXPECT_EQ(ec, error::invalid_argument);
  auto bad = make("POST", "http://127.0.0.1:1/");
  bad.headers = {{"x", "a\r\nInjected: 1"}};
  client.send(bad, ec);
  EXPECT_EQ(ec, error::invalid_argument);
}

TEST(HttpClient, BodyLimit) {
  http_server server{[](const recorded_request&) {
    return canned_response{200, std::string(5000, 'x')};
  }};
  http_client client;
  client.max_body_size(1000);
  std::error_code ec;
  client.send(make("POST", server.url()), ec);
  EXPECT_EQ(ec, error::response_too_large);
}

TEST(HttpClient, HttpsWithTrustedCertificate) {
  const auto cert = test_certificate::make();
  http_server server{[](const recorded_request& r) {
                       return canned_response{200, "tls:" + r.body};
                     },
                     &cert};
  http_client client;
  ASSERT_TRUE(client.ca_pem(cert.cert_pem));
  auto res = client.send(make("POST", server.url("/secure"), "hello"));
  EXPECT_EQ(res.status, 200u);
  EXPECT_EQ(res.body, "tls:hello");
}

TEST(HttpClient, HttpsRejectsUntrustedCertificate) {
  const auto cert = test_certificate::make();
  http_server server{{}, &cert};
  http_client client;  // system trust store only
  std::error_code ec;
  client.send(make("POST", server.url()), ec);
  EXPECT_TRUE(ec);
  EXPECT_NE(ec, error::timeout);
  client.verify_peer(false);
  auto res = client.send(make("POST", server.url()), ec);
  EXPECT_FALSE(ec) << ec.message();
  EXPECT_EQ(res.status, 200u);
}

TEST(HttpClient, HttpsRejectsWrongHost) {
  const auto cert = test_certificate::make("127.0.0.2");
  http_server server{{}, &cert};
  http_client client;
  ASSERT_TRUE(client.ca_pem(cert.cert_pem));
  std::error_code ec;
  client.send(make("POST", server.url()), ec);
  EXPECT_TRUE(ec);
}

}  // namespace
}  // namespace iotblocks::net
