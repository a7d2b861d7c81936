// A blocking face on net::mqtt_client for a command-line tool: connect over
// mutual TLS with a thing's certificate, publish QoS 1 and wait for the PUBACK,
// subscribe and wait for the SUBACK, take messages from a queue with a deadline.
#pragma once

#include <iotblocks/core/result.hpp>
#include <iotblocks/net/mqtt_client.hpp>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <future>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>

namespace elf {

struct received {
  std::string topic;
  std::string payload;
};

/// Distinct objects: safe. Shared objects: unsafe.
class mqtt_session {
 public:
  /// How long publish() and subscribe() wait for the broker's answer.
  static constexpr std::chrono::seconds reply_timeout{30};

  explicit mqtt_session(iotblocks::net::mqtt_client_options o)
      : client_(io_.get_executor(), std::move(o)) {
    client_.on_message([this](const iotblocks::mqtt::publish_view& p) {
      std::lock_guard lock(mutex_);
      inbox_.push_back({std::string(p.topic), std::string(iotblocks::as_string_view(p.payload))});
      arrived_.notify_all();
    });
  }
  ~mqtt_session() {
    work_.reset();
    io_.stop();
    if (thread_.joinable()) thread_.join();
  }

  iotblocks::result<void> connect() {
    auto done = std::make_shared<std::promise<std::error_code>>();
    client_.on_connect([done, once = false](std::error_code ec, bool) mutable {
      if (!once) once = true, done->set_value(ec);
    });
    client_.connect();
    thread_ = std::thread([this] { io_.run(); });
    if (auto ec = done->get_future().get()) {
      return iotblocks::failure{ec, "connect: " + ec.message(), {}};
    }
    return {};
  }

  /// QoS 1; an error when the broker refused it or the connection failed.
  iotblocks::result<void> publish(const std::string& topic, const std::string& payload) {
    auto acked = std::make_shared<std::promise<std::error_code>>();
    auto f = acked->get_future();
    client_.publish(topic, iotblocks::to_buffer(payload), 1, false,
                    [acked](std::error_code ec) { acked->set_value(ec); });
    if (f.wait_for(reply_timeout) != std::future_status::ready) {
      return iotblocks::failure{
          iotblocks::net::error::timeout, "publish " + topic + ": no PUBACK", {}};
    }
    if (auto ec = f.get()) {
      const bool refused = ec == iotblocks::net::error::unexpected_reply;
      return iotblocks::failure{
          ec, "publish " + topic + ": " + (refused ? "refused by the broker" : ec.message()), {}};
    }
    return {};
  }

  /// QoS 1; an error when the broker refused the filter.
  iotblocks::result<void> subscribe(const std::string& filter) {
    auto acked = std::make_shared<std::promise<bool>>();
    auto f = acked->get_future();
    client_.subscribe({{filter, {.qos = 1}}},
                      [acked](std::error_code ec, std::vector<iotblocks::mqtt::reason_code> rc) {
                        acked->set_value(!ec && rc.size() == 1 && static_cast<int>(rc[0]) <= 2);
                      });
    if (f.wait_for(reply_timeout) != std::future_status::ready || !f.get()) {
      return iotblocks::failure{
          iotblocks::net::error::unexpected_reply, "subscribe " + filter + ": refused", {}};
    }
    return {};
  }

  /// The next message, or nothing when `timeout` passes first.
  std::optional<received> next(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    if (!arrived_.wait_for(lock, timeout, [this] { return !inbox_.empty(); })) return {};
    auto m = std::move(inbox_.front());
    inbox_.pop_front();
    return m;
  }

  void disconnect() {
    std::promise<void> done;
    client_.disconnect([&done](std::error_code) { done.set_value(); });
    done.get_future().wait_for(std::chrono::seconds(5));
  }

 private:
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_{
      io_.get_executor()};
  iotblocks::net::mqtt_client client_;
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable arrived_;
  std::deque<received> inbox_;
};

}  // namespace elf
