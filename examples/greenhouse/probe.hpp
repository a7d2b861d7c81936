// The lux probe: an MQTT 5 client over mutual TLS with its own certificate
// (net::mqtt_client on its own thread). publish() waits for the PUBACK, so when
// it returns the broker has routed the reading and the rules have seen it.
#pragma once

#include <iotblocks/core/result.hpp>
#include <iotblocks/net/mqtt_client.hpp>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <filesystem>
#include <future>
#include <string>
#include <thread>

namespace example {

/// Distinct objects: safe. Shared objects: unsafe.
class probe {
 public:
  probe(std::uint16_t port, const std::filesystem::path& dir, const std::string& client_id)
      : client_(io_.get_executor(), options(port, dir, client_id)) {}
  ~probe() {
    work_.reset();
    io_.stop();
    if (thread_.joinable()) thread_.join();
  }

  iotblocks::result<void> connect() {
    std::promise<std::error_code> done;
    client_.on_connect([&done, once = false](std::error_code ec, bool) mutable {
      if (!once) once = true, done.set_value(ec);
    });
    client_.connect();
    thread_ = std::thread([this] { io_.run(); });
    if (auto ec = done.get_future().get()) {
      return iotblocks::failure{ec, "probe connect: " + ec.message(), {}};
    }
    return {};
  }

  /// QoS 1; false when the broker refused it (PUBACK "not authorized") or on error.
  bool publish(const std::string& topic, const std::string& json) {
    std::promise<std::error_code> acked;
    client_.publish(topic, iotblocks::to_buffer(json), 1, false,
                    [&acked](std::error_code ec) { acked.set_value(ec); });
    return !acked.get_future().get();
  }

  void disconnect() {
    std::promise<void> done;
    client_.disconnect([&done](std::error_code) { done.set_value(); });
    done.get_future().wait();
  }

 private:
  static iotblocks::net::mqtt_client_options options(std::uint16_t port,
                                                     const std::filesystem::path& dir,
                                                     const std::string& client_id) {
    iotblocks::net::mqtt_client_options o;
    o.port = port;
    o.client_id = client_id;
    o.version = iotblocks::mqtt::protocol_version::v5;  // a refused PUBLISH gets a reason code
    o.tls.enabled = true;
    o.tls.ca_file = (dir / "ca.pem").string();
    o.tls.cert_file = (dir / "probe.pem").string();
    o.tls.key_file = (dir / "probe.key").string();
    return o;
  }

  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_{
      io_.get_executor()};
  iotblocks::net::mqtt_client client_;
  std::thread thread_;
};

}  // namespace example
