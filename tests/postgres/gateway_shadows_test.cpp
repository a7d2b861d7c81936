// Two gateways sharing one PostgreSQL database for their shadows ("stores": {"shadows": URL}):
// a change made through one is seen by the other, and concurrent updates of one shadow through
// both get exactly one winner per version and 409 for the loser.
#include <iotblocks/gateway/config.hpp>
#include <iotblocks/gateway/gateway.hpp>
#include <iotblocks/net/http_client.hpp>

#include "postgres/server.hpp"

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <filesystem>
#include <memory>
#include <set>
#include <string>
#include <thread>

#include <unistd.h>

namespace iotblocks::postgres {
namespace {

struct reply {
  unsigned status = 0;
  std::int64_t version = -1;  ///< the body's "version", when there is one
};

class one_gateway {
 public:
  one_gateway(const std::string& name, const std::string& url) {
    dir_ = std::filesystem::temp_directory_path() /
           ("iotblocks-pg-gw-" + std::to_string(::getpid()) + "-" + name);
    std::filesystem::remove_all(dir_);
    auto c = gateway::parse_config(R"({"listeners":[{"type":"http","port":0}],"threads":2,
      "data_dir":")" + dir_.string() +
                                   R"(","stores":{"shadows":")" + url + R"("}})");
    EXPECT_TRUE(c) << c.describe();
    if (!c) return;
    gw_ = std::make_unique<gateway::gateway>(*c);
    auto ok = gw_->start();
    EXPECT_TRUE(ok) << ok.describe();
    if (ok) port_ = gw_->port("http");
  }
  ~one_gateway() {
    if (gw_) gw_->stop();
    std::filesystem::remove_all(dir_);
  }
  bool ok() const { return port_ != 0; }

  reply send(const std::string& method, const std::string& body = "") const {
    net::http_request r;
    r.method = method;
    r.url = "http://127.0.0.1:" + std::to_string(port_) + "/things/lamp/shadow";
    r.body = body;
    auto res = net::http_client{}.send(r);
    reply out{res.status};
    rapidjson::Document d;
    d.Parse(res.body.data(), res.body.size());
    if (!d.HasParseError() && d.IsObject() && d.HasMember("version") && d["version"].IsInt64()) {
      out.version = d["version"].GetInt64();
    }
    return out;
  }
  reply update(int n, std::int64_t version) const {
    return send("POST", R"({"state":{"reported":{"n":)" + std::to_string(n) + R"(}},"version":)" +
                            std::to_string(version) + "}");
  }

 private:
  std::filesystem::path dir_;
  std::unique_ptr<gateway::gateway> gw_;
  std::uint16_t port_ = 0;
};

TEST(PostgresGatewayShadows, TwoGatewaysShareShadowsWithOneWinnerPerVersion) {
  testing::server pg;
  ASSERT_TRUE(pg.ok());
  one_gateway a{"a", pg.url()}, b{"b", pg.url()};
  ASSERT_TRUE(a.ok() && b.ok());

  ASSERT_EQ(a.send("POST", R"({"state":{"reported":{"n":0}}})").status, 200u);
  EXPECT_EQ(b.send("GET").version, 1);  // b reads what a wrote: no private cache

  // Both read version 1 and update from it: a wins, b gets 409 (it sees a's commit).
  EXPECT_EQ(a.update(1, 1).status, 200u);
  EXPECT_EQ(b.update(2, 1).status, 409u);
  EXPECT_EQ(b.send("GET").version, 2);

  // Racing: each side reads the version through its own gateway and updates from it.
  std::vector<std::int64_t> won[2];
  int lost[2] = {0, 0};
  auto race = [&](const one_gateway& g, int side) {
    for (int i = 0; i < 40; ++i) {
      const auto v = g.send("GET").version;
      const auto r = g.update(i, v);
      if (r.status == 200) {
        won[side].push_back(r.version);
      } else {
        EXPECT_EQ(r.status, 409u);
        ++lost[side];
      }
    }
  };
  std::thread ta(race, std::cref(a), 0), tb(race, std::cref(b), 1);
  ta.join();
  tb.join();
  std::set<std::int64_t> versions(won[0].begin(), won[0].end());
  versions.insert(won[1].begin(), won[1].end());
  const auto wins = won[0].size() + won[1].size();
  EXPECT_EQ(versions.size(), wins) << "two updates were accepted with the same version";
  EXPECT_EQ(wins + static_cast<std::size_t>(lost[0] + lost[1]), 80u);
  const auto final_version = a.send("GET").version;
  EXPECT_EQ(final_version, 2 + static_cast<std::int64_t>(wins));
  EXPECT_EQ(b.send("GET").version, final_version);
  if (!versions.empty()) {
    EXPECT_EQ(*versions.begin(), 3);
    EXPECT_EQ(*versions.rbegin(), final_version);
  }
}

TEST(PostgresGatewayShadows, AnUnreachableDatabaseFailsTheStart) {
  auto c = gateway::parse_config(R"({"listeners":[{"type":"http","port":0}],
    "data_dir":")" + (std::filesystem::temp_directory_path() / "iotblocks-pg-gw-none").string() +
                                 R"(","stores":{"shadows":"postgresql://iot@127.0.0.1:1/iot"}})");
  ASSERT_TRUE(c) << c.describe();
  gateway::gateway gw{*c};
  auto ok = gw.start();
  ASSERT_FALSE(ok);
  EXPECT_NE(ok.describe().find("shadow store"), std::string::npos) << ok.describe();
}

}  // namespace
}  // namespace iotblocks::postgres
