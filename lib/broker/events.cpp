// The broker's own messages: `$SYS/broker/...` statistics and AWS IoT
// lifecycle (presence) events.
#include "broker/session.hpp"

#include <random>

namespace iotblocks::broker::detail {

namespace {

void append_json_string(std::string& out, std::string_view s) {
  static constexpr char hex[] = "0123456789abcdef";
  out += '"';
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += ch;
    } else if (c < 0x20) {
      out += "\\u00";
      out += hex[c >> 4];
      out += hex[c & 15];
    } else {
      out += ch;
    }
  }
  out += '"';
}

message sys(std::string_view name, std::string value) {
  message m;
  m.topic = "$SYS/broker/" + std::string(name);
  m.payload = to_buffer(value);
  m.retain = true;
  return m;
}

}  // namespace

std::vector<message> sys_messages(const sys_figures& f) {
  const auto& s = *f.stats;
  const auto n = [](const std::atomic<std::uint64_t>& a) {
    return std::to_string(a.load(std::memory_order_relaxed));
  };
  const auto connected = s.connected.load(std::memory_order_relaxed);
  std::vector<message> out;
  out.push_back(sys("version", "iotblocks gateway"));
  out.push_back(sys("uptime", std::to_string(f.uptime.count()) + " seconds"));
  out.push_back(sys("clients/connected", std::to_string(connected)));
  out.push_back(sys("clients/total", std::to_string(f.sessions)));
  out.push_back(sys("clients/disconnected",
                    std::to_string(f.sessions > connected ? f.sessions - connected : 0)));
  out.push_back(sys("messages/received", n(s.messages_in)));
  out.push_back(sys("messages/sent", n(s.messages_out)));
  out.push_back(sys("publish/messages/dropped", n(s.dropped)));
  out.push_back(sys("retained messages/count", std::to_string(f.retained)));
  out.push_back(sys("subscriptions/count", std::to_string(f.subscriptions)));
  out.push_back(sys("store/commits", std::to_string(f.store_commits)));
  return out;
}

std::string presence_payload(std::string_view client_id, std::string_view event_type,
                             std::string_view session_id, std::string_view principal,
                             std::string_view ip, std::uint64_t version, std::string_view reason) {
  std::string j = "{\"clientId\":";
  append_json_string(j, client_id);
  j += ",\"timestamp\":" + std::to_string(wall_ms());
  j += ",\"eventType\":";
  append_json_string(j, event_type);
  j += ",\"sessionIdentifier\":";
  append_json_string(j, session_id);
  j += ",\"principalIdentifier\":";
  append_json_string(j, principal);
  if (!reason.empty()) {
    j += ",\"clientInitiatedDisconnect\":";
    j += reason == "CLIENT_INITIATED_DISCONNECT" ? "true" : "false";
    j += ",\"disconnectReason\":";
    append_json_string(j, reason);
  }
  j += ",\"ipAddress\":";
  append_json_string(j, ip);
  j += ",\"versionNumber\":" + std::to_string(version) + "}";
  return j;
}

std::array<char, 32> random_session_id() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  static constexpr char hex[] = "0123456789abcdef";
  std::array<char, 32> out{};
  std::size_t at = 0;
  for (int half = 0; half < 2; ++half) {
    auto v = rng();
    for (int i = 0; i < 16; ++i, v >>= 4) out[at++] = hex[v & 15];
  }
  return out;
}

std::int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace iotblocks::broker::detail
