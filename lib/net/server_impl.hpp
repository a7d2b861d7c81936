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

/// A connection that keeps write buffers between write phases (a steady writer
/// reuses them); asked now and then to give them back once it is quiet.
class buffer_holder {
 public:
  /// On the connection's thread. True: nothing held any more (the buffers went
  /// back); false: still writing or recently written, ask again later.
  virtual bool release_buffers_if_quiet(std::chrono::steady_clock::time_point now) = 0;

 protected:
  ~buffer_holder() = default;
};

/// One io thread's connection deadlines (handshake, keep-alive, close linger)
/// and the one timer that serves them all; and the connections of the thread
/// holding write buffers, asked every `sweep_period` to give them back (so a
/// connection idle after a burst holds none). Its thread only.
class thread_deadlines {
 public:
  static constexpr std::chrono::seconds sweep_period{1};

  explicit thread_deadlines(boost::asio::io_context& ctx) : timer_(ctx), sweep_timer_(ctx) {}
  /// Arms or moves `e`'s deadline (deadline_heap::arm) and the timer if it is earlier.
  void arm(deadline_heap::entry& e, deadline_heap::time_point due) {
    heap_.arm(e, due);
    schedule();
  }
  void cancel(deadline_heap::entry& e) noexcept { heap_.cancel(e); }
  /// Asks `h` every sweep_period until it holds nothing. Call once per holding spell.
  void holds_buffers(std::weak_ptr<buffer_holder> h) {
    holders_.push_back(std::move(h));
    if (holders_.size() > 1) return;  // the sweep is armed
    sweep_timer_.expires_after(sweep_period);
    sweep_timer_.async_wait([this](const boost::system::error_code& ec) {
      if (!ec) sweep();
    });
  }
  std::size_t holding_buffers() const noexcept { return holders_.size(); }

 private:
  void sweep() {
    const auto now = std::chrono::steady_clock::now();
    std::erase_if(holders_, [now](const std::weak_ptr<buffer_holder>& w) {
      auto h = w.lock();
      return !h || h->release_buffers_if_quiet(now);
    });
    if (holders_.empty()) return;
    sweep_timer_.expires_after(sweep_period);
    sweep_timer_.async_wait([this](const boost::system::error_code& ec) {
      if (!ec) sweep();
    });
  }

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
  std::vector<std::weak_ptr<buffer_holder>> holders_;
  boost::asio::steady_timer sweep_timer_;
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
