// The gateway's running bridges: net::bridge connections on one io_context
// thread, fed by the broker's accepted messages and publishing into it.
#include "gateway/bridges.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <fmt/format.h>

#include <future>
#include <thread>

namespace iotblocks::gateway {

namespace asio = boost::asio;

struct bridge_set::impl {
  impl(broker::broker& b, const std::vector<net::bridge_options>& options) : mqtt(b) {
    for (const auto& o : options) {
      auto mark = marker(o.name);
      markers.push_back(mark);
      // Messages from upstream (and the local state notifications) enter the broker
      // marked, so offer() never sends them back over the same bridge.
      bridges.push_back(std::make_unique<net::bridge>(io.get_executor(), o,
                                                      [this, mark](net::bridged_message in) {
                                                        broker::message m;
                                                        m.topic = std::move(in.topic);
                                                        m.payload = std::move(in.payload);
                                                        m.qos = in.qos;
                                                        m.retain = in.retain;
                                                        m.properties = std::move(in.properties);
                                                        m.publisher = mark;
                                                        mqtt.publish(m);
                                                      }));
    }
  }

  broker::broker& mqtt;
  asio::io_context io{1};
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  std::thread thread;
  std::vector<std::string> markers;
  std::vector<std::unique_ptr<net::bridge>> bridges;
};

bridge_set::bridge_set(broker::broker& b, const std::vector<net::bridge_options>& options)
    : impl_(std::make_unique<impl>(b, options)) {}

bridge_set::~bridge_set() {
  stop();
  impl_->bridges.clear();  // their clients' clean-up runs on the (stopped) io_context
}

void bridge_set::start() {
  auto& i = *impl_;
  if (i.thread.joinable()) return;
  i.work.emplace(i.io.get_executor());
  for (auto& b : i.bridges) b->start();
  i.thread = std::thread([&i] { i.io.run(); });
}

void bridge_set::stop() {
  auto& i = *impl_;
  if (!i.thread.joinable()) return;
  // Clean DISCONNECTs, with a bounded wait for an upstream that does not answer.
  auto left = std::make_shared<std::atomic<std::size_t>>(i.bridges.size());
  auto all = std::make_shared<std::promise<void>>();
  auto done = all->get_future();
  if (i.bridges.empty()) all->set_value();
  for (auto& b : i.bridges) {
    b->stop([left, all] {
      if (left->fetch_sub(1) == 1) all->set_value();
    });
  }
  done.wait_for(std::chrono::seconds(2));
  i.work.reset();
  i.io.stop();
  i.thread.join();
}

void bridge_set::offer(const broker::message& m) {
  auto& i = *impl_;
  for (std::size_t k = 0; k < i.bridges.size(); ++k) {
    if (m.publisher == i.markers[k]) continue;  // came in over this bridge
    i.bridges[k]->offer(m.topic, m.payload, m.qos, m.retain, &m.properties);
  }
}

std::string bridge_set::metrics_text() const {
  std::string out;
  const auto& i = *impl_;
  if (i.bridges.empty()) return out;
  struct metric {
    const char* name;
    const char* type;
    std::uint64_t net::bridge_stats::*field;
  };
  static constexpr metric metrics[] = {
      {"iotblocks_bridge_exported_total", "counter", &net::bridge_stats::exported},
      {"iotblocks_bridge_imported_total", "counter", &net::bridge_stats::imported},
      {"iotblocks_bridge_pending", "gauge", &net::bridge_stats::pending},
      {"iotblocks_bridge_dropped_queue_full_total", "counter", &net::bridge_stats::dropped_full},
      {"iotblocks_bridge_dropped_refused_total", "counter", &net::bridge_stats::dropped_failed},
      {"iotblocks_bridge_dropped_echo_total", "counter", &net::bridge_stats::dropped_echo},
      {"iotblocks_bridge_connects_total", "counter", &net::bridge_stats::connects},
      {"iotblocks_bridge_connect_failures_total", "counter", &net::bridge_stats::connect_failures},
  };
  std::vector<net::bridge_stats> stats;
  for (const auto& b : i.bridges) stats.push_back(b->stats());
  for (const auto& m : metrics) {
    out += fmt::format("# TYPE {} {}\n", m.name, m.type);
    for (std::size_t k = 0; k < stats.size(); ++k)
      out += fmt::format("{}{{bridge=\"{}\"}} {}\n", m.name, i.bridges[k]->options().name,
                         stats[k].*m.field);
  }
  out += "# TYPE iotblocks_bridge_connected gauge\n";
  for (std::size_t k = 0; k < stats.size(); ++k)
    out += fmt::format("iotblocks_bridge_connected{{bridge=\"{}\"}} {}\n",
                       i.bridges[k]->options().name, stats[k].connected ? 1 : 0);
  return out;
}

}  // namespace iotblocks::gateway
