// Two gateways sharing one PostgreSQL database for their registry and policies ("stores":
// {"registry": URL, "policies": URL}): a CA, a device certificate and a policy registered
// through A let the device connect over mutual TLS to B, a revocation through A is refused
// by B within the sync bound, concurrent CreateThing calls give one 409, and a gateway
// killed with SIGKILL mid-write loses nothing it acknowledged.
#include <iotblocks/gateway/config.hpp>
#include <iotblocks/gateway/gateway.hpp>
#include <iotblocks/net/http_client.hpp>
#include <iotblocks/policy/store.hpp>
#include <iotblocks/postgres/policy_persistence.hpp>
#include <iotblocks/postgres/registry_store.hpp>
#include <iotblocks/registry/registry.hpp>
#include <iotblocks/x509/issue.hpp>

#include "core/json.hpp"
#include "postgres/shared_server.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include <sys/wait.h>
#include <unistd.h>

namespace iotblocks::postgres {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;
using clock_type = std::chrono::steady_clock;

/// The bound the gateways keep (registry::options / policy::store_options sync_interval)
/// plus room for a loaded 2-core CI machine.
constexpr auto sync_bound = 1000ms;
constexpr auto slack = 2000ms;

void write_file(const fs::path& p, const std::string& text) {
  std::ofstream(p, std::ios::binary | std::ios::trunc) << text;
}

std::string json_string(std::string_view s) {
  std::string out = "\"";
  for (const char ch : s) out += ch == '\n' ? std::string("\\n") : std::string(1, ch);
  return out + "\"";
}

std::string field(const std::string& text, std::string_view key) {
  auto d = json::parse(text);
  if (!d) return {};
  auto v = json::get_string(*d, key);
  return v ? std::string(*v) : std::string{};
}

/// Files shared by both gateways and the device: the server certificate and its CA.
struct tls_files {
  fs::path dir;
  explicit tls_files(const std::string& name)
      : dir(fs::temp_directory_path() /
            ("iotblocks-pg-reg-" + std::to_string(::getpid()) + "-" + name)) {
    fs::remove_all(dir);
    fs::create_directories(dir);
    auto ca_key = x509::private_key::generate(x509::key_algorithm::p256).value();
    auto ca = x509::issue({.subject = {{{"CN", "Test Server CA"}}}, .ca = true}, ca_key).value();
    auto key = x509::private_key::generate(x509::key_algorithm::p256).value();
    auto cert = x509::issue({.subject = {{{"CN", "localhost"}}},
                             .server_auth = true,
                             .dns_names = {"localhost"},
                             .ip_addresses = {"127.0.0.1"}},
                            key, &ca, &ca_key)
                    .value();
    write_file(dir / "server-ca.pem", ca.pem());
    write_file(dir / "server.pem", cert.pem() + ca.pem());
    write_file(dir / "server.key", key.pem());
  }
  ~tls_files() { fs::remove_all(dir); }
  std::string file(const std::string& name) const { return (dir / name).string(); }
};

std::string gateway_config(const tls_files& f, const std::string& name, const std::string& url) {
  return R"({"listeners":[{"type":"http","port":0},
      {"type":"mqtts","port":0,"tls":{"cert_file":")" +
         f.file("server.pem") + R"(","key_file":")" + f.file("server.key") +
         R"(","request_client_cert":true}}],
    "threads":2, "admin_token":"t0k3n", "authorize":true,
    "aws_access_keys":[{"access_key_id":"AKIDPG","secret_access_key":"pg-secret"}],
    "data_dir":")" +
         (f.dir / ("data-" + name)).string() + R"(",
    "stores":{"registry":")" +
         url + R"(","policies":")" + url + R"("}})";
}

class one_gateway {
 public:
  one_gateway(const tls_files& f, const std::string& name, const std::string& url) {
    auto c = gateway::parse_config(gateway_config(f, name, url));
    EXPECT_TRUE(c) << c.describe();
    if (!c) return;
    gw_ = std::make_unique<gateway::gateway>(*c);
    auto ok = gw_->start();
    EXPECT_TRUE(ok) << ok.describe();
    if (!ok) return;
    http_ = gw_->port("http");
    mqtts_ = gw_->port("mqtts");
  }
  ~one_gateway() {
    if (gw_) gw_->stop();
  }
  bool ok() const { return http_ != 0 && mqtts_ != 0; }
  std::uint16_t http_port() const { return http_; }

  net::http_response admin(const std::string& method, const std::string& target,
                           const std::string& body = "") const {
    net::http_request r;
    r.method = method;
    r.url = "http://127.0.0.1:" + std::to_string(http_) + target;
    r.body = body;
    r.headers.emplace_back("Authorization", "Bearer t0k3n");
    return net::http_client{}.send(r);
  }
  /// Connects over mutual TLS as `client_id` with the device files and publishes one QoS 1
  /// message; true when the gateway accepted both.
  bool device_publishes(const tls_files& f, const std::string& client_id) const {
    const std::string cmd = "mosquitto_pub -h 127.0.0.1 -p " + std::to_string(mqtts_) +
                            " --cafile " + f.file("server-ca.pem") + " --cert " +
                            f.file("device.pem") + " --key " + f.file("device.key") + " -i " +
                            client_id + " -q 1 -t dev/" + client_id + " -m x >/dev/null 2>&1";
    return std::system(cmd.c_str()) == 0;
  }

