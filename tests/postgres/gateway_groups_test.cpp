// Two gateways sharing one PostgreSQL database for their registry, thing groups and thing
// types ("stores": {"registry": URL, "thing_groups": URL, "thing_types": URL}), driven by
// the AWS CLI: a group and a type created through A are used through B, a thing B adds to
// A's group is listed by A within the sync bound, and concurrent update-thing-group calls at
// one expectedVersion through both give one success and one VersionConflictException.
#include <iotblocks/gateway/config.hpp>
#include <iotblocks/gateway/gateway.hpp>

#include "core/json.hpp"
#include "postgres/shared_server.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <future>
#include <memory>
#include <string>

#include <sys/wait.h>
#include <unistd.h>

namespace iotblocks::postgres {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

/// The gateways' sync interval (1 s) plus room for a loaded 2-core CI machine and the time of
/// one `aws` call (about 1 s, more under load).
constexpr auto bound = 1000ms + 5000ms;

class one_gateway {
 public:
  one_gateway(const fs::path& dir, const std::string& url) {
    const std::string text = R"({"listeners":[{"type":"http","port":0}],
      "threads":2, "authorize":true,
      "aws_access_keys":[{"access_key_id":"AKIDPG","secret_access_key":"pg-secret"}],
      "data_dir":")" + dir.string() +
                             R"(",
      "stores":{"registry":")" +
                             url + R"(","thing_groups":")" + url + R"(","thing_types":")" + url +
                             R"("}})";
    auto c = gateway::parse_config(text);
    EXPECT_TRUE(c) << c.describe();
    if (!c) return;
    gw_ = std::make_unique<gateway::gateway>(*c);
    auto ok = gw_->start();
    EXPECT_TRUE(ok) << ok.describe();
    if (ok) http_ = gw_->port("http");
  }
  ~one_gateway() {
    if (gw_) gw_->stop();
  }
  bool ok() const { return http_ != 0; }

  /// `aws iot <args>` against this gateway: the exit status, the output in `out`.
  int aws(const std::string& args, std::string& out) const {
    const std::string cmd =
        "env AWS_ACCESS_KEY_ID=AKIDPG AWS_SECRET_ACCESS_KEY=pg-secret "
        "AWS_DEFAULT_REGION=us-east-1 AWS_PAGER= AWS_EC2_METADATA_DISABLED=true "
        "AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null aws iot --endpoint-url "
        "http://127.0.0.1:" +
        std::to_string(http_) + " " + args + " 2>&1";
    out.clear();
    FILE* p = ::popen(cmd.c_str(), "r");
    if (p == nullptr) return -1;
    char buf[4096];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    const int status = ::pclose(p);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  std::string aws(const std::string& args) const {
    std::string out;
    EXPECT_EQ(aws(args, out), 0) << args << ": " << out;
    return out;
  }

 private:
  std::unique_ptr<gateway::gateway> gw_;
  std::uint16_t http_ = 0;
};

struct temp_dir {
  fs::path path = fs::temp_directory_path() / ("iotblocks-pg-groups-" + std::to_string(::getpid()));
  temp_dir() {
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~temp_dir() { fs::remove_all(path); }
};

TEST(PostgresGatewayGroups, AThingAddedThroughBToAGroupMadeThroughAIsListedByA) {
  const auto url = testing::fresh_database();
  ASSERT_FALSE(url.empty());
  temp_dir dir;
  one_gateway a{dir.path / "a", url}, b{dir.path / "b", url};
  ASSERT_TRUE(a.ok() && b.ok());

  auto thing =
      std::async(std::launch::async, [&] { return a.aws("create-thing --thing-name lamp-1"); });
  auto type = std::async(std::launch::async,
                         [&] { return a.aws("create-thing-type --thing-type-name Lamp"); });
  a.aws("create-thing-group --thing-group-name floor-2");
  thing.get();
  type.get();

  // B's registry reads may be up to one sync interval old: it may not know lamp-1 at once.
  auto start = std::chrono::steady_clock::now();
  std::string out;
  while (b.aws("add-thing-to-thing-group --thing-group-name floor-2 --thing-name lamp-1", out) !=
         0) {
    ASSERT_LT(std::chrono::steady_clock::now() - start, bound) << out;
  }
  // A lists the thing; B finds A's type (both within the bound, at once).
  std::string type_out;
  auto type_found = std::async(std::launch::async, [&] {
    const auto t0 = std::chrono::steady_clock::now();
    while (b.aws("describe-thing-type --thing-type-name Lamp", type_out) != 0) {
      if (std::chrono::steady_clock::now() - t0 > bound) return false;
    }
    return true;
  });
  start = std::chrono::steady_clock::now();
  for (;;) {
    out = a.aws("list-things-in-thing-group --thing-group-name floor-2");
    auto d = json::parse(out);
    ASSERT_TRUE(d && d->IsObject() && d->HasMember("things")) << out;
    if ((*d)["things"].Size() == 1) {
      EXPECT_EQ(json::view((*d)["things"][0]), "lamp-1");
      break;
    }
    ASSERT_LT(std::chrono::steady_clock::now() - start, bound) << "A never listed lamp-1";
  }
  EXPECT_TRUE(type_found.get()) << "B never found Lamp: " << type_out;
  EXPECT_NE(type_out.find("\"thingTypeName\": \"Lamp\""), std::string::npos) << type_out;

  // One expectedVersion, two gateways, at once: one winner, one 409.
  auto update = [](const one_gateway& g, const char* description, std::string& output) {
    return g.aws(std::string("update-thing-group --thing-group-name floor-2 --expected-version 1 "
                             "--thing-group-properties thingGroupDescription=") +
                     description,
                 output);
  };
  std::string out_a, out_b;
  auto on_a = std::async(std::launch::async, [&] { return update(a, "by-a", out_a); });
  const int rc_b = update(b, "by-b", out_b);
  const int rc_a = on_a.get();
  ASSERT_NE(rc_a == 0, rc_b == 0) << out_a << out_b;
  const std::string& loser = rc_a == 0 ? out_b : out_a;
  EXPECT_NE(loser.find("VersionConflictException"), std::string::npos) << loser;
  const std::string& winner = rc_a == 0 ? out_a : out_b;
  EXPECT_NE(winner.find("\"version\": 2"), std::string::npos) << winner;
}

}  // namespace
}  // namespace iotblocks::postgres
