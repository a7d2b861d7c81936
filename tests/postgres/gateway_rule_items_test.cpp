// Two gateways whose rules' dynamoDB items live in one PostgreSQL database ("stores":
// {"rule_items": URL}): items written through one are in the table the other writes to, the
// same key written through the other replaces its item (a redelivered message), none doubled.
#include <iotblocks/gateway/config.hpp>
#include <iotblocks/gateway/gateway.hpp>
#include <iotblocks/net/http_client.hpp>
#include <iotblocks/postgres/item_store.hpp>

#include "postgres/server.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include <unistd.h>

namespace iotblocks::postgres {
namespace {

class item_gateway {
 public:
  /// A gateway whose rule puts sensors/<s> {"seq": n} as item (<s>, n) of table "readings",
  /// with "gw": `name` added to the payload.
  item_gateway(const std::string& name, const std::string& url) {
    dir_ = std::filesystem::temp_directory_path() /
           ("iotblocks-pg-items-" + std::to_string(::getpid()) + "-" + name);
    std::filesystem::remove_all(dir_);
    auto c = gateway::parse_config(R"({"listeners":[{"type":"http","port":0}],"threads":2,
      "data_dir":")" + dir_.string() +
                                   R"(","stores":{"rule_items":")" + url + R"("},
      "rules":{"Store":{"sql":"SELECT seq, ')" +
                                   name + R"(' AS gw FROM 'sensors/+'",
        "actions":[{"dynamoDB":{"tableName":"readings","hashKeyField":"sensor",
          "hashKeyValue":"${topic(2)}","rangeKeyField":"seq","rangeKeyValue":"${seq}",
          "rangeKeyType":"NUMBER"}}]}}})");
    EXPECT_TRUE(c) << c.describe();
    if (!c) return;
    gw_ = std::make_unique<gateway::gateway>(*c);
    auto ok = gw_->start();
    EXPECT_TRUE(ok) << ok.describe();
    if (ok) port_ = gw_->port("http");
  }
  ~item_gateway() {
    if (gw_) gw_->stop();
    std::filesystem::remove_all(dir_);
  }
  bool ok() const { return port_ != 0; }
  /// HTTP publish of {"seq": seq} on sensors/s<seq % 5>; the status.
  unsigned publish(int seq) const {
    net::http_request r;
    r.method = "POST";
    r.url = "http://127.0.0.1:" + std::to_string(port_) + "/topics/sensors/s" +
            std::to_string(seq % 5) + "?qos=1";
    r.body = R"({"seq":)" + std::to_string(seq) + "}";
    return net::http_client{}.send(r).status;
  }

 private:
  std::filesystem::path dir_;
  std::unique_ptr<gateway::gateway> gw_;
  std::uint16_t port_ = 0;
};

/// seq -> payload of every item in "readings" (a seq seen twice is kept as "duplicate").
std::map<int, std::string> read_items(const item_store& items) {
  std::map<int, std::string> out;
  for (int s = 0; s < 5; ++s) {
    const auto got = items.query("readings", "s" + std::to_string(s)).value();  // a copy
    for (const auto& i : got) {
      auto [at, fresh] = out.emplace(std::stoi(i.range_key), i.payload);
      if (!fresh) at->second = "duplicate";
    }
  }
  return out;
}

/// Polls the database until `done` holds (the actions commit on the gateways' action
/// threads, after the HTTP publish returned); false after 20 s.
bool eventually(const item_store& items, const std::function<bool(std::size_t)>& done) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < deadline) {
    if (done(items.count("readings").value())) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

std::string payload(int seq, const char* gw) {
  return R"({"seq":)" + std::to_string(seq) + R"(,"gw":")" + gw + R"("})";
}

TEST(PostgresGatewayRuleItems, TwoGatewaysShareItemsAndTheSameKeyReplacesTheItem) {
  testing::server pg;
  ASSERT_TRUE(pg.ok());
  item_gateway a{"a", pg.url()}, b{"b", pg.url()};
  ASSERT_TRUE(a.ok() && b.ok());
  auto items = item_store::open(pg.url());
  ASSERT_TRUE(items) << items.describe();
  const item_store& db = **items;

  // a: seq 0..49.
  for (int i = 0; i < 50; ++i) ASSERT_EQ(a.publish(i), 200u);
  ASSERT_TRUE(eventually(db, [](std::size_t n) { return n == 50; }));
  // b: seq 25..74, half of them keys a wrote, as a redelivered message would.
  for (int i = 25; i < 75; ++i) ASSERT_EQ(b.publish(i), 200u);
  std::map<int, std::string> got;
  ASSERT_TRUE(eventually(db,
                         [&](std::size_t n) {
                           got = read_items(db);
                           return n >= 75 && got.size() == 75 && got[25] == payload(25, "b") &&
                                  got[49] == payload(49, "b");
                         }))
      << db.count("readings").value() << " items; 25: " << got[25] << "; 49: " << got[49];
  EXPECT_EQ(db.count("readings").value(), 75u);  // no key twice
  for (int i = 0; i < 75; ++i) EXPECT_EQ(got[i], payload(i, i < 25 ? "a" : "b")) << i;
  // Numeric range-key order within a hash key: 0, 5, 10, …
  const auto s0 = db.query("readings", "s0").value();
  ASSERT_EQ(s0.size(), 15u);
  for (std::size_t k = 0; k < s0.size(); ++k) {
    EXPECT_EQ(s0[k].range_key, std::to_string(5 * k));
    EXPECT_TRUE(s0[k].range_is_number);
  }

  // Seq 30 again through a (a message redelivered to another gateway): replaced, not added.
  ASSERT_EQ(a.publish(30), 200u);
  ASSERT_TRUE(eventually(db, [&](std::size_t) {
    got = read_items(db);
    return got[30] == payload(30, "a");
  })) << got[30];
  EXPECT_EQ(db.count("readings").value(), 75u);
  EXPECT_EQ(read_items(db).size(), 75u);
}

}  // namespace
}  // namespace iotblocks::postgres
