#include <iotblocks/policy/evaluate.hpp>

#include "policy/evaluate_detail.hpp"
#include "policy/ip.hpp"
#include "policy/variables.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <charconv>

namespace iotblocks::policy {
namespace detail {
namespace {

enum class tri : std::uint8_t { no, yes, unresolved };

bool action_matches(const statement& st, const request& req) noexcept {
  bool in = false;
  if (req.action.value < action_count()) {
    in = (st.actions[req.action.value / 64] >> (req.action.value % 64)) & 1U;
  } else {
    for (const auto& a : st.action_texts) {
      if (wildcard_match(a, req.action_name, true)) {
        in = true;
        break;
      }
    }
  }
  return in != st.not_action;
}

// A statement with a variable that does not resolve does not apply, whichever
// entry of its Resource list would match.
bool all_resolvable(const statement& st, const context& ctx) noexcept {
  for (const auto& p : st.resources) {
    if (!resolvable(p, ctx)) return false;
  }
  return true;
}

tri resource_matches(const statement& st, const split_arn& r, const context& ctx) noexcept {
  if (st.not_resource && !all_resolvable(st, ctx)) return tri::unresolved;
  bool any = false;
  for (const auto& p : st.resources) {
    const match_result m = match(p, r, ctx, true);
    if (m == match_result::unresolved) return tri::unresolved;
    if (m == match_result::yes) {
      any = true;
      break;
    }
  }
  if (st.not_resource) return any ? tri::no : tri::yes;
  if (!any) return tri::no;
  return all_resolvable(st, ctx) ? tri::yes : tri::unresolved;
}

bool parse_double(std::string_view s, double& d) noexcept {
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), d);
  return ec == std::errc{} && end == s.data() + s.size();
}

bool parse_bool(std::string_view s, bool& b) noexcept {
  if (iequals(s, "true")) return b = true, true;
  if (iequals(s, "false")) return b = false, true;
  return false;
}

// Does request value `r` match any of the condition's values (positive sense)?
tri value_matches(const condition& c, std::string_view r, const context& ctx) noexcept {
  switch (c.op) {
    case cond_op::string_equals:
    case cond_op::string_not_equals:
    case cond_op::string_like:
    case cond_op::string_not_like:
    case cond_op::string_equals_ignore_case:
    case cond_op::string_not_equals_ignore_case: {
      const bool ci = c.op == cond_op::string_equals_ignore_case ||
                      c.op == cond_op::string_not_equals_ignore_case;
      bool any = false;
      for (const auto& t : c.strings) {
        const match_result m = match(t, r, ctx, ci);
        if (m == match_result::unresolved) return tri::unresolved;
        any = any || m == match_result::yes;
      }
      return any ? tri::yes : tri::no;
    }
    case cond_op::arn_equals:
    case cond_op::arn_like:
    case cond_op::arn_not_equals:
    case cond_op::arn_not_like: {
      const split_arn a = split(r);
      bool any = false;
      for (const auto& p : c.arns) {
        const match_result m = match(p, a, ctx);
        if (m == match_result::unresolved) return tri::unresolved;
        any = any || m == match_result::yes;
      }
      return any ? tri::yes : tri::no;
    }
    case cond_op::numeric_equals:
    case cond_op::numeric_not_equals:
    case cond_op::numeric_less_than:
    case cond_op::numeric_less_than_equals:
    case cond_op::numeric_greater_than:
    case cond_op::numeric_greater_than_equals: {
      double d = 0;
      if (!parse_double(r, d)) return tri::no;
      for (double p : c.numbers) {
        const bool m = c.op == cond_op::numeric_equals || c.op == cond_op::numeric_not_equals
                           ? d == p
                       : c.op == cond_op::numeric_less_than        ? d < p
                       : c.op == cond_op::numeric_less_than_equals ? d <= p
                       : c.op == cond_op::numeric_greater_than     ? d > p
                                                                   : d >= p;
        if (m) return tri::yes;
      }
      return tri::no;
    }
    case cond_op::boolean: {
      bool b = false;
      if (!parse_bool(r, b)) return tri::no;
      for (bool p : c.bools) {
        if (p == b) return tri::yes;
      }
      return tri::no;
    }
    case cond_op::ip_address:
    case cond_op::not_ip_address: {
      const auto a = parse_ip(r);
      if (!a) return tri::no;
      for (const auto& block : c.cidrs) {
        if (contains(block, *a)) return tri::yes;
      }
      return tri::no;
    }
    case cond_op::null: return tri::no;  // handled by the caller
  }
  return tri::no;
}

tri condition_holds(const condition& c, const context& ctx) noexcept {
  const values vs = resolve(c.key, ctx);
  const bool absent = vs.size() == 0;
  if (c.op == cond_op::null) {
    for (bool b : c.bools) {
      if (b == absent) return tri::yes;
    }
    return tri::no;
  }
  // Variables in the condition's own values must resolve, whatever the request holds.
  for (const auto& t : c.strings) {
    if (!t.plain && !resolvable(t, ctx)) return tri::unresolved;
  }
  for (const auto& p : c.arns) {
    if (!resolvable(p, ctx)) return tri::unresolved;
  }
  if (absent) {
    if (c.if_exists || c.qualifier == set_qualifier::for_all_values) return tri::yes;
    if (c.qualifier == set_qualifier::for_any_value) return tri::no;
    return c.negated ? tri::yes : tri::no;
  }
  const bool all = c.qualifier == set_qualifier::for_all_values;
  bool result = all;  // ForAllValues: AND over request values; otherwise OR
  for (std::size_t i = 0; i < vs.size(); ++i) {
    const tri m = value_matches(c, vs[i], ctx);
    if (m == tri::unresolved) return tri::unresolved;
    // Negated operators: a request value satisfies them when it matches none of the values.
    const bool ok = (m == tri::yes) != c.negated;
    if (c.qualifier == set_qualifier::none && c.negated) {
      if (!ok) return tri::no;  // plain negated: no request value may match
      result = true;
      continue;
    }
    if (all && !ok) return tri::no;
    if (!all && ok) return tri::yes;
  }
  return result ? tri::yes : tri::no;
}

}  // namespace