 private:
  std::unique_ptr<gateway::gateway> gw_;
  std::uint16_t http_ = 0, mqtts_ = 0;
};

/// Calls `probe` until it returns `want`; the time that took, or nullopt past `limit`.
template <class F>
std::optional<clock_type::duration> until(F&& probe, bool want, clock_type::duration limit) {
  const auto start = clock_type::now();
  while (clock_type::now() - start < limit) {
    if (probe() == want) return clock_type::now() - start;
  }
  return std::nullopt;
}

constexpr const char* device_policy = R"({"Version":"2012-10-17","Statement":[
  {"Effect":"Allow","Action":"iot:Connect","Resource":"arn:aws:iot:*:*:client/dev-1"},
  {"Effect":"Allow","Action":"iot:Publish","Resource":"arn:aws:iot:*:*:topic/dev/*"}]})";

TEST(PostgresGatewayRegistry, RegisteredThroughAConnectsToBAndRevokedThroughAIsRefusedByB) {
  const auto url = testing::fresh_database();
  ASSERT_FALSE(url.empty());
  tls_files f{"share"};
  one_gateway a{f, "a", url}, b{f, "b", url};
  ASSERT_TRUE(a.ok() && b.ok());

  // The operator's CA, registered through A with proof of possession of its key.
  auto ca_key = x509::private_key::generate(x509::key_algorithm::p256).value();
  auto ca = x509::issue({.subject = {{{"CN", "Plant CA"}}}, .ca = true}, ca_key).value();
  const auto code = field(a.admin("GET", "/admin/registration-code").body, "registrationCode");
  ASSERT_EQ(code.size(), 64u);
  EXPECT_EQ(field(b.admin("GET", "/admin/registration-code").body, "registrationCode"), code);
  auto vkey = x509::private_key::generate(x509::key_algorithm::p256).value();
  auto verification = x509::issue({.subject = {{{"CN", code}}}}, vkey, &ca, &ca_key).value();
  auto dkey = x509::private_key::generate(x509::key_algorithm::p256).value();
  auto device = x509::issue({.subject = {{{"CN", "dev-1"}}}}, dkey, &ca, &ca_key).value();
  write_file(f.dir / "device.pem", device.pem());
  write_file(f.dir / "device.key", dkey.pem());

  EXPECT_FALSE(b.device_publishes(f, "dev-1"));  // unknown everywhere so far
  auto r = a.admin("POST", "/admin/cas",
                   R"({"caPem":)" + json_string(ca.pem()) + R"(,"verificationPem":)" +
                       json_string(verification.pem()) + R"(,"status":"ACTIVE"})");
  ASSERT_EQ(r.status, 200u) << r.body;
  r = a.admin("POST", "/admin/certificates",
              R"({"certificatePem":)" + json_string(device.pem()) + R"(,"status":"ACTIVE"})");
  ASSERT_EQ(r.status, 200u) << r.body;
  const std::string id = field(r.body, "certificateId");
  ASSERT_EQ(id, device.id());
  ASSERT_EQ(a.admin("PUT", "/admin/policies/DevicePolicy", device_policy).status, 200u);
  r = a.admin("POST", "/admin/policies/DevicePolicy/attach", R"({"principal":")" + id + "\"}");
  ASSERT_EQ(r.status, 200u) << r.body;

  // B accepts the device within the bound, under A's policy.
  auto took = until([&] { return b.device_publishes(f, "dev-1"); }, true, sync_bound + slack);
  ASSERT_TRUE(took) << "B never accepted the certificate registered through A";
  RecordProperty(
      "accepted_by_b_after_ms",
      static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(*took).count()));
  EXPECT_FALSE(b.device_publishes(f, "intruder"));  // iot:Connect only as client dev-1
  EXPECT_TRUE(b.device_publishes(f, "dev-1"));

  // Revoked through A: refused by B within the bound.
  r = a.admin("PUT", "/admin/certificates/" + id, R"({"status":"REVOKED"})");
  ASSERT_EQ(r.status, 200u) << r.body;
  EXPECT_FALSE(a.device_publishes(f, "dev-1"));
  took = until([&] { return b.device_publishes(f, "dev-1"); }, false, sync_bound + slack);
  ASSERT_TRUE(took) << "B still accepts the certificate revoked through A";
  RecordProperty(
      "refused_by_b_after_ms",
      static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(*took).count()));
  EXPECT_FALSE(b.device_publishes(f, "dev-1"));
}

