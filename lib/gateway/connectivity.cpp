#include "gateway/connectivity.hpp"

#include "core/json.hpp"

namespace iotblocks::gateway {

void connectivity_tracker::on_message(std::string_view topic, std::string_view payload) {
  constexpr std::string_view prefix = "$aws/events/presence/";
  if (!topic.starts_with(prefix)) return;
  topic.remove_prefix(prefix.size());
  const auto slash = topic.find('/');
  if (slash == std::string_view::npos) return;
  const auto event = topic.substr(0, slash);
  const auto client = topic.substr(slash + 1);
  if ((event != "connected" && event != "disconnected") || client.empty()) return;
  status s;
  s.connected = event == "connected";
  if (auto doc = json::parse(payload); doc && doc->IsObject()) {
    s.timestamp_ms = json::get_int64(*doc, "timestamp").value_or(0);
    if (!s.connected) {
      s.disconnect_reason = std::string(json::get_string(*doc, "disconnectReason").value_or(""));
    }
  }
  std::lock_guard lock(mutex_);
  clients_.insert_or_assign(std::string(client), std::move(s));
}

std::optional<connectivity_tracker::status> connectivity_tracker::of(
    std::string_view client_id) const {
  std::lock_guard lock(mutex_);
  const auto it = clients_.find(client_id);
  if (it == clients_.end()) return std::nullopt;
  return it->second;
}

}  // namespace iotblocks::gateway
