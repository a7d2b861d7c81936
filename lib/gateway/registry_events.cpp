// Registry events with AWS IoT's topics and payloads (developer guide, "Registry events").
// Ids are those the AWS API answers with (thingId, thingGroupId, thingTypeId: aws::uuid_from).
#include <iotblocks/core/clock.hpp>
#include <iotblocks/core/uuid.hpp>

#include "core/json.hpp"
#include "gateway/aws_api_iot.hpp"
#include "gateway/registry_events.hpp"

#include <random>
#include <type_traits>

namespace iotblocks::gateway {
namespace {

using alloc = rapidjson::Document::AllocatorType;

std::string_view op_name(registry::change_op op) {
  switch (op) {
    case registry::change_op::created: return "CREATED";
    case registry::change_op::updated: return "UPDATED";
    case registry::change_op::deleted: return "DELETED";
    case registry::change_op::added: return "ADDED";
    case registry::change_op::removed: return "REMOVED";
  }
  return "UPDATED";
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& ch : out) ch = static_cast<char>(ch - 'A' + 'a');
  return out;
}

std::string thing_id(std::string_view name) { return aws::uuid_from(name); }
std::string group_id(std::string_view name) {
  return aws::uuid_from("thinggroup/" + std::string(name));
}
std::string type_id(std::string_view name) {
  return aws::uuid_from("thingtype/" + std::string(name));
}
std::string arn(const event_context& ctx, std::string_view kind, std::string_view name) {
  return "arn:aws:iot:" + ctx.region + ":" + ctx.account_id + ":" + std::string(kind) + "/" +
         std::string(name);
}

/// An object with eventType, eventId, timestamp and operation (and accountId when `account`).
class payload {
 public:
  payload(std::string_view type, registry::change_op op, const event_context& ctx,
          bool account = true) {
    d_.SetObject();
    put("eventType", type);
    put("eventId", ctx.event_id ? ctx.event_id() : std::string());
    d_.AddMember("timestamp", ctx.now_ms, a());
    put("operation", op_name(op));
    if (account) put("accountId", ctx.account_id);
  }
  alloc& a() { return d_.GetAllocator(); }
  void put(std::string_view k, std::string_view v) {
    d_.AddMember(json::string_value(k, a()), json::string_value(v, a()), a());
  }
  /// `v`, or null when empty.
  void put_or_null(std::string_view k, std::string_view v) {
    if (v.empty()) {
      d_.AddMember(json::string_value(k, a()), rapidjson::Value(), a());
    } else {
      put(k, v);
    }
  }
  void put(std::string_view k, rapidjson::Value v) {
    d_.AddMember(json::string_value(k, a()), v, a());
  }
  rapidjson::Value object(const std::map<std::string, std::string>& m) {
    rapidjson::Value o(rapidjson::kObjectType);
    for (const auto& [k, v] : m) {
      o.AddMember(json::string_value(k, a()), json::string_value(v, a()), a());
    }
    return o;
  }
  std::string text() const { return json::write(d_); }

