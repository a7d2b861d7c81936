// Private: the AWS-shaped HTTP API (docs/aws-api.md). Requests signed with SigV4
// for the signing name "iotdata" go to the data plane (aws_api_data.cpp), those
// for "execute-api" (AWS IoT) to the control plane (aws_api_iot.cpp); both answer
// with AWS's REST-JSON shapes and errors (x-amzn-ErrorType, JSON "message").
#pragma once

#include <iotblocks/core/result.hpp>
#include <iotblocks/gateway/aws_sigv4.hpp>
#include <iotblocks/gateway/config.hpp>
#include <iotblocks/net/http_server.hpp>

#include "core/json.hpp"
#include "gateway/gateway_impl.hpp"

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace iotblocks::policy {
class policy_set;
}

namespace iotblocks::gateway::aws {

/// Reads "aws_access_keys": [{"access_key_id": "...", "secret_access_key": "..."}].
result<void> read_access_keys(const rapidjson::Value& root, config& c);

class tag_store;
struct tag;
class index_config_store;

/// One call being answered: the request, the path parameters, the signer's region.
struct call {
  gateway::impl& g;
  const net::incoming_request& r;
  std::vector<std::string> params;  ///< the {…} path segments, percent-decoded
  std::string region;
  tag_store* tags = nullptr;               ///< aws_tags.db (null when it could not be opened)
  index_config_store* indexing = nullptr;  ///< fleet_indexing.db (null when it could not be opened)
  /// "arn:aws:iot:<region>:<account>:<kind>/<name>".
  std::string arn(std::string_view kind, std::string_view name) const;
  /// "arn:aws:iot:<region>:<account>:".
  std::string arn_prefix() const;
};

/// An error as AWS sends it: status, x-amzn-ErrorType and {"message": ...}.
net::http_reply error(int status, std::string_view type, std::string_view message);
/// 400 InvalidRequestException.
net::http_reply invalid(std::string_view message);
/// The AWS error for a library failure (registry, policy store, rules engine).
net::http_reply error_for(const failure& f);
/// 200 with the document as JSON.
net::http_reply ok(const rapidjson::Value& v);
/// The body as a JSON object ({} when empty), or 400 naming what is wrong.
std::optional<net::http_reply> body_object(const call& c, rapidjson::Document& out);
/// A string member (absent: nullopt; present and not a string: `bad` set to the error).
std::optional<std::string> string_member(const rapidjson::Value& obj, std::string_view key,
                                         std::optional<net::http_reply>& bad);
using alloc = rapidjson::Document::AllocatorType;
/// Adds the string member `k`: `v` to the object `o`.
void put(rapidjson::Value& o, std::string_view k, std::string_view v, alloc& a);
/// Seconds since the epoch (AWS REST-JSON timestamps).
double epoch_seconds(std::int64_t ms);

using handler = net::http_reply (*)(call&);
struct operation {
  std::string_view method;
  std::string_view pattern;  ///< "/things/{}/principals": "{}" matches one segment
  handler fn;
  std::string_view action;  ///< the IoT policy action, "iot:CreateThing"
  /// The ARN kind of the first path parameter ("thing", "topic", "policy", "cert",
  /// "cacert", "rule"): the resource is arn(kind, params[0]); empty: "*".
  std::string_view resource = {};
};

/// The control-plane operations (aws_api_iot.cpp) and data-plane operations (aws_api_data.cpp).
std::span<const operation> iot_operations();
std::span<const operation> data_operations();
/// AWS IoT Jobs: control-plane operations (part of iot_operations()) and the jobs data
/// plane, signing name "iot-jobs-data" (aws_api_jobs.cpp).
std::span<const operation> jobs_operations();
/// ListManagedJobTemplates, DescribeManagedJobTemplate (aws_api_jobs_managed.cpp).
std::span<const operation> managed_job_template_operations();
std::span<const operation> jobs_data_operations();
/// Static thing groups (aws_api_groups.cpp), part of iot_operations().
std::span<const operation> group_operations();
/// Tags (aws_api_tags.cpp), part of iot_operations().
std::span<const operation> tag_operations();
/// Before `op` runs: the tags of a create call that takes them (checked), or the error.
std::optional<net::http_reply> tags_before(call& c, const operation& op, std::vector<tag>& tags);
/// After `op` answered 2xx: a create's tags stored, a deleted resource's tags removed.
void tags_after(call& c, const operation& op, const std::vector<tag>& tags, net::http_reply& reply);
/// Thing types (aws_api_thing_types.cpp), part of iot_operations().
std::span<const operation> thing_type_operations();
/// Fleet indexing: configuration, indices, search-index (aws_api_index.cpp), part of
/// iot_operations().
std::span<const operation> index_operations();
/// Dynamic thing groups (aws_api_dynamic_groups.cpp), part of iot_operations().
std::span<const operation> dynamic_group_operations();
/// A thing was created or changed (attributes, type, static groups): its memberships of the
/// dynamic thing groups follow their queries.
void dynamic_groups_refresh(call& c, std::string_view thing);
/// A message the broker accepted changed what fleet indexing knows of a thing: a presence
/// event (connectivity.*) or an accepted shadow update or delete (shadow.*). The thing's
/// memberships of the dynamic groups whose queries read those fields follow them.
void dynamic_groups_follow(gateway::impl& g, std::string_view topic);
/// Whether `group` is a dynamic thing group.
bool is_dynamic_group(call& c, std::string_view group);
/// The thing is in `group` now: the IN_PROGRESS continuous jobs that target the group or an
/// ancestor give it an execution (aws_api_groups.cpp).
void reached_by_group_jobs(gateway::impl& g, std::string_view thing);
/// describe- and update-event-configurations (aws_api_events.cpp), part of iot_operations().
std::span<const operation> event_operations();
/// Provisioning templates and their versions (aws_api_provisioning.cpp), part of iot_operations().
std::span<const operation> provisioning_template_operations();
/// Nothing when a thing may be given `type` (empty: no type), else the AWS error (404 for a
/// missing type, 400 for a deprecated one).
std::optional<net::http_reply> thing_type_assignable(call& c, std::string_view type);
/// Runs the first of `ops` that matches the request's method and raw path (after the policy
/// `policies` allows it; null: every action), or answers UnknownOperationException.
/// `indexing` null: fleet indexing calls fail and dynamic groups are not re-evaluated.
net::http_reply route(gateway::impl& g, const net::incoming_request& r,
                      std::span<const operation> ops, std::string region,
                      const policy::policy_set* policies, std::string_view key_id, tag_store* tags,
                      index_config_store* indexing = nullptr);
/// A deleted thing leaves its groups, and its pending job executions become REMOVED.
void thing_deleted(call& c, std::string_view thing);

}  // namespace iotblocks::gateway::aws

namespace iotblocks::gateway {
/// Whether a request carries a SigV4 Authorization header (and so goes to the AWS API).
bool aws_signed(const net::incoming_request& r) noexcept;
/// Sends every SigV4-signed request to the AWS API, before the other routes.
void add_aws_routes(gateway::impl& g);
/// /admin/iot/<REST path>: the jobs and thing-group operations with the admin token
/// (admin_iot.cpp), for the console.
void add_admin_iot_routes(gateway::impl& g);
}  // namespace iotblocks::gateway
