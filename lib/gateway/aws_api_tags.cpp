// AWS IoT tags: tag-resource, untag-resource, list-tags-for-resource, and the `tags`
// of the create calls that take them (x-amz-tagging for create-topic-rule). Tags live
// in aws_tags.db by resource ARN (aws_tags.hpp) and go with their resource.
#include "gateway/aws_api.hpp"
#include "gateway/aws_api_iot.hpp"
#include "gateway/aws_tags.hpp"

#include <array>

namespace iotblocks::gateway::aws {
namespace {

constexpr std::size_t tags_page = 25;  ///< tags per list-tags-for-resource page

/// The taggable kinds of resource and the path of their describe call.
constexpr std::array<std::pair<std::string_view, std::string_view>, 6> describe_paths{{
    {"thinggroup", "/thing-groups/{}"},
    {"thingtype", "/thing-types/{}"},
    {"policy", "/policies/{}"},
    {"rule", "/rules/{}"},
    {"job", "/jobs/{}"},
    {"cacert", "/cacertificate/{}"},
}};

std::string_view describe_path(std::string_view kind) {
  for (const auto& [k, path] : describe_paths) {
    if (k == kind) return path;
  }
  return {};
}

/// "arn:aws:iot:<region>:<account>:<kind>/<name>" -> kind and name ("" when not an IoT ARN).
std::pair<std::string, std::string> split_arn(std::string_view arn) {
  std::string_view rest = arn;
  for (std::string_view part : {"arn", "", "iot", "", ""}) {
    const auto colon = rest.find(':');
    if (colon == std::string_view::npos) return {};
    if (!part.empty() && rest.substr(0, colon) != part) return {};
    rest.remove_prefix(colon + 1);
  }
  const auto slash = rest.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 == rest.size()) return {};
  return {std::string(rest.substr(0, slash)), std::string(rest.substr(slash + 1))};
}

/// The gateway's own ARN of `arn`'s resource, or the error (400 not taggable, 404 missing).
std::optional<net::http_reply> resolve(call& c, std::string_view arn, std::string& out) {
  const auto [kind, name] = split_arn(arn);
  const auto path = describe_path(kind);
  if (path.empty()) {
    return invalid("resourceArn: " + std::string(arn) +
                   " is not the ARN of a taggable resource here (thinggroup, thingtype, policy, "
                   "rule, job, cacert)");
  }
  // Whether it exists: the answer of its describe call.
  net::incoming_request probe;
  probe.method = "GET";
  call inner{c.g, probe, {name}, c.region, c.tags};
  for (const auto& op : iot_operations()) {
    if (op.method != "GET" || op.pattern != path) continue;
    const auto reply = op.fn(inner);
    if (reply.status == 404) {
      return error(404, "ResourceNotFoundException", "no resource " + std::string(arn));
    }
    if (reply.status >= 400) return reply;
    out = c.arn(kind, name);
    return std::nullopt;
  }
  return invalid("resourceArn: no describe call for " + kind);
}

std::optional<net::http_reply> need_store(const call& c) {
  if (c.tags != nullptr) return std::nullopt;
  return error(500, "InternalFailureException", "the tag store (aws_tags.db) could not be opened");
}

net::http_reply tag_resource(call& c) {
  rapidjson::Document body;
  if (auto bad = body_object(c, body)) return *bad;
  std::optional<net::http_reply> bad;
  const auto arn = string_member(body, "resourceArn", bad);
  if (bad) return *bad;
  if (!arn) return invalid("resourceArn: required");
  const auto* list = json::find(body, "tags");
  if (list == nullptr) return invalid("tags: required");
  std::vector<tag> tags;
  if (auto why = read_tag_list(*list, "tags", tags)) return invalid(*why);
  if (auto e = need_store(c)) return *e;
  std::string own;
  if (auto e = resolve(c, *arn, own)) return *e;
  if (auto r = c.tags->set(own, tags); !r) return error_for(r.fail());
  return {200, "{}"};
}

net::http_reply untag_resource(call& c) {
  rapidjson::Document body;
  if (auto bad = body_object(c, body)) return *bad;
  std::optional<net::http_reply> bad;
  const auto arn = string_member(body, "resourceArn", bad);
  if (bad) return *bad;
  if (!arn) return invalid("resourceArn: required");
  const auto* list = json::find(body, "tagKeys");
  if (list == nullptr || !list->IsArray()) return invalid("tagKeys: expected a list of keys");
  std::vector<std::string> keys;
  for (rapidjson::SizeType i = 0; i < list->Size(); ++i) {
    if (!(*list)[i].IsString()) {
      return invalid("tagKeys[" + std::to_string(i) + "]: expected a string");
    }
    keys.emplace_back(json::view((*list)[i]));
  }
  if (auto e = need_store(c)) return *e;
  std::string own;
  if (auto e = resolve(c, *arn, own)) return *e;
  if (auto r = c.tags->remove(own, keys); !r) return error_for(r.fail());
  return {200, "{}"};
}

net::http_reply list_tags_for_resource(call& c) {
  const std::string arn = c.r.query_param("resourceArn");
  if (arn.empty()) return invalid("resourceArn: required");
  std::optional<net::http_reply> bad;
  const auto from = page_token(c, "nextToken", bad);
  if (bad) return *bad;
  if (auto e = need_store(c)) return *e;
  std::string own;
  if (auto e = resolve(c, arn, own)) return *e;
  auto tags = c.tags->list(own);
  if (!tags) return error_for(tags.fail());
  rapidjson::Document d;
  d.SetObject();
  auto& a = d.GetAllocator();
  rapidjson::Value list(rapidjson::kArrayType);
  std::string next;
  std::size_t n = 0;
  for (const auto& t : *tags) {
    if (t.key < from.value_or("")) continue;
    if (n == tags_page) {
      next = make_token(t.key);
      break;
    }
    rapidjson::Value o(rapidjson::kObjectType);
    put(o, "Key", t.key, a);
    put(o, "Value", t.value, a);
    list.PushBack(o, a);
    ++n;
  }
  d.AddMember("tags", list, a);
  if (!next.empty()) put(d, "nextToken", next, a);
  return ok(d);
}

bool is_create_with_tags(std::string_view action) {
  for (std::string_view a :
       {"iot:CreateThingGroup", "iot:CreateThingType", "iot:CreatePolicy", "iot:CreateJob",
        "iot:CreateTopicRule", "iot:RegisterCACertificate", "iot:CreateDynamicThingGroup"}) {
    if (a == action) return true;
  }
  return false;
}

bool is_delete_of_taggable(std::string_view action) {
  for (std::string_view a :
       {"iot:DeleteThingGroup", "iot:DeleteThingType", "iot:DeletePolicy", "iot:DeleteJob",
        "iot:DeleteTopicRule", "iot:DeleteCACertificate", "iot:DeleteDynamicThingGroup"}) {
    if (a == action) return true;
  }
  return false;
}

}  // namespace