 private:
  rapidjson::Document d_;
};

void thing_events(const registry::thing_change& c, const event_context& ctx,
                  std::vector<event_message>& out) {
  const auto& t = c.value;
  payload p("THING_EVENT", c.op, ctx);
  p.put("thingId", thing_id(t.name));
  p.put("thingName", t.name);
  p.put("versionNumber", rapidjson::Value(t.version));
  p.put_or_null("thingTypeName", t.type);
  p.put("attributes", p.object(t.attributes));
  out.push_back({"THING", "$aws/events/thing/" + t.name + "/" + lower(op_name(c.op)), p.text()});
  // The type association: made by a create or an update, ended by an update or a deletion.
  auto association = [&](registry::change_op op, const std::string& type) {
    payload a("THING_TYPE_ASSOCIATION_EVENT", op, ctx, false);
    a.put("thingId", thing_id(t.name));
    a.put("thingName", t.name);
    a.put("thingTypeName", type);
    out.push_back({"THING_TYPE_ASSOCIATION",
                   "$aws/events/thingTypeAssociation/thing/" + t.name + "/" + type, a.text()});
  };
  const std::string& before =
      c.op == registry::change_op::created ? std::string() : c.previous_type;
  const std::string& after = c.op == registry::change_op::deleted ? std::string() : t.type;
  if (before == after) return;
  if (!before.empty()) association(registry::change_op::deleted, before);
  if (!after.empty()) association(registry::change_op::created, after);
}

void group_events(const registry::thing_group_change& c, const event_context& ctx,
                  std::vector<event_message>& out) {
  const auto& g = c.value;
  payload p("THING_GROUP_EVENT", c.op, ctx);
  p.put("thingGroupId", group_id(g.name));
  p.put("thingGroupName", g.name);
  p.put("versionNumber", rapidjson::Value(g.version));
  p.put_or_null("parentGroupName", g.parent);
  p.put_or_null("parentGroupId", g.parent.empty() ? std::string() : group_id(g.parent));
  p.put("description", g.description);
  rapidjson::Value chain(rapidjson::kArrayType);
  for (const auto& name : c.ancestors) {
    rapidjson::Value e(rapidjson::kObjectType);
    e.AddMember("groupArn", json::string_value(arn(ctx, "thinggroup", name), p.a()), p.a());
    e.AddMember("groupId", json::string_value(group_id(name), p.a()), p.a());
    chain.PushBack(e, p.a());
  }
  p.put("rootToParentThingGroups", std::move(chain));
  p.put("attributes", p.object(g.attributes));
  p.put("dynamicGroupMappingId", rapidjson::Value());
  out.push_back(
      {"THING_GROUP", "$aws/events/thingGroup/" + g.name + "/" + lower(op_name(c.op)), p.text()});
  if (g.parent.empty() || c.op == registry::change_op::updated) return;
  const auto op = c.op == registry::change_op::created ? registry::change_op::added
                                                       : registry::change_op::removed;
  payload h("THING_GROUP_HIERARCHY_EVENT", op, ctx);
  h.put("thingGroupId", group_id(g.parent));
  h.put("thingGroupName", g.parent);
  h.put("childGroupId", group_id(g.name));
  h.put("childGroupName", g.name);
  out.push_back({"THING_GROUP_HIERARCHY",
                 "$aws/events/thingGroupHierarchy/thingGroup/" + g.parent + "/childThingGroup/" +
                     g.name + "/" + lower(op_name(op)),
                 h.text()});
}

void membership_events(const registry::membership_change& c, const event_context& ctx,
                       std::vector<event_message>& out) {
  payload p("THING_GROUP_MEMBERSHIP_EVENT", c.op, ctx);
  p.put("groupArn", arn(ctx, "thinggroup", c.group));
  p.put("groupId", group_id(c.group));
  p.put("thingArn", arn(ctx, "thing", c.thing));
  p.put("thingId", thing_id(c.thing));
  p.put("membershipId", aws::uuid_from("membership/" + c.group + "/" + c.thing));
  out.push_back({"THING_GROUP_MEMBERSHIP",
                 "$aws/events/thingGroupMembership/thingGroup/" + c.group + "/thing/" + c.thing +
                     "/" + lower(op_name(c.op)),
                 p.text()});
}

void type_events(const registry::thing_type_change& c, const event_context& ctx,
                 std::vector<event_message>& out) {
  const auto& t = c.value;
  payload p("THING_TYPE_EVENT", c.op, ctx);
  p.put("thingTypeId", type_id(t.name));
  p.put("thingTypeName", t.name);
  p.put("isDeprecated", rapidjson::Value(t.deprecated));
  p.put("deprecationDate", t.deprecated ? rapidjson::Value(t.deprecated_ms) : rapidjson::Value());
  rapidjson::Value names(rapidjson::kArrayType);
  for (const auto& n : t.searchable_attributes) names.PushBack(json::string_value(n, p.a()), p.a());
  p.put("searchableAttributes", std::move(names));
  p.put("description", t.description);
  out.push_back(
      {"THING_TYPE", "$aws/events/thingType/" + t.name + "/" + lower(op_name(c.op)), p.text()});
}

/// The event types a change can make (checked before any payload is written).
bool any_enabled(const registry::change& c, const event_config_store& config) {
  return std::visit(
      [&](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, registry::thing_change>) {
          return config.enabled("THING") || config.enabled("THING_TYPE_ASSOCIATION");
        } else if constexpr (std::is_same_v<T, registry::thing_group_change>) {
          return config.enabled("THING_GROUP") || config.enabled("THING_GROUP_HIERARCHY");
        } else if constexpr (std::is_same_v<T, registry::membership_change>) {
          return config.enabled("THING_GROUP_MEMBERSHIP");
        } else {
          return config.enabled("THING_TYPE");
        }
      },
      c);
}

}  // namespace

std::vector<event_message> registry_event_messages(const registry::change& c,
                                                   const event_context& ctx) {
  std::vector<event_message> out;
  std::visit(
      [&](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, registry::thing_change>) {
          thing_events(v, ctx, out);
        } else if constexpr (std::is_same_v<T, registry::thing_group_change>) {
          group_events(v, ctx, out);
        } else if constexpr (std::is_same_v<T, registry::membership_change>) {
          membership_events(v, ctx, out);
        } else {
          type_events(v, ctx, out);
        }
      },
      c);
  return out;
}

event_context event_context_now(const event_context& base) {
  event_context ctx = base;
  ctx.now_ms = default_clock().now_ms();
  ctx.event_id = [] {
    thread_local std::mt19937_64 rng{std::random_device{}()};
    char id[36];
    format_uuid4(rng(), rng(), id);
    return std::string(id, sizeof id);
  };
  return ctx;
}

void publish_enabled(const event_config_store& config, broker::broker& b,
                     std::vector<event_message> messages) {
  for (auto& e : messages) {
    if (!config.enabled(e.type)) continue;
    broker::message m;
    m.topic = std::move(e.topic);
    m.payload = to_buffer(e.payload);
    m.qos = 1;
    b.publish(m);
  }
}

void registry_events::on_change(const registry::change& c) {
  if (!any_enabled(c, config_)) return;
  publish_enabled(config_, broker_, registry_event_messages(c, event_context_now(base_)));
}

}  // namespace iotblocks::gateway
