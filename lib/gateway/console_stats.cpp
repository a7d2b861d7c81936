// GET /admin/stats for the console's dashboard (the session contract's counters),
// registered only while the admin API's own stats route is missing. Counters the
// gateway does not keep (shadow_updates) are left out rather than reported as 0.
#include "gateway/console.hpp"

#include <fmt/format.h>

namespace iotblocks::gateway {

void add_console_stats_route(gateway::impl& g) {
  g.http.route("GET", "/admin/stats", [&g](const net::incoming_request& r) {
    if (g.cfg.admin_token.empty())
      return net::http_reply{403, R"j({"error":"admin API disabled (no admin_token)"})j"};
    if (r.authorization != "Bearer " + g.cfg.admin_token)
      return net::http_reply{401, R"({"error":"bad admin token"})"};
    const auto& s = g.mqtt.stats();
    const auto t = g.rules ? g.rules->totals() : rules::rule_metrics{};
    return net::http_reply{
        200,
        fmt::format(R"({{"connected":{},"connects":{},"disconnects":{},"messages_in":{},)"
                    R"("messages_out":{},"dropped":{},"retained":{},"sessions":{},)"
                    R"("rules_matched":{},"rules_failed":{}}})",
                    s.connected.load(), s.connects.load(), s.disconnects.load(),
                    s.messages_in.load(), s.messages_out.load(), s.dropped.load(),
                    g.mqtt.retained_count(), g.mqtt.session_count(), t.matched, t.actions_failed)};
  });
}

}  // namespace iotblocks::gateway
