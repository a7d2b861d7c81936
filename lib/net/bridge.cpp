// net::bridge: the upstream connection of a mosquitto-style bridge on top of
// mqtt_client (which queues while down and reconnects with backoff + jitter).
#include <iotblocks/net/bridge.hpp>

#include <boost/asio/dispatch.hpp>

#include <atomic>
#include <deque>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <unordered_map>

namespace iotblocks::net {

namespace asio = boost::asio;

namespace {

// FNV-1a over topic, a separator and the payload: the echo fingerprint.
std::uint64_t fingerprint(std::string_view topic, bytes_view payload) noexcept {
  std::uint64_t h = 1469598103934665603ull;
  auto mix = [&h](unsigned char c) {
    h ^= c;
    h *= 1099511628211ull;
  };
  for (char c : topic) mix(static_cast<unsigned char>(c));
  mix(0);
  for (std::byte b : payload) mix(static_cast<unsigned char>(b));
  return h;
}

mqtt::properties clean_properties(const mqtt::properties_view& in) {
  mqtt::properties p{in};
  p.remove(mqtt::property_id::topic_alias);
  p.remove(mqtt::property_id::subscription_identifier);
  return p;
}

}  // namespace

struct bridge::impl : std::enable_shared_from_this<impl> {
  using clock = std::chrono::steady_clock;

  impl(asio::any_io_executor ex, bridge_options o, sink local)
      : options(std::move(o)), local_sink(std::move(local)) {
    if (auto ok = validate_options(options); !ok)
      throw std::invalid_argument(std::string{ok.fail().message.view()});
    if (options.client.client_id.empty())
      options.client.client_id = default_bridge_client_id(options.name);
    if (options.notification_topic.empty())
      options.notification_topic = "$SYS/broker/connection/" + options.client.client_id + "/state";
    options.client.reconnect = true;
    if (options.notifications && !options.notifications_local_only) {
      mqtt::will w;
      w.topic = options.notification_topic;
      w.payload = to_buffer("0");
      w.qos = 1;
      w.retain = true;
      options.client.will = std::move(w);
    }
    has_in = false;
    for (const auto& t : options.topics) has_in |= t.direction != bridge_direction::out;
    client = std::make_unique<mqtt_client>(ex, options.client);
  }

  bridge_options options;
  sink local_sink;
  std::unique_ptr<mqtt_client> client;
  bool has_in = false;

  std::atomic<std::uint64_t> exported{0}, imported{0}, pending{0}, dropped_full{0},
      dropped_failed{0}, dropped_echo{0}, unmapped{0}, connects{0}, connect_failures{0};
  std::atomic<bool> up{false};

  // 3.1.1 echo suppression: fingerprints of exported messages an `in` topic would
  // bring back, oldest first.
  std::mutex echo_mutex;
  std::unordered_multimap<std::uint64_t, clock::time_point> echoes;
  std::deque<std::pair<std::uint64_t, clock::time_point>> echo_order;
  clock::time_point connected_at{};

  bool echo_suppression() const noexcept {
    return has_in && options.client.version != mqtt::protocol_version::v5 &&
           options.echo_window.count() > 0;
  }

  void expire_echoes(clock::time_point now) {
    const auto window = options.echo_window;
    while (!echo_order.empty()) {
      const auto [h, at] = echo_order.front();
      const bool old = now - std::max(at, connected_at) > window;
      if (!old && echo_order.size() <= options.max_echo_entries) break;
      echo_order.pop_front();
      auto range = echoes.equal_range(h);
      for (auto it = range.first; it != range.second; ++it) {
        if (it->second == at) {
          echoes.erase(it);
          break;
        }
      }
    }
  }

  void remember_echo(std::string_view remote_topic, bytes_view payload) {
    if (!map_in(options.topics, remote_topic, 0)) return;  // cannot come back
    const auto now = clock::now();
    const auto h = fingerprint(remote_topic, payload);
    std::lock_guard lock(echo_mutex);
    echoes.emplace(h, now);
    echo_order.emplace_back(h, now);
    expire_echoes(now);
  }

  bool consume_echo(std::string_view remote_topic, bytes_view payload) {
    const auto now = clock::now();
    const auto h = fingerprint(remote_topic, payload);
    std::lock_guard lock(echo_mutex);
    expire_echoes(now);
    auto it = echoes.find(h);
    if (it == echoes.end()) return false;
    echoes.erase(it);  // the deque entry expires later without a match
    return true;
  }

  void notify_local(bool state) {
    if (!options.notifications || !local_sink) return;
    bridged_message m;
    m.topic = options.notification_topic;
    m.payload = to_buffer(state ? "1" : "0");
    m.qos = 1;
    m.retain = true;
    local_sink(std::move(m));
  }

