// Private: the state behind net::server, shared with the connection template.
#pragma once

#include <iotblocks/net/server.hpp>

#include "net/deadline_heap.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

namespace iotblocks::net::detail {

struct listener {
  listener_options options;
  boost::asio::ip::tcp::acceptor acceptor;
  std::shared_ptr<boost::asio::ssl::context> ssl;
};

inline void apply_limits(mqtt::decoder& d, const mqtt::decoder_limits& l) {
  d.max_packet_size(l.max_packet_size)
      .max_topic_length(l.max_topic_length)
      .max_topic_levels(l.max_topic_levels)
      .max_properties(l.max_properties)
      .max_user_properties(l.max_user_properties)
      .max_subscriptions(l.max_subscriptions)
      .topic_alias_maximum(l.topic_alias_maximum)
      .validate_payload_utf8(l.validate_payload_utf8);
}

/// One io thread's connection deadlines (handshake, keep-alive, close linger)
/// and the one timer that serves them all. Its thread only.
class thread_deadlines {
 public:
  explicit thread_deadlines(boost::asio::io_context& ctx) : timer_(ctx) {}
  /// Arms or moves `e`'s deadline (deadline_heap::arm) and the timer if it is earlier.
  void arm(deadline_heap::entry& e, deadline_heap::time_point due) {
    heap_.arm(e, due);
    schedule();
  }
  void cancel(deadline_heap::entry& e) noexcept { heap_.cancel(e); }

 private:
  void schedule() {
    const auto next = heap_.next();
    if (next >= timer_at_) return;
    timer_at_ = next;
    timer_.expires_at(next);  // cancels the wait for a later time
    timer_.async_wait([this](const boost::system::error_code& ec) {
      if (ec) return;  // re-armed (a newer wait is pending) or stopped
      timer_at_ = deadline_heap::time_point::max();
      heap_.expire(deadline_heap::clock::now());
      schedule();
    });
  }

  deadline_heap heap_;
  boost::asio::steady_timer timer_;
  deadline_heap::time_point timer_at_ = deadline_heap::time_point::max();
};

}  // namespace iotblocks::net::detail

namespace iotblocks::net {

struct server::impl {
  using work_guard = boost::asio::executor_work_guard<boost::asio::io_context::executor_type>;

  explicit impl(server_options o);

  void register_connection(const connection_ptr& c);
  void unregister_connection(std::uint64_t id);

  server_options options;
  std::vector<std::unique_ptr<boost::asio::io_context>> contexts;
  /// One per context, same index. Destroyed before the contexts: connections the
  /// contexts destroy then (server teardown) leave no dangling entry in use.
  std::vector<std::unique_ptr<detail::thread_deadlines>> deadlines;
  std::vector<work_guard> guards;
  std::vector<std::thread> threads;
  std::deque<detail::listener> listeners;
  std::deque<boost::asio::steady_timer> timers;
  handler* callbacks = nullptr;
  std::atomic<std::uint64_t> next_id{1};
  std::atomic<std::size_t> next_context{0};
  struct {
    std::atomic<std::uint64_t> accepted{0}, rejected{0}, handshake_failures{0}, bytes_in{0},
        bytes_out{0};
  } stats;
  /// Accepted and not yet shut down (handshakes included): what max_connections counts.
  std::atomic<std::size_t> admitted{0};
  std::mutex mutex;  // guards `open`
  std::unordered_map<std::uint64_t, std::weak_ptr<connection>> open;
  double tokens = 0;
  std::chrono::steady_clock::time_point last_refill = std::chrono::steady_clock::now();
  bool running = false;
};

}  // namespace iotblocks::net
