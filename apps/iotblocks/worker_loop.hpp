// The run loop of the workers (`rules worker`, `shadow worker`) on an external broker.
#pragma once

#include <iotblocks/net/mqtt_client.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <string_view>
#include <vector>

namespace iotblocks::cli {

/// Connects `client` and runs `io` until the worker stops. At every connect it
/// subscribes `subs` (refusals reported), and prints `line("subscribed")` the first
/// time; `line("stats")` every `stats_seconds` (0: never). On SIGINT or SIGTERM it
/// sets `stopping` (take no more messages), waits up to 10 s for `held` to reach 0
/// without blocking (the acknowledgements complete on `io`), then disconnects.
inline void run_worker_loop(boost::asio::io_context& io, net::mqtt_client& client,
                            const net::mqtt_client_options& o, const char* name,
                            const std::vector<mqtt::subscription>& subs,
                            const std::atomic<std::uint64_t>& held, bool& stopping,
                            unsigned stats_seconds,
                            const std::function<void(std::string_view)>& line) {
  namespace asio = boost::asio;
  bool announced = false;
  client.on_connect([&](std::error_code ec, bool) {
    if (ec) {
      std::fprintf(stderr, "iotblocks: %s: %s:%u: %s\n", name, o.host.c_str(), o.port,
                   ec.message().c_str());
      return;
    }
    client.subscribe(subs, [&](std::error_code e, std::vector<mqtt::reason_code> codes) {
      for (auto c : codes) {
        if (static_cast<int>(c) >= 0x80) {
          std::fprintf(stderr, "iotblocks: %s: subscription refused (0x%02x)\n", name,
                       static_cast<unsigned>(c));
        }
      }
      if (!e && !announced) {
        announced = true;
        line("subscribed");
      }
    });
  });

  asio::signal_set signals{io, SIGINT, SIGTERM};
  asio::steady_timer drain{io};
  std::chrono::steady_clock::time_point drain_limit;
  std::function<void()> wait_drained = [&] {
    if (held.load(std::memory_order_acquire) != 0 &&
        std::chrono::steady_clock::now() < drain_limit) {
      drain.expires_after(std::chrono::milliseconds(20));
      drain.async_wait([&](boost::system::error_code) { wait_drained(); });
      return;
    }
    client.disconnect([&](std::error_code) { io.stop(); });
  };
  signals.async_wait([&](boost::system::error_code, int) {
    stopping = true;
    drain_limit = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    wait_drained();
  });
  asio::steady_timer stats{io};
  std::function<void()> arm = [&] {
    if (stats_seconds == 0) return;
    stats.expires_after(std::chrono::seconds(stats_seconds));
    stats.async_wait([&](boost::system::error_code e) {
      if (e || stopping) return;
      line("stats");
      arm();
    });
  };
  arm();
  client.connect();
  io.run();
}

}  // namespace iotblocks::cli
