// Gateway configuration files: parsing must never crash, every rejection must say
// what is wrong, and whatever is accepted must hold the invariants the gateway
// relies on at start (known listener types, at most one HTTP listener, rule and
// policy documents that are JSON objects, bridges with a name and an address).
#include <iotblocks/gateway/config.hpp>

#include <cstdlib>
#include <set>
#include <string>
#include <string_view>

#include "core/json.hpp"

namespace {

using namespace iotblocks;

void require(bool ok) {
  if (!ok) std::abort();
}

void check(const gateway::config& c) {
  static const std::set<std::string, std::less<>> types{"mqtt", "mqtts", "ws", "wss", "http"};
  int http = 0;
  for (const auto& l : c.listeners) {
    require(types.contains(l.type));
    http += l.type == "http" ? 1 : 0;
  }
  require(http <= 1);
  for (const auto* docs : {&c.rules, &c.policies}) {
    for (const auto& d : *docs) {
      auto parsed = json::parse(d.json);
      require(parsed && parsed->IsObject());
    }
  }
  for (const auto& b : c.bridges) require(!b.name.empty() && !b.client.host.empty());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > 1 << 16) return 0;
  const std::string_view text{reinterpret_cast<const char*>(data), size};
  auto c = gateway::parse_config(text);
  if (!c) {
    require(!c.describe().empty());
    return 0;
  }
  check(*c);
  return 0;
}
