// The --broker option of the workers (`rules worker`, `shadow worker`):
// mqtt://host[:port], mqtts://host[:port] (TLS, port 8883) or host[:port].
#pragma once

#include "command.hpp"

#include <iotblocks/net/mqtt_client.hpp>

#include <charconv>
#include <string>
#include <string_view>

namespace iotblocks::cli {

/// Sets host, port and TLS of `o` from `url`; throws cli::error(usage) when malformed.
inline void parse_broker(const std::string& url, net::mqtt_client_options& o) {
  std::string_view rest = url;
  if (rest.starts_with("mqtt://")) {
    rest.remove_prefix(7);
  } else if (rest.starts_with("mqtts://")) {
    rest.remove_prefix(8);
    o.tls.enabled = true;
    o.port = 8883;
  } else if (rest.find("://") != std::string_view::npos) {
    throw error(usage, "--broker: expected mqtt://host[:port], mqtts://host[:port] or host[:port]");
  }
  if (auto colon = rest.rfind(':'); colon != std::string_view::npos) {
    unsigned port = 0;
    const auto p = rest.substr(colon + 1);
    auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), port);
    if (ec != std::errc{} || end != p.data() + p.size() || port == 0 || port > 65535)
      throw error(usage, "--broker: bad port in " + url);
    o.port = static_cast<std::uint16_t>(port);
    rest = rest.substr(0, colon);
  }
  if (rest.empty()) throw error(usage, "--broker: no host in " + url);
  o.host = std::string(rest);
}

}  // namespace iotblocks::cli
