// The AWS-shaped HTTP API: access keys from the config, SigV4 on every request,
// routing by signing name and REST path, and AWS's error shapes.
#include <iotblocks/core/error.hpp>
#include <iotblocks/policy/document.hpp>
#include <iotblocks/policy/error.hpp>
#include <iotblocks/policy/evaluate.hpp>
#include <iotblocks/registry/error.hpp>
#include <iotblocks/rules/error.hpp>

#include "gateway/aws_api.hpp"
#include "gateway/aws_index_config.hpp"
#include "gateway/aws_tags.hpp"
#include "gateway/aws_throttle.hpp"
#include "gateway/config_json.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <memory>

namespace iotblocks::gateway::aws {
namespace {

std::vector<std::string> split_path(std::string_view raw) {
  std::vector<std::string> out;
  if (raw.starts_with('/')) raw.remove_prefix(1);
  if (raw.empty()) return out;
  while (true) {
    const auto slash = raw.find('/');
    out.push_back(net::percent_decode(raw.substr(0, slash)));
    if (slash == std::string_view::npos) break;
    raw.remove_prefix(slash + 1);
  }
  return out;
}

bool match(std::string_view pattern, const std::vector<std::string>& segments,
           std::vector<std::string>& params) {
  const auto want = split_path(pattern);
  if (want.size() != segments.size()) return false;
  params.clear();
  for (std::size_t i = 0; i < want.size(); ++i) {
    if (want[i] == "{}") {
      if (segments[i].empty()) return false;
      params.push_back(segments[i]);
    } else if (want[i] != segments[i]) {
      return false;
    }
  }
  return true;
}

/// Whether the access key's policy allows `op` (no policy: every action).
std::optional<net::http_reply> authorize(const call& c, const operation& op,
                                         const policy::policy_set* policies,
                                         std::string_view key_id) {
  if (policies == nullptr) return std::nullopt;
  const std::string resource =
      op.resource.empty() ? std::string("*") : c.arn(op.resource, c.params.at(0));
  policy::context ctx;
  ctx.region = c.g.cfg.aws.region;
  ctx.account = c.g.cfg.aws.account_id;
  ctx.any_account = c.g.cfg.aws.any_account;
  ctx.source_ip = c.r.remote_address;
  auto allowed = [&](std::string_view action) {
    return policy::evaluate(*policies, policy::request::named(action, resource), ctx).allowed();
  };
  bool ok = allowed(op.action);
  // A retained publish needs iot:RetainPublish too, as on AWS IoT.
  if (ok && op.action == "iot:Publish" && c.r.query_param("retain") == "true") {
    ok = allowed("iot:RetainPublish");
  }
  if (ok) return std::nullopt;
  return error(403, "AccessDeniedException",
               "User: " + std::string(key_id) + " is not authorized to perform: " +
                   std::string(op.action) + " on resource: " + resource);
}

/// "rate_limit": {"requests_per_second": > 0, "burst": >= 1 (default: the rate, at least 1)}.
std::optional<failure> read_rate_limit(const rapidjson::Value& k, const std::string& path,
                                       aws_access_key& key) {
  constexpr double max_rate = 1e9;
  const auto* limit = json::find(k, "rate_limit");
  if (limit == nullptr) return std::nullopt;
  const std::string at = path + ".rate_limit";
  if (!limit->IsObject()) return detail::bad(at, "expected an object");
  if (auto f = detail::only(*limit, at, {"requests_per_second", "burst"})) return f;
  const auto* rate = json::find(*limit, "requests_per_second");
  if (rate == nullptr || !rate->IsNumber() || !(rate->GetDouble() > 0) ||
      rate->GetDouble() > max_rate) {
    return detail::bad(at + ".requests_per_second", "expected a number in (0, 1e9]");
  }
  key.requests_per_second = rate->GetDouble();
  key.burst = std::max(1.0, key.requests_per_second);
  if (const auto* burst = json::find(*limit, "burst")) {
    if (!burst->IsNumber() || burst->GetDouble() < 1 || burst->GetDouble() > max_rate) {
      return detail::bad(at + ".burst", "expected a number in [1, 1e9]");
    }
    key.burst = burst->GetDouble();
  }
  return std::nullopt;
}

}  // namespace

net::http_reply route(gateway::impl& g, const net::incoming_request& r,
                      std::span<const operation> ops, std::string region,
                      const policy::policy_set* policies, std::string_view key_id, tag_store* tags,
                      index_config_store* indexing) {
  // /topics/{topic} and /retainedMessage/{topic}: a topic sent with raw '/' stays one parameter.
  auto segments = split_path(r.raw_path);
  if (segments.size() > 2 && (segments[0] == "topics" || segments[0] == "retainedMessage")) {
    std::string topic = segments[1];
    for (std::size_t i = 2; i < segments.size(); ++i) topic += "/" + segments[i];
    segments.resize(2);
    segments[1] = std::move(topic);
  }
  call c{g, r, {}, std::move(region), tags, indexing};
  for (const auto& op : ops) {
    if (!match(op.pattern, segments, c.params)) continue;
    if (op.method != r.method) continue;
    if (auto denied = authorize(c, op, policies, key_id)) return *denied;
    std::vector<tag> create_tags;
    if (auto bad = tags_before(c, op, create_tags)) return *bad;
    auto reply = op.fn(c);
    tags_after(c, op, create_tags, reply);
    return reply;
  }
  return error(400, "UnknownOperationException",
               "no operation " + r.method + " " + r.raw_path + " in this API");
}

result<void> read_access_keys(const rapidjson::Value& root, config& c) {
  const auto* keys = json::find(root, "aws_access_keys");
  if (keys == nullptr) return {};
  if (!keys->IsArray()) return detail::bad("aws_access_keys", "expected an array");
  for (rapidjson::SizeType i = 0; i < keys->Size(); ++i) {
    const auto& k = (*keys)[i];
    const std::string path = "aws_access_keys[" + std::to_string(i) + "]";
    if (!k.IsObject()) return detail::bad(path, "expected an object");
    if (auto f =
            detail::only(k, path, {"access_key_id", "secret_access_key", "policy", "rate_limit"})) {
      return *f;
    }
    aws_access_key key;
    for (auto [name, out] : {std::pair<std::string_view, std::string*>{"access_key_id", &key.id},
                             {"secret_access_key", &key.secret}}) {
      const auto* v = json::find(k, name);
      if (v == nullptr || !v->IsString() || v->GetStringLength() == 0) {
        return detail::bad(path + "." + std::string(name), "expected a non-empty string");
      }
      *out = std::string(json::view(*v));
    }
    if (const auto* pol = json::find(k, "policy")) {
      if (!pol->IsObject()) return detail::bad(path + ".policy", "expected a policy document");
      key.policy = json::write(*pol);
      if (auto doc = policy::parse_document(key.policy); !doc) {
        return detail::bad(path + ".policy", doc.describe());
      }
    }
    if (auto f = read_rate_limit(k, path, key)) return *f;
    c.aws_access_keys.push_back(std::move(key));
  }
  return {};
}

std::string call::arn_prefix() const {
  return "arn:aws:iot:" + g.cfg.aws.region + ":" + g.cfg.aws.account_id + ":";
}

std::string call::arn(std::string_view kind, std::string_view name) const {
  return arn_prefix() + std::string(kind) + "/" + std::string(name);
}

net::http_reply error(int status, std::string_view type, std::string_view message) {
  rapidjson::Document d;
  d.SetObject();
  d.AddMember("message", json::string_value(message, d.GetAllocator()), d.GetAllocator());
  net::http_reply reply{status, json::write(d)};
  reply.headers.emplace_back("x-amzn-ErrorType", std::string(type));
  return reply;
}

net::http_reply invalid(std::string_view message) {
  return error(400, "InvalidRequestException", message);
}

net::http_reply error_for(const failure& f) {
  using registry::error;
  const std::error_code ec = f.code;
  const std::string message = f.message.empty() ? ec.message() : f.describe();
  if (ec == error::not_found || ec == policy::error::no_such_policy ||
      ec == policy::error::no_such_version || ec == rules::error::no_such_rule) {
    return aws::error(404, "ResourceNotFoundException", message);
  }
  if (ec == error::already_exists || ec == policy::error::policy_exists ||
      ec == rules::error::rule_exists) {
    return aws::error(409, "ResourceAlreadyExistsException", message);
  }
  if (ec == error::version_conflict) return aws::error(409, "VersionConflictException", message);
  if (ec == error::in_use || ec == policy::error::policy_in_use ||
      ec == policy::error::default_version) {
    return aws::error(409, "DeleteConflictException", message);
  }
  if (ec == policy::error::version_limit) {
    return aws::error(409, "VersionsLimitExceededException", message);
  }
  if (ec == error::invalid_transition || ec == error::invalid_status) {
    return aws::error(406, "CertificateStateException", message);
  }
  if (ec == error::limit_exceeded || ec == policy::error::attachment_limit ||
      ec == error::too_many_cas_with_subject) {
    return aws::error(410, "LimitExceededException", message);
  }
  if (ec == error::registration_code_mismatch) {
    return aws::error(400, "RegistrationCodeValidationException", message);
  }
  if (ec == error::not_a_ca || ec == error::ca_certificate_invalid ||
      ec == error::verification_not_signed_by_ca || ec == error::verification_certificate_invalid ||
      ec == error::unknown_ca) {
    return aws::error(400, "CertificateValidationException", message);
  }
  if (ec == error::storage) return aws::error(500, "InternalFailureException", message);
  if (ec.category() == policy::error_category() && ec != policy::error::invalid_name) {
    return aws::error(400, "MalformedPolicyException", message);
  }
  return invalid(message);
}

void put(rapidjson::Value& o, std::string_view k, std::string_view v, alloc& a) {
  o.AddMember(json::string_value(k, a), json::string_value(v, a), a);
}

net::http_reply ok(const rapidjson::Value& v) { return {200, json::write(v)}; }

std::optional<net::http_reply> body_object(const call& c, rapidjson::Document& out) {
  if (c.r.body.empty()) {
    out.SetObject();
    return std::nullopt;
  }
  auto doc = json::parse(c.r.body);
  if (!doc) return invalid("the body is not JSON: " + doc.describe());
  if (!doc->IsObject()) return invalid("the body must be a JSON object");
  out = std::move(*doc);
  return std::nullopt;
}

std::optional<std::string> string_member(const rapidjson::Value& obj, std::string_view key,
                                         std::optional<net::http_reply>& bad) {
  const auto* v = json::find(obj, key);
  if (v == nullptr || v->IsNull()) return std::nullopt;
  if (!v->IsString()) {
    if (!bad) bad = invalid(std::string(key) + ": expected a string");
    return std::nullopt;
  }
  return std::string(json::view(*v));
}

double epoch_seconds(std::int64_t ms) { return static_cast<double>(ms) / 1000.0; }

}  // namespace iotblocks::gateway::aws

