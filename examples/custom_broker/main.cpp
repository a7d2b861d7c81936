// custom_broker: a small MQTT broker of your own from three iotblocks blocks —
// the MQTT codec (decoder/encoder), the topic subscription index and the rules
// engine — over plain POSIX sockets, one thread, QoS 0 delivery. Not the gateway:
// proof that the blocks compose in an application's own event loop.
//
//   custom_broker [PORT]    # prints "mqtt 127.0.0.1:<port>"; runs until stdin closes
//
// The rule republishes hot readings: sensors/<room>/temp {"temperature":35}
// -> alerts/<room> {"temperature":35,"room":"<room>"}.
#include <iotblocks/mqtt/decoder.hpp>
#include <iotblocks/mqtt/encoder.hpp>
#include <iotblocks/rules/engine.hpp>
#include <iotblocks/topic/index.hpp>

#include <arpa/inet.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

using namespace iotblocks;

struct client {
  mqtt::decoder in{mqtt::role::server};
  std::vector<std::string> filters;
};
std::map<int, client> clients;  // by socket; the socket is also the subscriber id
topic::subscription_index subscriptions;
std::mutex republished_mutex;  // rules workers hand messages to the loop through a pipe
std::vector<std::pair<std::string, std::string>> republished;
int wake[2];

template <class Packet>
void send_packet(int fd, const Packet& packet, mqtt::protocol_version v) {
  byte_buffer out;
  std::error_code ec;
  if constexpr (std::is_constructible_v<mqtt::packet_view, Packet>) {
    ec = mqtt::encode(mqtt::packet_view{packet}, v, out);
  } else {
    ec = mqtt::encode(mqtt::packet{packet}, v, out);
  }
  if (!ec) (void)::send(fd, out.data(), out.size(), MSG_NOSIGNAL);
}

void route(std::string_view topic, bytes_view payload) {
  std::vector<topic::match_entry> found;
  subscriptions.match(topic, found);
  for (const auto& m : found) {
    const int fd = static_cast<int>(m.subscriber);
    const auto v = clients[fd].in.protocol().value_or(mqtt::protocol_version::v3_1_1);
    mqtt::publish_view out;
    out.topic = topic;
    out.payload = payload;
    send_packet(fd, out, v);
  }
}

struct loop_publisher final : rules::publisher {  // `republish` actions land here
  result<void> publish(std::string_view t, std::string_view p, std::uint8_t, bool) override {
    std::lock_guard lock(republished_mutex);
    republished.emplace_back(t, p);
    (void)::write(wake[1], "x", 1);
    return {};
  }
};

void on_packet(int fd, const mqtt::packet_view& p, rules::engine& rules) {
  const auto v = clients[fd].in.protocol().value_or(mqtt::protocol_version::v3_1_1);
  if (std::holds_alternative<mqtt::connect_view>(p)) {
    send_packet(fd, mqtt::connack_view{}, v);
  } else if (const auto* pub = std::get_if<mqtt::publish_view>(&p)) {
    mqtt::puback_view ack;  // QoS 1: PUBACK; QoS 2: PUBREC (PUBCOMP below)
    ack.packet_id = pub->packet_id;
    if (pub->qos == 1) send_packet(fd, ack, v);
    if (pub->qos == 2) send_packet(fd, mqtt::pubrec_view{ack.packet_id, {}, {}, {}}, v);
    route(pub->topic, pub->payload);
    rules::message m;
    m.topic = pub->topic;
    m.payload = pub->payload;
    m.qos = pub->qos;
    rules.dispatch(m);
  } else if (const auto* rel = std::get_if<mqtt::pubrel_view>(&p)) {
    send_packet(fd, mqtt::pubcomp_view{rel->packet_id, {}, {}, {}}, v);
  } else if (const auto* sub = std::get_if<mqtt::subscribe_view>(&p)) {
    std::vector<mqtt::reason_code> granted;
    for (const auto& s : sub->subscriptions) {
      const bool ok = subscriptions.subscribe(s.filter, static_cast<topic::subscriber_id>(fd)).ok();
      if (ok) clients[fd].filters.emplace_back(s.filter);
      granted.push_back(ok ? mqtt::reason_code::granted_qos_0
                           : mqtt::reason_code::unspecified_error);
    }
    mqtt::suback ack;
    ack.packet_id = sub->packet_id;
    ack.reason_codes = std::move(granted);
    send_packet(fd, ack, v);
  } else if (std::holds_alternative<mqtt::pingreq_view>(p)) {
    send_packet(fd, mqtt::pingresp_view{}, v);
  }
}

void drop(int fd) {
  for (const auto& f : clients[fd].filters)
    subscriptions.unsubscribe(f, static_cast<topic::subscriber_id>(fd));
  clients.erase(fd);
  ::close(fd);
}

int main(int argc, char** argv) {
  rules::engine_options options;
  options.publisher = std::make_shared<loop_publisher>();
  rules::engine rules{options};
  auto added = rules.add_rule(
      "hot",
      R"({"sql": "SELECT temperature, topic(2) AS room FROM 'sensors/+/temp' WHERE temperature > 30",
    "actions": [{"republish": {"topic": "alerts/${topic(2)}"}}]})");
  if (!added) return std::fprintf(stderr, "rule: %s\n", added.describe().c_str()), 1;

  const int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  const int yes = 1;
  ::setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  sockaddr_in addr{.sin_family = AF_INET,
                   .sin_port = htons(static_cast<std::uint16_t>(argc > 1 ? std::atoi(argv[1]) : 0)),
                   .sin_addr = {htonl(INADDR_LOOPBACK)},
                   .sin_zero = {}};
  socklen_t len = sizeof addr;
  if (::bind(listener, reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
      ::listen(listener, 64) != 0 || ::pipe(wake) != 0)
    return std::perror("listen"), 1;
  ::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len);
  std::printf("mqtt 127.0.0.1:%u\n", ntohs(addr.sin_port));
  std::fflush(stdout);

  while (true) {
    std::vector<pollfd> fds{{STDIN_FILENO, POLLIN, 0}, {listener, POLLIN, 0}, {wake[0], POLLIN, 0}};
    for (const auto& [fd, c] : clients) fds.push_back({fd, POLLIN, 0});
    if (::poll(fds.data(), fds.size(), -1) < 0) continue;
    if (fds[0].revents != 0) break;  // stdin closed (or a line typed): stop
    if (fds[1].revents & POLLIN) {
      if (const int fd = ::accept(listener, nullptr, nullptr); fd >= 0) clients[fd];
    }
    if (fds[2].revents & POLLIN) {
      char drain[64];
      (void)::read(wake[0], drain, sizeof drain);
      std::vector<std::pair<std::string, std::string>> batch;
      {
        std::lock_guard lock(republished_mutex);
        batch.swap(republished);
      }
      for (const auto& [t, p] : batch) route(t, as_bytes(p));
    }
    for (std::size_t i = 3; i < fds.size(); ++i) {
      if (fds[i].revents == 0) continue;
      std::byte buf[4096];
      const auto n = ::read(fds[i].fd, buf, sizeof buf);
      std::error_code ec;
      if (n > 0)
        clients[fds[i].fd].in.put_all(
            {buf, static_cast<std::size_t>(n)},
            [&](const mqtt::packet_view& p) { on_packet(fds[i].fd, p, rules); }, ec);
      if (n <= 0 || ec) drop(fds[i].fd);  // closed, or a malformed packet
    }
  }
  rules.stop();
  return 0;
}