int aws_create_thing(std::uint16_t port, const std::string& thing, const std::string& site,
                     std::string& output) {
  const std::string cmd =
      "env AWS_ACCESS_KEY_ID=AKIDPG AWS_SECRET_ACCESS_KEY=pg-secret AWS_DEFAULT_REGION=us-east-1 "
      "AWS_PAGER= AWS_EC2_METADATA_DISABLED=true AWS_CONFIG_FILE=/dev/null "
      "AWS_SHARED_CREDENTIALS_FILE=/dev/null aws iot create-thing --endpoint-url "
      "http://127.0.0.1:" +
      std::to_string(port) + " --thing-name " + thing +
      " --attribute-payload '{\"attributes\":{\"site\":\"" + site + "\"}}' 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return -1;
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) output.append(buf, n);
  const int status = ::pclose(p);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(PostgresGatewayRegistry, ConcurrentCreateThingThroughBothGivesOneSuccessAndOne409) {
  const auto url = testing::fresh_database();
  ASSERT_FALSE(url.empty());
  tls_files f{"race"};
  one_gateway a{f, "a", url}, b{f, "b", url};
  ASSERT_TRUE(a.ok() && b.ok());
  for (const std::string thing : {"boiler-1"}) {
    std::string out_a, out_b;
    auto on_a = std::async(std::launch::async,
                           [&] { return aws_create_thing(a.http_port(), thing, "north", out_a); });
    const int rc_b = aws_create_thing(b.http_port(), thing, "south", out_b);
    const int rc_a = on_a.get();
    EXPECT_NE(rc_a == 0, rc_b == 0) << out_a << out_b;  // exactly one success
    const std::string& loser = rc_a == 0 ? out_b : out_a;
    EXPECT_NE(loser.find("ResourceAlreadyExistsException"), std::string::npos) << loser;
    // Both gateways show the winner's thing, B within the sync bound.
    const std::string winner = rc_a == 0 ? "north" : "south";
    for (const one_gateway* g : {&a, &b}) {
      const auto shown = until(
          [&] {
            return g->admin("GET", "/admin/things/" + thing).body.find(winner) != std::string::npos;
          },
          true, sync_bound + slack);
      EXPECT_TRUE(shown) << (g == &a ? "A" : "B") << " does not show " << winner;
    }
  }
}

TEST(PostgresGatewayRegistry, AGatewayKilledMidWriteLosesNothingItAcknowledged) {
  const auto url = testing::fresh_database();
  ASSERT_FALSE(url.empty());
  tls_files f{"kill9"};
  int ports[2];
  ASSERT_EQ(::pipe(ports), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {  // the gateway process: reports its HTTP port, then serves until killed
    ::close(ports[0]);
    auto c = gateway::parse_config(gateway_config(f, "victim", url));
    if (!c) ::_exit(1);
    gateway::gateway gw{*c};
    if (!gw.start()) ::_exit(2);
    const std::uint16_t port = gw.port("http");
    if (::write(ports[1], &port, sizeof port) != sizeof port) ::_exit(3);
    for (;;) ::pause();
  }
  ::close(ports[1]);
  std::uint16_t port = 0;
  const auto got = ::read(ports[0], &port, sizeof port);
  ::close(ports[0]);
  ASSERT_EQ(got, static_cast<ssize_t>(sizeof port)) << "the gateway did not start";

  // Two writers (things, policies) until the gateway dies under them.
  std::mutex mu;
  std::set<std::string> things, policies;
  auto writer = [&](bool thing) {
    for (int i = 0;; ++i) {
      const std::string name = (thing ? "k9-thing-" : "K9Policy") + std::to_string(i);
      net::http_request r;
      r.method = "PUT";
      r.url = "http://127.0.0.1:" + std::to_string(port) +
              (thing ? "/admin/things/" : "/admin/policies/") + name;
      r.body = thing ? std::string(R"({"attributes":{"n":"1"}})") : std::string(device_policy);
      r.headers.emplace_back("Authorization", "Bearer t0k3n");
      std::error_code ec;
      const auto res = net::http_client{}.send(r, ec);
      if (ec || res.status != 200) return;  // the gateway is gone
      std::lock_guard l{mu};
      (thing ? things : policies).insert(name);
    }
  };
  std::thread t1(writer, true), t2(writer, false);
  for (;;) {
    std::this_thread::sleep_for(5ms);  // a point in the stream; the writers keep writing
    std::lock_guard l{mu};
    if (things.size() >= 20 && policies.size() >= 20) break;
  }
  ::kill(child, SIGKILL);
  t1.join();
  t2.join();
  ::waitpid(child, nullptr, 0);

  auto rs = registry_store::open(url);
  ASSERT_TRUE(rs) << rs.describe();
  auto reg = registry::registry::open(std::unique_ptr<registry::store>(std::move(*rs))).value();
  for (const auto& name : things) EXPECT_TRUE(reg.describe_thing(name)) << name;
  auto pp = policy_persistence::open(url);
  ASSERT_TRUE(pp) << pp.describe();
  auto store = policy::store::open(std::unique_ptr<policy::persistence>(std::move(*pp))).value();
  for (const auto& name : policies) EXPECT_TRUE(store.get_policy(name)) << name;
}

}  // namespace
}  // namespace iotblocks::postgres