namespace iotblocks::gateway {

bool aws_signed(const net::incoming_request& r) noexcept {
  return r.authorization.starts_with("AWS4-");
}

void add_aws_routes(gateway::impl& g) {
  auto verifier = std::make_shared<aws::sigv4_verifier>();
  // Each key's policy, parsed once (the config reader checked it already).
  auto policies = std::make_shared<std::map<std::string, policy::policy_set, std::less<>>>();
  auto throttle = std::make_shared<aws::request_throttle>();
  std::shared_ptr<aws::tag_store> tags;
  if (auto store = aws::tag_store::open(g.cfg.data_dir + "/aws_tags.db")) {
    tags = std::move(*store);
  } else {
    // The tag calls answer InternalFailureException.
    g.log.write(log_level::error, "aws_tags_unavailable", {{"error", store.describe()}});
  }
  for (const auto& k : g.cfg.aws_access_keys) {
    verifier->add_key({k.id, k.secret});
    if (k.requests_per_second > 0) throttle->limit(k.id, k.requests_per_second, k.burst);
    if (k.policy.empty()) continue;
    if (auto doc = policy::parse_document(k.policy)) {
      (*policies)[k.id].add(k.id, 1, std::move(*doc));
    } else {
      (*policies)[k.id];  // unreadable: an empty set denies everything
    }
  }
  if (auto store = aws::index_config_store::open(g.cfg.data_dir + "/fleet_indexing.db")) {
    g.indexing = std::move(*store);
  } else {
    // The fleet indexing calls answer InternalFailureException.
    g.log.write(log_level::error, "fleet_indexing_unavailable", {{"error", store.describe()}});
  }
  auto requests = std::make_shared<std::atomic<std::uint64_t>>(0);
  auto entry = [&g, verifier, policies, throttle, tags, indexing = g.indexing,
                requests](const net::incoming_request& r) {
    const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    const aws::http_request_view view{r.method, r.raw_path, r.query, r.headers, r.body};
    const auto who = verifier->verify(view, now);
    net::http_reply reply;
    const auto found = who.ok() ? policies->find(who.access_key_id) : policies->end();
    const policy::policy_set* set = found == policies->end() ? nullptr : &found->second;
    if (!who.ok()) {
      reply = aws::error(who.status, who.error_type, who.message);
    } else if (!throttle->admit(who.access_key_id, std::chrono::steady_clock::now())) {
      // The service models shape ThrottlingException as 400 for iot, 429 for the data planes.
      reply = aws::error(who.service == "iotdata" || who.service == "iot-jobs-data" ? 429 : 400,
                         "ThrottlingException", "Rate exceeded");
    } else if (who.service == "iotdata") {
      reply = aws::route(g, r, aws::data_operations(), who.region, set, who.access_key_id,
                         tags.get(), indexing.get());
    } else if (who.service == "execute-api" || who.service == "iot") {
      reply = aws::route(g, r, aws::iot_operations(), who.region, set, who.access_key_id,
                         tags.get(), indexing.get());
    } else if (who.service == "iot-jobs-data") {
      reply = aws::route(g, r, aws::jobs_data_operations(), who.region, set, who.access_key_id,
                         tags.get(), indexing.get());
    } else {
      reply =
          aws::error(400, "UnknownOperationException",
                     "no AWS service \"" + who.service + "\" here (iot, iot-data, iot-jobs-data)");
    }
    reply.headers.emplace_back("x-amzn-RequestId",
                               "iotblocks-" + std::to_string(requests->fetch_add(1) + 1));
    return reply;
  };
  g.http.route_if(aws_signed, entry);
}

}  // namespace iotblocks::gateway