bool applies(const statement& st, const request& req, const split_arn& resource,
             const context& ctx) noexcept {
  if (!action_matches(st, req)) return false;
  if (resource_matches(st, resource, ctx) != tri::yes) return false;
  for (const auto& c : st.conditions) {
    if (condition_holds(c, ctx) != tri::yes) return false;
  }
  return true;
}

}  // namespace detail

std::string_view to_string(outcome o) noexcept {
  switch (o) {
    case outcome::allowed: return "ALLOWED";
    case outcome::explicit_deny: return "EXPLICIT_DENY";
    case outcome::implicit_deny: return "IMPLICIT_DENY";
  }
  return "IMPLICIT_DENY";
}

decision evaluate(const policy_set& set, const request& req, const context& ctx) {
  const detail::split_arn r = detail::split(req.resource);
  for (const auto& e : set.entries()) {
    const auto* doc = e.doc.compiled();
    if (doc == nullptr) continue;
    for (std::uint32_t i : doc->denies) {
      if (detail::applies(doc->statements[i], req, r, ctx)) return {outcome::explicit_deny, &e, i};
    }
  }
  for (const auto& e : set.entries()) {
    const auto* doc = e.doc.compiled();
    if (doc == nullptr) continue;
    for (std::uint32_t i : doc->allows) {
      if (detail::applies(doc->statements[i], req, r, ctx)) return {outcome::allowed, &e, i};
    }
  }
  return {};
}

bool statement_applies(const document& doc, std::size_t index, const request& req,
                       const context& ctx) {
  const auto* d = doc.compiled();
  if (d == nullptr || index >= d->statements.size()) return false;
  return detail::applies(d->statements[index], req, detail::split(req.resource), ctx);
}

std::string decision::to_json() const {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  auto str = [&](std::string_view s) {
    w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()), true);
  };
  w.StartObject();
  str("decision");
  str(to_string(result));
  if (policy != nullptr && statement != no_statement) {
    const statement_info info = policy->doc.statement(statement);
    str("policy");
    str(policy->name);
    str("version");
    w.Uint(policy->version);
    str("statement");
    w.StartObject();
    str("index");
    w.Uint64(info.index);
    if (!info.sid.empty()) {
      str("sid");
      str(info.sid);
    }
    str("effect");
    str(info.effect == effect::allow ? "Allow" : "Deny");
    if (info.where.known()) {
      str("line");
      w.Uint(info.where.line);
      str("column");
      w.Uint(info.where.column);
    }
    w.EndObject();
  }
  w.EndObject();
  return {buffer.GetString(), buffer.GetSize()};
}

}  // namespace iotblocks::policy
