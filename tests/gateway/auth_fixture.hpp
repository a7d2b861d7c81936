// Shared by the security tests: a gateway with an mqtts listener (server
// certificate made by the test, client certificates requested), plain MQTT and
// HTTP on free ports, real SQLite files, and helpers for mosquitto clients and
// the admin API.
#pragma once

#include <iotblocks/gateway/gateway.hpp>
#include <iotblocks/net/http_client.hpp>
#include <iotblocks/x509/issue.hpp>

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <string>
#include <thread>

#include "core/json.hpp"

namespace iotblocks::gateway::testing {

using namespace std::chrono_literals;

inline std::string run(const std::string& command) {
  std::string out;
  if (FILE* p = ::popen((command + " 2>&1").c_str(), "r")) {
    char buf[4096];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    ::pclose(p);
  }
  return out;
}

inline void write_file(const std::filesystem::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << text;
}

inline std::string quote(const std::string& s) { return "'" + s + "'"; }

/// A CA (key + certificate) made by a test.
struct test_ca {
  x509::private_key key;
  x509::certificate cert;
  static test_ca make(const std::string& cn) {
    auto key = x509::private_key::generate(x509::key_algorithm::p256).value();
    auto cert = x509::issue({.subject = {{{"CN", cn}}}, .ca = true}, key).value();
    return {key, cert};
  }
  /// A leaf signed by this CA.
  std::pair<x509::certificate, x509::private_key> issue(x509::certificate_request r) const {
    auto k = x509::private_key::generate(x509::key_algorithm::p256).value();
    auto c = x509::issue(r, k, &cert, &key).value();
    return {c, k};
  }
};

class SecureGateway : public ::testing::Test {
 protected:
  void start(const std::string& extra = "") {
    dir_ = std::filesystem::temp_directory_path() /
           ("iotblocks-sec-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_ / "files");
    auto server_ca = test_ca::make("Test Server CA");
    auto [server, server_key] = server_ca.issue({.subject = {{{"CN", "localhost"}}},
                                                 .server_auth = true,
                                                 .dns_names = {"localhost"},
                                                 .ip_addresses = {"127.0.0.1"}});
    write_file(file("server-ca.pem"), server_ca.cert.pem());
    write_file(file("server.pem"), server.pem() + server_ca.cert.pem());  // full chain
    write_file(file("server.key"), server_key.pem());
    const std::string text =
        R"({"listeners":[{"type":"mqtt","port":0},{"type":"http","port":0},
        {"type":"mqtts","port":0,"tls":{"cert_file":")" +
        file("server.pem") + R"(","key_file":")" + file("server.key") +
        R"(","request_client_cert":true}}],
      "threads":2, "admin_token":"t0k3n", "data_dir":")" +
        (dir_ / "data").string() + "\"" + extra + "}";
    config_text_ = text;
    launch();
  }
  /// Stops the gateway and starts a new one on the same config and data directory.
  void restart() {
    gw_->stop();
    gw_.reset();
    launch();
  }
  void launch() {
    auto c = parse_config(config_text_);
    ASSERT_TRUE(c) << c.describe();
    gw_ = std::make_unique<gateway>(*c);
    auto ok = gw_->start();
    ASSERT_TRUE(ok) << ok.describe();
    mqtt_ = gw_->port("mqtt");
    mqtts_ = gw_->port("mqtts");
    http_ = gw_->port("http");
    ASSERT_NE(mqtts_, 0);
  }
  void TearDown() override {
    if (gw_) gw_->stop();
    std::filesystem::remove_all(dir_);
  }

  std::string file(const std::string& name) const { return (dir_ / "files" / name).string(); }

  /// mosquitto_pub/sub over TLS with a client certificate (files under files/).
  std::string tls_client(const std::string& tool, const std::string& cert,
                         const std::string& args) const {
    return tool + " -h 127.0.0.1 -p " + std::to_string(mqtts_) + " --cafile " +
           file("server-ca.pem") + " --cert " + file(cert + ".pem") + " --key " +
           file(cert + ".key") + " " + args;
  }
  /// mosquitto_pub/sub over plain TCP.
  std::string tcp_client(const std::string& tool, const std::string& args) const {
    return tool + " -h 127.0.0.1 -p " + std::to_string(mqtt_) + " " + args;
  }

  net::http_response http(const std::string& method, const std::string& target,
                          const std::string& body = "", const std::string& token = "t0k3n") const {
    net::http_request r;
    r.method = method;
    r.url = "http://127.0.0.1:" + std::to_string(http_) + target;
    r.body = body;
    if (!token.empty()) r.headers.emplace_back("Authorization", "Bearer " + token);
    return net::http_client{}.send(r);
  }
  /// A string member of a JSON reply, or "".
  static std::string field(const std::string& json_text, std::string_view key) {
    auto d = json::parse(json_text);
    if (!d) return {};
    auto v = json::get_string(*d, key);
    return v ? std::string(*v) : std::string{};
  }

  /// Starts `sub` (a full command), then calls `send` until it exits; returns its output.
  static std::string until_received(const std::string& sub, const std::function<void()>& send) {
    auto f = std::async(std::launch::async, [&] { return run(sub); });
    for (int i = 0; i < 100; ++i) {
      if (f.wait_for(100ms) == std::future_status::ready) break;
      send();
    }
    return f.get();
  }

  std::filesystem::path dir_;
  std::string config_text_;
  std::unique_ptr<gateway> gw_;
  std::uint16_t mqtt_ = 0, mqtts_ = 0, http_ = 0;
};

}  // namespace iotblocks::gateway::testing