  void on_connect(std::error_code ec) {
    if (ec) {
      connect_failures.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    connects.fetch_add(1, std::memory_order_relaxed);
    up = true;
    {
      std::lock_guard lock(echo_mutex);
      connected_at = clock::now();
    }
    std::vector<mqtt::subscription> subs;
    const bool v5 = options.client.version == mqtt::protocol_version::v5;
    for (const auto& t : options.topics) {
      if (t.direction == bridge_direction::out) continue;
      mqtt::subscription s;
      s.filter = remote_filter(t);
      s.options.qos = t.qos;
      s.options.no_local = v5;             // our exports do not come back
      s.options.retain_as_published = v5;  // keep the retain flag of live messages
      subs.push_back(std::move(s));
    }
    if (!subs.empty()) client->subscribe(std::move(subs));
    if (options.notifications && !options.notifications_local_only)
      client->publish(options.notification_topic, to_buffer("1"), 1, true);
    notify_local(true);
  }

  void on_close() {
    up = false;
    notify_local(false);
  }

  void on_message(const mqtt::publish_view& p) {
    if (echo_suppression() && consume_echo(p.topic, p.payload)) {
      dropped_echo.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    auto m = map_in(options.topics, p.topic, p.qos);
    if (!m) {
      unmapped.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    bridged_message out;
    out.topic = std::move(m->topic);
    out.payload.assign(p.payload.begin(), p.payload.end());
    out.qos = m->qos;
    out.retain = p.retain;
    if (options.client.version == mqtt::protocol_version::v5)
      out.properties = clean_properties(p.properties);
    imported.fetch_add(1, std::memory_order_relaxed);
    if (local_sink) local_sink(std::move(out));
  }

  bool offer(std::string_view local_topic, bytes_view payload, std::uint8_t qos, bool retain,
             const mqtt::properties* props) {
    auto m = map_out(options.topics, local_topic, qos);
    if (!m) return false;
    mqtt::publish p;
    p.topic = std::move(m->topic);
    p.payload.assign(payload.begin(), payload.end());
    p.qos = m->qos;
    p.retain = retain && options.outgoing_retain;
    if (props != nullptr && options.client.version == mqtt::protocol_version::v5) {
      p.properties = *props;
      p.properties.remove(mqtt::property_id::topic_alias);
      p.properties.remove(mqtt::property_id::subscription_identifier);
    }
    if (echo_suppression()) remember_echo(p.topic, payload);
    pending.fetch_add(1, std::memory_order_relaxed);
    exported.fetch_add(1, std::memory_order_relaxed);
    std::weak_ptr<impl> weak = shared_from_this();
    client->publish(std::move(p), [weak](std::error_code ec) {
      auto self = weak.lock();
      if (!self) return;
      self->pending.fetch_sub(1, std::memory_order_relaxed);
      if (ec == error::response_too_large) {
        self->dropped_full.fetch_add(1, std::memory_order_relaxed);
      } else if (ec == error::unexpected_reply) {
        self->dropped_failed.fetch_add(1, std::memory_order_relaxed);
      }
    });
    return true;
  }
};

bridge::bridge(asio::any_io_executor ex, bridge_options options, sink local)
    : impl_(std::make_shared<impl>(ex, std::move(options), std::move(local))) {
  std::weak_ptr<impl> weak = impl_;
  impl_->client->on_connect([weak](std::error_code ec, bool) {
    if (auto self = weak.lock()) self->on_connect(ec);
  });
  impl_->client->on_close([weak](std::error_code) {
    if (auto self = weak.lock()) self->on_close();
  });
  impl_->client->on_message([weak](const mqtt::publish_view& p) {
    if (auto self = weak.lock()) self->on_message(p);
  });
}

bridge::~bridge() = default;

void bridge::start() {
  auto i = impl_;
  i->notify_local(false);
  i->client->connect();
}

void bridge::stop(std::function<void()> done) {
  auto i = impl_;
  if (i->up && i->options.notifications && !i->options.notifications_local_only)
    i->client->publish(i->options.notification_topic, to_buffer("0"), 0, true);
  i->client->disconnect([i, done = std::move(done)](std::error_code) {
    i->up = false;
    if (done) done();
  });
}

bool bridge::offer(std::string_view local_topic, bytes_view payload, std::uint8_t qos, bool retain,
                   const mqtt::properties* properties) {
  return impl_->offer(local_topic, payload, qos, retain, properties);
}

bridge_stats bridge::stats() const {
  const auto& i = *impl_;
  bridge_stats s;
  s.exported = i.exported.load();
  s.imported = i.imported.load();
  s.pending = i.pending.load();
  s.dropped_full = i.dropped_full.load();
  s.dropped_failed = i.dropped_failed.load();
  s.dropped_echo = i.dropped_echo.load();
  s.unmapped = i.unmapped.load();
  s.connects = i.connects.load();
  s.connect_failures = i.connect_failures.load();
  s.connected = i.up.load();
  return s;
}

const bridge_options& bridge::options() const noexcept { return impl_->options; }

}  // namespace iotblocks::net
