// The console's way to the AWS-shaped jobs and thing-group operations: /admin/iot/<REST
// path> with the admin token instead of SigV4, answered by the same handlers
// (aws_api_jobs.cpp, aws_api_groups.cpp, ListAttachedPolicies) with the same shapes.
#include "gateway/aws_api.hpp"
#include "gateway/security_admin.hpp"

#include <vector>

namespace iotblocks::gateway {
namespace {

constexpr std::string_view prefix = "/admin/iot";

/// Jobs, job templates, thing groups and ListAttachedPolicies (a group's policies).
std::span<const aws::operation> console_operations() {
  static const auto all = [] {
    std::vector<aws::operation> v;
    const auto jobs = aws::jobs_operations();
    v.insert(v.end(), jobs.begin(), jobs.end());
    const auto groups = aws::group_operations();
    v.insert(v.end(), groups.begin(), groups.end());
    for (const auto& op : aws::iot_operations()) {
      if (op.action == "iot:ListAttachedPolicies") v.push_back(op);
    }
    return v;
  }();
  return all;
}

}  // namespace

void add_admin_iot_routes(gateway::impl& g) {
  g.http.route("*", std::string(prefix),
               admin::guarded(g, [](gateway::impl& gi, const net::incoming_request& r) {
                 if (!r.raw_path.starts_with(prefix) ||
                     (r.raw_path.size() > prefix.size() && r.raw_path[prefix.size()] != '/')) {
                   return aws::error(404, "ResourceNotFoundException", "not found");
                 }
                 net::incoming_request inner = r;
                 inner.raw_path = r.raw_path.substr(prefix.size());
                 inner.path = r.path.size() >= prefix.size() ? r.path.substr(prefix.size()) : "";
                 // The admin token stands for every action (no policy), as on the admin API.
                 return aws::route(gi, inner, console_operations(), gi.cfg.aws.region, nullptr,
                                   "admin", nullptr);
               }));
}

}  // namespace iotblocks::gateway
