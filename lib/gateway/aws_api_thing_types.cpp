// Thing types over the AWS-shaped API (`aws iot create-thing-type` …) on registry::thing_types
// (thing_types.db). create-thing and update-thing accept only a type that exists and is not
// deprecated (thing_type_assignable); delete-thing-type refuses while a thing has the type.
#include "gateway/aws_api.hpp"
#include "gateway/aws_api_iot.hpp"
#include "gateway/security.hpp"

namespace iotblocks::gateway::aws {
namespace {

std::string type_id(std::string_view name) { return uuid_from("thingtype/" + std::string(name)); }

registry::thing_types& types_of(call& c) { return *c.g.types; }

/// thingTypeProperties and thingTypeMetadata of `t` into `o`.
void describe_into(rapidjson::Value& o, const registry::thing_type& t, alloc& a) {
  rapidjson::Value props(rapidjson::kObjectType);
  if (!t.description.empty()) put(props, "thingTypeDescription", t.description, a);
  rapidjson::Value searchable(rapidjson::kArrayType);
  for (const auto& s : t.searchable_attributes) searchable.PushBack(json::string_value(s, a), a);
  props.AddMember("searchableAttributes", searchable, a);
  o.AddMember("thingTypeProperties", props, a);
  rapidjson::Value meta(rapidjson::kObjectType);
  meta.AddMember("deprecated", t.deprecated, a);
  if (t.deprecated) meta.AddMember("deprecationDate", epoch_seconds(t.deprecated_ms), a);
  meta.AddMember("creationDate", epoch_seconds(t.created_ms), a);
  o.AddMember("thingTypeMetadata", meta, a);
}

net::http_reply create_thing_type(call& c) {
  rapidjson::Document body;
  if (auto b = body_object(c, body)) return *b;
  std::optional<net::http_reply> bad;
  registry::thing_type t;
  t.name = c.params[0];
  if (const auto* props = json::find(body, "thingTypeProperties"); props && !props->IsNull()) {
    if (!props->IsObject()) return invalid("thingTypeProperties: expected an object");
    if (auto d = string_member(*props, "thingTypeDescription", bad)) t.description = *d;
    if (bad) return *bad;
    if (const auto* s = json::find(*props, "searchableAttributes"); s && !s->IsNull()) {
      if (!s->IsArray())
        return invalid("thingTypeProperties.searchableAttributes: expected a list");
      for (const auto& name : s->GetArray()) {
        if (!name.IsString()) {
          return invalid("thingTypeProperties.searchableAttributes: expected strings");
        }
        t.searchable_attributes.emplace_back(json::view(name));
      }
    }
  }
  auto made = types_of(c).create(std::move(t));
  if (!made) return error_for(made.fail());
  rapidjson::Document d;
  d.SetObject();
  auto& a = d.GetAllocator();
  put(d, "thingTypeName", made->name, a);
  put(d, "thingTypeArn", c.arn("thingtype", made->name), a);
  put(d, "thingTypeId", type_id(made->name), a);
  return ok(d);
}

net::http_reply describe_thing_type(call& c) {
  auto t = types_of(c).describe(c.params[0]);
  if (!t) return error_for(t.fail());
  rapidjson::Document d;
  d.SetObject();
  auto& a = d.GetAllocator();
  put(d, "thingTypeName", t->name, a);
  put(d, "thingTypeId", type_id(t->name), a);
  put(d, "thingTypeArn", c.arn("thingtype", t->name), a);
  describe_into(d, *t, a);
  return ok(d);
}

net::http_reply list_thing_types(call& c) {
  std::optional<net::http_reply> bad;
  const auto max = page_size(c, "maxResults", 50, 250, bad);
  const auto from = page_token(c, "nextToken", bad);
  if (bad) return *bad;
  rapidjson::Document d;
  d.SetObject();
  auto& a = d.GetAllocator();
  rapidjson::Value arr(rapidjson::kArrayType);
  for (const auto& t : types_of(c).list(c.r.query_param("thingTypeName"))) {
    if (t.name < *from) continue;
    if (arr.Size() == *max) {
      put(d, "nextToken", make_token(t.name), a);
      break;
    }
    rapidjson::Value o(rapidjson::kObjectType);
    put(o, "thingTypeName", t.name, a);
    put(o, "thingTypeArn", c.arn("thingtype", t.name), a);
    describe_into(o, t, a);
    arr.PushBack(o, a);
  }
  d.AddMember("thingTypes", arr, a);
  return ok(d);
}

net::http_reply deprecate_thing_type(call& c) {
  rapidjson::Document body;
  if (auto b = body_object(c, body)) return *b;
  const auto* undo = json::find(body, "undoDeprecate");
  if (undo != nullptr && !undo->IsBool() && !undo->IsNull()) {
    return invalid("undoDeprecate: expected true or false");
  }
  auto t = types_of(c).deprecate(c.params[0], undo != nullptr && undo->IsTrue());
  if (!t) return error_for(t.fail());
  return {200, "{}"};
}

net::http_reply delete_thing_type(call& c) {
  if (auto* reg = c.g.sec->reg()) {
    for (const auto& t : reg->list_things()) {
      if (t.type == c.params[0]) {
        return invalid("thing type " + c.params[0] + " still has things, e.g. " + t.name);
      }
    }
  }
  if (auto r = types_of(c).remove(c.params[0]); !r) return error_for(r.fail());
  return {200, "{}"};
}

}  // namespace

std::optional<net::http_reply> thing_type_assignable(call& c, std::string_view type) {
  if (type.empty()) return std::nullopt;
  if (auto r = types_of(c).assignable(type); !r) return error_for(r.fail());
  return std::nullopt;
}

std::span<const operation> thing_type_operations() {
  static const operation all[] = {
      {"GET", "/thing-types", list_thing_types, "iot:ListThingTypes"},
      {"POST", "/thing-types/{}", create_thing_type, "iot:CreateThingType", "thingtype"},
      {"GET", "/thing-types/{}", describe_thing_type, "iot:DescribeThingType", "thingtype"},
      {"DELETE", "/thing-types/{}", delete_thing_type, "iot:DeleteThingType", "thingtype"},
      {"POST", "/thing-types/{}/deprecate", deprecate_thing_type, "iot:DeprecateThingType",
       "thingtype"},
  };
  return all;
}

}  // namespace iotblocks::gateway::aws