std::span<const operation> tag_operations() {
  static const std::array<operation, 3> ops{{
      {"POST", "/tags", tag_resource, "iot:TagResource"},
      {"POST", "/untag", untag_resource, "iot:UntagResource"},
      {"GET", "/tags", list_tags_for_resource, "iot:ListTagsForResource"},
  }};
  return ops;
}

std::optional<net::http_reply> tags_before(call& c, const operation& op, std::vector<tag>& tags) {
  if (!is_create_with_tags(op.action)) return std::nullopt;
  if (op.action == "iot:CreateTopicRule") {
    const auto* h = header_value(c.r, "x-amz-tagging");
    if (h == nullptr) return std::nullopt;
    if (auto why = read_tagging_header(*h, tags)) return invalid(*why);
  } else {
    auto doc = json::parse(c.r.body.empty() ? std::string_view("{}") : c.r.body);
    if (!doc || !doc->IsObject()) return std::nullopt;  // the operation names the error
    const auto* list = json::find(*doc, "tags");
    if (list == nullptr || list->IsNull()) return std::nullopt;
    if (auto why = read_tag_list(*list, "tags", tags)) return invalid(*why);
  }
  if (!tags.empty()) return need_store(c);
  return std::nullopt;
}

void tags_after(call& c, const operation& op, const std::vector<tag>& tags,
                net::http_reply& reply) {
  if (c.tags == nullptr || reply.status < 200 || reply.status > 299) return;
  if (is_delete_of_taggable(op.action)) {
    if (auto r = c.tags->remove_all(c.arn(op.resource, c.params.at(0))); !r) {
      reply = error_for(r.fail());
    }
    return;
  }
  if (tags.empty()) return;
  std::string arn;
  if (op.action == "iot:RegisterCACertificate") {
    auto doc = json::parse(reply.body);
    const auto* id = doc && doc->IsObject() ? json::find(*doc, "certificateId") : nullptr;
    if (id == nullptr || !id->IsString()) return;
    arn = c.arn("cacert", json::view(*id));
  } else {
    arn = c.arn(op.resource, c.params.at(0));
  }
  if (auto r = c.tags->set(arn, tags); !r) reply = error_for(r.fail());
}

}  // namespace iotblocks::gateway::aws
