// A bare-metal program that parses an IAM policy document and evaluates a publish
// request against it (iotblocks::policy): linked for Cortex-M4 with --gc-sections by
// scripts/cross.sh (docs/firmware.md, "Linked").
#include <iotblocks/policy/evaluate.hpp>

#include <cstddef>
#include <string>
#include <utility>

namespace policy = iotblocks::policy;

// Input the linker cannot see through: a policy and a resource ARN land here.
volatile char rx_policy[512];
volatile char rx_resource[128];

int main() {
  std::string json, resource;
  for (std::size_t i = 0; i < sizeof rx_policy && rx_policy[i] != '\0'; ++i)
    json.push_back(rx_policy[i]);
  for (std::size_t i = 0; i < sizeof rx_resource && rx_resource[i] != '\0'; ++i)
    resource.push_back(rx_resource[i]);
  auto doc = policy::parse_document(json);
  if (!doc) return 2;
  policy::policy_set set;
  set.add("p", 1, std::move(*doc));
  policy::context ctx;
  ctx.client_id = "device";
  return policy::evaluate(set, {policy::actions::publish, resource}, ctx).allowed() ? 0 : 1;
}
