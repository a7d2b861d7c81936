// net::http_server as the gateway uses it: prefix routing, 404/405, body limit,
// query parameters and percent-decoding.
#include <iotblocks/net/http_client.hpp>
#include <iotblocks/net/http_server.hpp>

#include <gtest/gtest.h>

namespace iotblocks::net {
namespace {

class HttpServer : public ::testing::Test {
 protected:
  void SetUp() override {
    server_.route("GET", "/echo", [](const incoming_request& r) {
      return http_reply{200, r.path + "|" + r.query_param("q") + "|" + r.authorization};
    });
    server_.route("POST", "/echo", [](const incoming_request& r) {
      return http_reply{201, r.body};
    });
    server_.route("GET", "/echo/deep", [](const incoming_request&) {
      return http_reply{200, "deep"};
    });
    server_.route("GET", "/boom",
                  [](const incoming_request&) -> http_reply { throw std::runtime_error("boom"); });
    http_server_options o;
    o.port = 0;
    o.max_body_bytes = 1024;
    port_ = server_.listen(o).value();
    server_.start();
  }
  void TearDown() override { server_.stop(); }

  http_response send(const std::string& method, const std::string& target,
                     const std::string& body = "") {
    http_request r;
    r.method = method;
    r.url = "http://127.0.0.1:" + std::to_string(port_) + target;
    r.body = body;
    r.headers.emplace_back("Authorization", "Bearer x");
    return http_client{}.send(r);
  }

  http_server server_;
  std::uint16_t port_ = 0;
};

TEST_F(HttpServer, RoutesByLongestPrefixAndMethod) {
  EXPECT_EQ(send("GET", "/echo/a%2Fb?q=x%20y&z=1").body, "/echo/a/b|x y|Bearer x");
  EXPECT_EQ(send("GET", "/echo/deep/er").body, "deep");
  EXPECT_EQ(send("GET", "/echoes").status, 404u);  // a prefix matches whole segments only
  const auto posted = send("POST", "/echo", "payload");
  EXPECT_EQ(posted.status, 201u);
  EXPECT_EQ(posted.body, "payload");
  EXPECT_EQ(send("DELETE", "/echo").status, 405u);
  EXPECT_EQ(send("GET", "/missing").status, 404u);
  EXPECT_EQ(send("GET", "/boom").status, 500u);
}

TEST_F(HttpServer, RejectsLargeBodies) {
  EXPECT_EQ(send("POST", "/echo", std::string(2048, 'x')).status, 413u);
  EXPECT_EQ(send("POST", "/echo", "small").status, 201u);  // the server keeps serving
}

TEST(PercentDecode, KeepsMalformedEscapes) {
  EXPECT_EQ(percent_decode("a%20b%2"), "a b%2");
  EXPECT_EQ(percent_decode("%zz%41"), "%zzA");
}

}  // namespace
}  // namespace iotblocks::net
