#include <iotblocks/policy/resource_policy.hpp>

#include "core/json.hpp"
#include "policy/evaluate_detail.hpp"
#include "policy/variables.hpp"

#include <fmt/format.h>

namespace iotblocks::policy {
namespace {

bool principal_matches(const detail::statement& st, std::string_view service,
                       std::string_view account) {
  if (st.principal_any) return true;
  for (const auto& s : st.principal_services) {
    if (detail::iequals(s, service)) return true;
  }
  for (const auto& a : st.principal_accounts) {
    if (a == account) return true;
  }
  return false;
}

// Does an (applicable) statement name the caller explicitly? A condition that
// held on the key counts, unless it is negated or IfExists (which also hold
// when the key is missing).
bool names_key(const detail::statement& st, std::string_view key) {
  for (const auto& c : st.conditions) {
    if (c.key.kind == detail::var_kind::extra && c.key.name == key && !c.negated && !c.if_exists &&
        c.op != detail::cond_op::null && c.qualifier != detail::set_qualifier::for_all_values) {
      return true;
    }
  }
  return false;
}

bool names_account(const detail::statement& st, std::string_view account) {
  if (names_key(st, "aws:sourceaccount")) return true;
  for (const auto& a : st.principal_accounts) {
    if (a == account) return true;
  }
  return false;
}

result<rapidjson::Document> load(std::string_view existing) {
  if (existing.empty()) {
    rapidjson::Document d;
    d.SetObject();
    d.AddMember("Version", "2012-10-17", d.GetAllocator());
    d.AddMember("Statement", rapidjson::Value(rapidjson::kArrayType), d.GetAllocator());
    return d;
  }
  auto checked = parse_document(existing, resource_policy_options());
  if (!checked) return std::move(checked).take_failure();
  auto d = json::parse(existing, {.max_depth = resource_policy_options().max_depth});
  if (!d) return std::move(d).take_failure();
  auto& statements = (*d)["Statement"];
  if (statements.IsObject()) {  // normalise a single statement to a list
    rapidjson::Value one(statements, d->GetAllocator());
    statements.SetArray();
    statements.PushBack(one, d->GetAllocator());
  }
  return d;
}

}  // namespace

parse_options resource_policy_options() noexcept {
  return {.kind = document_kind::resource, .max_size = 20480};
}

invocation_decision authorize_invocation(const document& resource_policy, const invocation& inv) {
  invocation_decision out;
  const auto* d = resource_policy.compiled();
  if (d == nullptr) {
    out.reason = "the destination has no resource policy";
    return out;
  }
  const detail::split_arn source = detail::split(inv.source_arn);
  const std::string_view account = !inv.source_account.empty()
                                       ? inv.source_account
                                       : (source.arn ? source.head[4] : std::string_view{});
  const detail::split_arn destination = detail::split(inv.destination_arn);
  out.cross_account = destination.arn && account != destination.head[4];
  context ctx;
  if (!account.empty()) ctx.extra.push_back({"aws:SourceAccount", {std::string(account)}});
  if (!inv.source_arn.empty())
    ctx.extra.push_back({"aws:SourceArn", {std::string(inv.source_arn)}});
  if (!inv.service.empty()) {
    ctx.extra.push_back({"aws:PrincipalServiceName", {std::string(inv.service)}});
  }
  const request req = request::named(inv.action, inv.destination_arn);
  auto applicable = [&](std::uint32_t i) {
    const auto& st = d->statements[i];
    return principal_matches(st, inv.service, account) &&
           detail::applies(st, req, destination, ctx);
  };
  for (std::uint32_t i : d->denies) {
    if (applicable(i)) {
      out.result = outcome::explicit_deny;
      out.statement = i;
      out.reason = fmt::format("denied by statement {}", i);
      return out;
    }
  }
  for (std::uint32_t i : d->allows) {
    if (!applicable(i)) continue;
    const auto& st = d->statements[i];
    if (out.cross_account && !(names_account(st, account) && names_key(st, "aws:sourcearn"))) {
      out.reason += fmt::format(
          "statement {} allows, but a cross-account call needs a statement that names the source "
          "account (aws:SourceAccount) and the rule (aws:SourceArn); ",
          i);
      continue;
    }
    out.result = outcome::allowed;
    out.statement = i;
    out.reason = fmt::format("allowed by statement {}", i);
    return out;
  }
  if (out.reason.empty()) out.reason = "no statement allows the call";
  return out;
}

result<std::string> add_permission(std::string_view existing, const permission& p) {
  auto loaded = load(existing);
  if (!loaded) return std::move(loaded).take_failure();
  rapidjson::Document& d = *loaded;
  auto& a = d.GetAllocator();
  auto& statements = d["Statement"];
  for (const auto& s : statements.GetArray()) {
    if (const auto sid = json::get_string(s, "Sid"); sid && *sid == p.statement_id) {
      return {error::duplicate_element, fmt::format("statement id '{}' is taken", p.statement_id)};
    }
  }
  auto str = [&](std::string_view s) { return json::string_value(s, a); };
  rapidjson::Value st(rapidjson::kObjectType);
  if (!p.statement_id.empty()) st.AddMember("Sid", str(p.statement_id), a);
  st.AddMember("Effect", "Allow", a);
  rapidjson::Value principal(rapidjson::kObjectType);
  principal.AddMember("Service", str(p.principal_service), a);
  st.AddMember("Principal", principal, a);
  st.AddMember("Action", str(p.action), a);
  st.AddMember("Resource", str(p.destination_arn), a);
  rapidjson::Value condition(rapidjson::kObjectType);
  if (!p.source_account.empty()) {
    rapidjson::Value eq(rapidjson::kObjectType);
    eq.AddMember("aws:SourceAccount", str(p.source_account), a);
    condition.AddMember("StringEquals", eq, a);
  }
  if (!p.source_arn.empty()) {
    rapidjson::Value like(rapidjson::kObjectType);
    like.AddMember("aws:SourceArn", str(p.source_arn), a);
    condition.AddMember("ArnLike", like, a);
  }
  if (!condition.ObjectEmpty()) st.AddMember("Condition", condition, a);
  statements.PushBack(st, a);
  std::string text = json::write(d, true);
  auto check = parse_document(text, resource_policy_options());
  if (!check) return std::move(check).take_failure();
  return text;
}

result<std::string> remove_permission(std::string_view existing, std::string_view statement_id) {
  auto loaded = load(existing);
  if (!loaded) return std::move(loaded).take_failure();
  auto& statements = (*loaded)["Statement"];
  for (auto it = statements.Begin(); it != statements.End(); ++it) {
    if (const auto sid = json::get_string(*it, "Sid"); sid && *sid == statement_id) {
      statements.Erase(it);
      return json::write(*loaded, true);
    }
  }
  return {core::error::not_found, fmt::format("no statement with id '{}'", statement_id)};
}

}  // namespace iotblocks::policy
