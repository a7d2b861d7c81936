// Evaluation: may this client perform this action on this resource? IAM
// logic: default deny, an applicable Deny beats any Allow. The answer names
// the deciding statement so that logs can say why.
//
//   policy::policy_set set;
//   set.add("greenhouse_lux_policy", 1, doc);
//   policy::decision d = policy::evaluate(set,
//       {policy::actions::publish, "arn:aws:iot:us-east-1:000000000000:topic/Greenhouse/probe_1"},
//       ctx);
//   if (d.allowed()) ...;
//   log(d.to_json());   // {"decision":"ALLOWED","policy":"greenhouse_lux_policy",...}
#pragma once

#include <iotblocks/core/export.hpp>
#include <iotblocks/policy/action.hpp>
#include <iotblocks/policy/context.hpp>
#include <iotblocks/policy/document.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

IOTBLOCKS_API_BEGIN

namespace iotblocks::policy {

/// One authorisation question. `resource` is a full ARN ("*" for actions
/// without a resource). An action outside the known table (for resource
/// policies: "lambda:InvokeFunction") is passed by name with `action_name`
/// and `action` left at unknown_action.
struct request {
  static constexpr action_id unknown_action{0xFFFF};

  request() = default;
  request(action_id a, std::string_view r) noexcept : action(a), resource(r) {}
  /// A request for an action given by name (known or not).
  static request named(std::string_view name, std::string_view r) noexcept {
    request q;
    q.resource = r;
    if (auto id = find_action(name)) {
      q.action = *id;
    } else {
      q.action_name = name;
    }
    return q;
  }

  action_id action = unknown_action;
  std::string_view resource;
  std::string_view action_name;  ///< used only when action == unknown_action
};

enum class outcome : std::uint8_t { allowed, explicit_deny, implicit_deny };

/// "ALLOWED", "EXPLICIT_DENY", "IMPLICIT_DENY".
std::string_view to_string(outcome o) noexcept;

/// Policies evaluated together (all the policies attached to one principal).
/// Distinct objects: safe. Shared objects: safe for concurrent reads.
class policy_set {
 public:
  struct entry {
    std::string name;
    std::uint32_t version = 1;
    document doc;
  };
  void add(std::string name, std::uint32_t version, document doc) {
    entries_.push_back({std::move(name), version, std::move(doc)});
  }
  const std::vector<entry>& entries() const noexcept { return entries_; }
  bool empty() const noexcept { return entries_.empty(); }

 private:
  std::vector<entry> entries_;
};

/// The answer. For ALLOWED and EXPLICIT_DENY, `policy` and `statement` name the
/// deciding statement (the first applicable Deny, else the first applicable
/// Allow, in attachment then document order); the pointer stays valid while
/// the policy_set it came from lives.
struct decision {
  static constexpr std::size_t no_statement = static_cast<std::size_t>(-1);
  outcome result = outcome::implicit_deny;
  const policy_set::entry* policy = nullptr;
  std::size_t statement = no_statement;

  bool allowed() const noexcept { return result == outcome::allowed; }
  /// {"decision":"ALLOWED","policy":"p","version":1,"statement":{"index":0,
  ///  "sid":"s","effect":"Allow","line":3,"column":5}} (no policy/statement on IMPLICIT_DENY).
  std::string to_json() const;
};

/// Evaluates `req` against every policy in `set`. Never allocates.
decision evaluate(const policy_set& set, const request& req, const context& ctx);

/// Whether statement `index` of `doc` applies to the request (action, resource
/// and condition all match, every variable resolved).
bool statement_applies(const document& doc, std::size_t index, const request& req,
                       const context& ctx);

}  // namespace iotblocks::policy

IOTBLOCKS_API_END
