// describe-event-configurations / update-event-configurations (AWS IoT API): which events the
// gateway publishes (event_config.hpp, registry_events.hpp).
#include <iotblocks/core/clock.hpp>

#include "gateway/aws_api.hpp"
#include "gateway/event_config.hpp"

namespace iotblocks::gateway::aws {
namespace {

/// The store, or InternalFailureException when event_configurations.db could not be opened.
event_config_store* need_store(call& c, std::optional<net::http_reply>& bad) {
  if (c.g.event_config == nullptr) {
    bad = error(500, "InternalFailureException", "the event configuration store is unavailable");
  }
  return c.g.event_config.get();
}

net::http_reply describe_event_configurations(call& c) {
  std::optional<net::http_reply> bad;
  auto* store = need_store(c, bad);
  if (store == nullptr) return *bad;
  const auto now = store->get();
  rapidjson::Document d;
  d.SetObject();
  auto& a = d.GetAllocator();
  rapidjson::Value configs(rapidjson::kObjectType);
  for (const auto& [type, on] : now.enabled) {
    rapidjson::Value one(rapidjson::kObjectType);
    one.AddMember("Enabled", on, a);
    configs.AddMember(json::string_value(type, a), one, a);
  }
  d.AddMember("eventConfigurations", configs, a);
  d.AddMember("creationDate", epoch_seconds(now.created_ms), a);
  d.AddMember("lastModifiedDate", epoch_seconds(now.modified_ms), a);
  return ok(d);
}

net::http_reply update_event_configurations(call& c) {
  std::optional<net::http_reply> bad;
  auto* store = need_store(c, bad);
  if (store == nullptr) return *bad;
  rapidjson::Document body;
  if (auto b = body_object(c, body)) return *b;
  std::map<std::string, bool, std::less<>> changes;
  if (auto why = read_event_configurations(body, changes)) return invalid(*why);
  if (auto done = store->update(changes, default_clock().now_ms()); !done) {
    return error_for(done.fail());
  }
  rapidjson::Document d;
  d.SetObject();
  return ok(d);
}

}  // namespace

std::span<const operation> event_operations() {
  static const operation ops[] = {
      {"GET", "/event-configurations", describe_event_configurations,
       "iot:DescribeEventConfigurations"},
      {"PATCH", "/event-configurations", update_event_configurations,
       "iot:UpdateEventConfigurations"},
  };
  return ops;
}

}  // namespace iotblocks::gateway::aws
