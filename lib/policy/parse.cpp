// Parsing and compiling policy documents. Every fault is reported with the
// position of the JSON value (or member name) it concerns.
#include <iotblocks/policy/action.hpp>
#include <iotblocks/policy/document.hpp>

#include "core/json.hpp"
#include "policy/compiled.hpp"
#include "policy/json_offsets.hpp"
#include "policy/pattern.hpp"

#include <fmt/format.h>

#include <charconv>
#include <set>
#include <string>

namespace iotblocks::policy {
namespace detail {
namespace {

using value = rapidjson::Value;

struct op_info {
  std::string_view name;
  cond_op op;
  bool negated;
};

constexpr op_info operators[] = {
    {"StringEquals", cond_op::string_equals, false},
    {"StringNotEquals", cond_op::string_not_equals, true},
    {"StringEqualsIgnoreCase", cond_op::string_equals_ignore_case, false},
    {"StringNotEqualsIgnoreCase", cond_op::string_not_equals_ignore_case, true},
    {"StringLike", cond_op::string_like, false},
    {"StringNotLike", cond_op::string_not_like, true},
    {"NumericEquals", cond_op::numeric_equals, false},
    {"NumericNotEquals", cond_op::numeric_not_equals, true},
    {"NumericLessThan", cond_op::numeric_less_than, false},
    {"NumericLessThanEquals", cond_op::numeric_less_than_equals, false},
    {"NumericGreaterThan", cond_op::numeric_greater_than, false},
    {"NumericGreaterThanEquals", cond_op::numeric_greater_than_equals, false},
    {"Bool", cond_op::boolean, false},
    {"IpAddress", cond_op::ip_address, false},
    {"NotIpAddress", cond_op::not_ip_address, true},
    {"ArnEquals", cond_op::arn_equals, false},
    {"ArnLike", cond_op::arn_like, false},
    {"ArnNotEquals", cond_op::arn_not_equals, true},
    {"ArnNotLike", cond_op::arn_not_like, true},
    {"Null", cond_op::null, false},
};

bool is_string_op(cond_op op) noexcept { return op <= cond_op::string_not_like; }
bool is_numeric_op(cond_op op) noexcept {
  return op >= cond_op::numeric_equals && op <= cond_op::numeric_greater_than_equals;
}
bool is_arn_op(cond_op op) noexcept {
  return op >= cond_op::arn_equals && op <= cond_op::arn_not_like;
}

class parser {
 public:
  parser(std::string_view text, const parse_options& o, const json_offsets& offsets,
         compiled_document& doc)
      : text_(text), options_(o), offsets_(offsets), doc_(doc) {}

  bool root(const value& root);
  failure take() { return std::move(failure_); }

 private:
  bool fail(error e, std::string message, const value& at, std::size_t inner = npos) {
    std::size_t offset = offsets_.of(at);
    // Point inside a string when its source text has no escapes (offsets then agree).
    if (inner != npos && at.IsString() && offset + 1 + at.GetStringLength() <= text_.size() &&
        text_.substr(offset + 1, at.GetStringLength()) == json::view(at)) {
      offset += 1 + inner;
    }
    failure_ = {e, std::move(message), position_in(text_, offset)};
    return false;
  }
  void warn(std::string message, const value& at) {
    doc_.warnings.push_back({std::move(message), position_in(text_, offsets_.of(at))});
  }
  bool unique_members(const value& obj);
  bool string_list(const value& v, std::string_view element, std::vector<const value*>& out);
  bool parse_statement(const value& s);
  bool parse_actions(const value& v, statement& st);
  bool parse_resources(const value& v, statement& st);
  bool parse_principal(const value& v, statement& st);
  bool parse_conditions(const value& v, statement& st);
  bool condition_values(const value& v, condition& c, std::string_view op_name);
  bool template_failed(const template_error& err, const value& at, error otherwise) {
    return fail(err.variable ? error::invalid_variable : otherwise, err.message, at, err.offset);
  }

  static constexpr std::size_t npos = static_cast<std::size_t>(-1);
  std::string_view text_;
  const parse_options& options_;
  const json_offsets& offsets_;
  compiled_document& doc_;
  failure failure_;
};

bool parser::unique_members(const value& obj) {
  std::set<std::string_view> seen;
  for (auto m = obj.MemberBegin(); m != obj.MemberEnd(); ++m) {
    if (!seen.insert(json::view(m->name)).second) {
      return fail(error::duplicate_element,
                  fmt::format("'{}' appears more than once", json::view(m->name)), m->name);
    }
  }
  return true;
}

bool parser::string_list(const value& v, std::string_view element, std::vector<const value*>& out) {
  out.clear();
  if (v.IsString()) {
    out.push_back(&v);
    return true;
  }
  if (!v.IsArray() || v.Empty()) {
    return fail(error::invalid_document,
                fmt::format("{} is a string or a non-empty array of strings", element), v);
  }
  if (v.Size() > options_.max_values_per_element) {
    return fail(
        error::too_large,
        fmt::format("{} has more than {} entries", element, options_.max_values_per_element), v);
  }
  for (const auto& e : v.GetArray()) {
    if (!e.IsString()) {
      return fail(error::invalid_document, fmt::format("{} entries are strings", element), e);
    }
    out.push_back(&e);
  }
  return true;
}

bool parser::root(const value& root) {
  if (!root.IsObject())
    return fail(error::invalid_document, "a policy document is a JSON object", root);
  if (!unique_members(root)) return false;
  const value* statements = nullptr;
  const value* version = nullptr;
  for (auto m = root.MemberBegin(); m != root.MemberEnd(); ++m) {
    const std::string_view name = json::view(m->name);
    if (name == "Version") {
      version = &m->value;
    } else if (name == "Id") {
      if (!m->value.IsString()) return fail(error::invalid_document, "Id is a string", m->value);
      doc_.id = std::string(json::view(m->value));
    } else if (name == "Statement") {
      statements = &m->value;
    } else {
      return fail(error::unknown_element,
                  fmt::format("unknown element '{}' (expected Version, Id or Statement)", name),
                  m->name);
    }
  }
  if (version == nullptr) {
    doc_.version = "2008-10-17";
    doc_.variables = false;
    warn(
        "no Version: the document is read as 2008-10-17, where ${...} is literal text; add "
        "\"Version\": \"2012-10-17\"",
        root);
  } else if (!version->IsString() ||
             (json::view(*version) != "2012-10-17" && json::view(*version) != "2008-10-17")) {
    return fail(error::unsupported_version,
                "Version is \"2012-10-17\" (or the older \"2008-10-17\")", *version);
  } else {
    doc_.version = std::string(json::view(*version));
    doc_.variables = doc_.version == "2012-10-17";
  }
  if (statements == nullptr)
    return fail(error::missing_element, "the document has no Statement", root);
  if (statements->IsObject()) {
    if (!parse_statement(*statements)) return false;
  } else if (statements->IsArray()) {
    if (statements->Size() > options_.max_statements) {
      return fail(error::too_large, fmt::format("more than {} statements", options_.max_statements),
                  *statements);
    }
    if (statements->Empty())
      warn("the Statement list is empty: every request is denied", *statements);
    for (const auto& s : statements->GetArray()) {
      if (!parse_statement(s)) return false;
    }
  } else {
    return fail(error::invalid_document, "Statement is an object or an array of objects",
                *statements);
  }
  std::set<std::string_view> sids;
  for (std::uint32_t i = 0; i < doc_.statements.size(); ++i) {
    const auto& st = doc_.statements[i];
    (st.eff == effect::deny ? doc_.denies : doc_.allows).push_back(i);
    if (!st.sid.empty() && !sids.insert(st.sid).second) {
      doc_.warnings.push_back(
          {fmt::format("Sid '{}' is used by more than one statement", st.sid), st.where});
    }
  }
  return true;
}

bool parser::parse_statement(const value& s) {
  if (!s.IsObject()) return fail(error::invalid_document, "a statement is a JSON object", s);
  if (!unique_members(s)) return false;
  statement st;
  st.where = position_in(text_, offsets_.of(s));
  const value* action = nullptr;
  const value* resource = nullptr;
  const value* effect_value = nullptr;
  const value* principal_value = nullptr;
  const value* condition_value = nullptr;
  for (auto m = s.MemberBegin(); m != s.MemberEnd(); ++m) {
    const std::string_view name = json::view(m->name);
    const value& v = m->value;
    if (name == "Sid") {
      if (!v.IsString()) return fail(error::invalid_document, "Sid is a string", v);
      st.sid = std::string(json::view(v));
    } else if (name == "Effect") {
      effect_value = &v;
    } else if (name == "Action" || name == "NotAction") {
      if (action != nullptr) {
        return fail(error::conflicting_elements, "a statement has Action or NotAction, not both",
                    m->name);
      }
      action = &v;
      st.not_action = name == "NotAction";
    } else if (name == "Resource" || name == "NotResource") {
      if (resource != nullptr) {
        return fail(error::conflicting_elements,
                    "a statement has Resource or NotResource, not both", m->name);
      }
      resource = &v;
      st.not_resource = name == "NotResource";
    } else if (name == "Condition") {
      condition_value = &v;
    } else if (name == "Principal" || name == "NotPrincipal") {
      if (options_.kind == document_kind::identity) {
        return fail(error::invalid_principal,
                    "an AWS IoT policy names no Principal: it applies to the certificates it is "
                    "attached to",
                    m->name);
      }
      if (name == "NotPrincipal") {
        return fail(error::invalid_principal, "NotPrincipal is not supported; use Principal",
                    m->name);
      }
      principal_value = &v;
    } else {
      return fail(error::unknown_element,
                  fmt::format("unknown statement element '{}' (expected Sid, Effect, Action, "
                              "NotAction, Resource, NotResource, Condition{})",
                              name, options_.kind == document_kind::resource ? ", Principal" : ""),
                  m->name);
    }
  }
  if (effect_value == nullptr)
    return fail(error::missing_element, "the statement has no Effect", s);
  if (!effect_value->IsString() ||
      (json::view(*effect_value) != "Allow" && json::view(*effect_value) != "Deny")) {
    return fail(error::invalid_effect, "Effect is \"Allow\" or \"Deny\"", *effect_value);
  }
  st.eff = json::view(*effect_value) == "Allow" ? effect::allow : effect::deny;
  if (action == nullptr) return fail(error::missing_element, "the statement has no Action", s);
  if (!parse_actions(*action, st)) return false;
  if (resource == nullptr) return fail(error::missing_element, "the statement has no Resource", s);
  if (!parse_resources(*resource, st)) return false;
  if (options_.kind == document_kind::resource) {
    if (principal_value == nullptr) {
      return fail(error::missing_element, "a resource policy statement names a Principal", s);
    }
    if (!parse_principal(*principal_value, st)) return false;
  }
  if (condition_value != nullptr && !parse_conditions(*condition_value, st)) return false;
  doc_.statements.push_back(std::move(st));
  return true;
}

bool parser::parse_actions(const value& v, statement& st) {
  std::vector<const value*> list;
  if (!string_list(v, st.not_action ? "NotAction" : "Action", list)) return false;
  for (const value* a : list) {
    const std::string_view text = json::view(*a);
    const auto colon = text.find(':');
    bool ok =
        text == "*" || (colon != std::string_view::npos && colon > 0 && colon + 1 < text.size());
    for (std::size_t i = 0; ok && i < text.size() && text != "*"; ++i) {
      const char c = text[i];
      const bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
      ok = i < colon ? (alnum || c == '-')
                     : i == colon || alnum || c == '*' || c == '?' || c == '_' || c == '-';
    }
    if (!ok) {
      return fail(
          error::invalid_action,
          fmt::format("'{}' is not an action (write service:Name, e.g. iot:Publish, or *)", text),
          *a);
    }
    bool any = false;
    for (std::size_t i = 0; i < action_count(); ++i) {
      if (wildcard_match(text, action_name(action_id{static_cast<std::uint16_t>(i)}), true)) {
        st.actions[i / 64] |= std::uint64_t{1} << (i % 64);
        any = true;
      }
    }
    const bool iot = colon == 3 && iequals(text.substr(0, 3), "iot");
    if (!any && iot) {
      warn(fmt::format("'{}' is not an AWS IoT action: it matches nothing", text), *a);
    } else if (!any && options_.kind == document_kind::identity) {
      warn(fmt::format("'{}' is not an AWS IoT action: an IoT policy never grants it", text), *a);
    }
    st.action_texts.emplace_back(text);
  }
  return true;
}

bool parser::parse_resources(const value& v, statement& st) {
  std::vector<const value*> list;
  if (!string_list(v, st.not_resource ? "NotResource" : "Resource", list)) return false;
  st.has_resource = true;
  for (const value* r : list) {
    const std::string_view text = json::view(*r);
    arn_pattern p;
    template_error err;
    std::string unknown;
    if (!compile_arn(text, {.wildcards = true, .variables = doc_.variables}, p, err, &unknown)) {
      return template_failed(err, *r, error::invalid_resource);
    }
    if (!unknown.empty()) {
      warn(fmt::format("${{{}}} is not an AWS IoT policy variable: unless the caller sets it, "
                       "the statement never applies",
                       unknown),
           *r);
    }
    const std::string_view tail = p.any ? std::string_view{} : split(text).tail;
    if (tail.starts_with("topic/") && tail.find_first_of("+#") != std::string_view::npos) {
      warn(
          "'+' and '#' are literal characters in policy resources and topic names never contain "
          "them; use '*' to match several topics",
          *r);
    }
    st.resources.push_back(std::move(p));
    st.resource_texts.emplace_back(text);
  }
  return true;
}

bool parser::parse_principal(const value& v, statement& st) {
  st.has_principal = true;
  if (v.IsString()) {
    if (json::view(v) != "*") {
      return fail(error::invalid_principal,
                  "Principal is \"*\" or an object such as {\"Service\": ...}", v);
    }
    st.principal_any = true;
    st.principal_texts.push_back({"*", {}});
    return true;
  }
  if (!v.IsObject() || v.ObjectEmpty()) {
    return fail(error::invalid_principal,
                "Principal is \"*\" or an object such as {\"Service\": ...}", v);
  }
  if (!unique_members(v)) return false;
  std::vector<const value*> list;
  for (auto m = v.MemberBegin(); m != v.MemberEnd(); ++m) {
    const std::string_view type = json::view(m->name);
    if (type != "AWS" && type != "Service") {
      return fail(error::invalid_principal,
                  fmt::format("principal type '{}' is not supported (AWS or Service)", type),
                  m->name);
    }
    if (!string_list(m->value, "Principal", list)) return false;
    std::vector<std::string> texts;
    for (const value* p : list) {
      std::string_view text = json::view(*p);
      texts.emplace_back(text);
      if (type == "Service") {
        std::string lower(text);
        for (char& c : lower) c = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
        st.principal_services.push_back(std::move(lower));
        continue;
      }
      if (text == "*") {
        st.principal_any = true;
        continue;
      }
      // "123456789012" or "arn:aws:iam::123456789012:root"
      if (text.starts_with("arn:")) {
        const split_arn a = split(text);
        if (!a.arn || a.head[2] != "iam" || a.tail != "root") {
          return fail(error::invalid_principal,
                      "an AWS principal is an account id or arn:aws:iam::<account>:root", *p);
        }
        text = a.head[4];
      }
      if (text.size() != 12 || text.find_first_not_of("0123456789") != std::string_view::npos) {
        return fail(error::invalid_principal, "an account id has 12 digits", *p);
      }
      st.principal_accounts.emplace_back(text);
    }
    st.principal_texts.push_back({std::string(type), std::move(texts)});
  }
  return true;
}

bool parser::parse_conditions(const value& v, statement& st) {
  if (!v.IsObject())
    return fail(error::invalid_condition, "Condition is an object of operators", v);
  if (!unique_members(v)) return false;
  for (auto m = v.MemberBegin(); m != v.MemberEnd(); ++m) {
    std::string_view name = json::view(m->name);
    condition proto;
    proto.op_text = std::string(name);
    if (name.starts_with("ForAllValues:")) {
      proto.qualifier = set_qualifier::for_all_values;
      name.remove_prefix(13);
    } else if (name.starts_with("ForAnyValue:")) {
      proto.qualifier = set_qualifier::for_any_value;
      name.remove_prefix(12);
    }
    if (name.ends_with("IfExists") && name != "IfExists") {
      proto.if_exists = true;
      name.remove_suffix(8);
    }
    const op_info* info = nullptr;
    for (const auto& o : operators) {
      if (o.name == name) info = &o;
    }
    if (info == nullptr) {
      const bool known_family = name.starts_with("Date") || name == "BinaryEquals";
      return fail(known_family ? error::unsupported_operator : error::invalid_condition,
                  known_family
                      ? fmt::format("condition operator '{}' is not supported", proto.op_text)
                      : fmt::format("unknown condition operator '{}'", proto.op_text),
                  m->name);
    }
    if (info->op == cond_op::null && (proto.if_exists || proto.qualifier != set_qualifier::none)) {
      return fail(error::invalid_condition, "Null takes neither IfExists nor a set qualifier",
                  m->name);
    }
    proto.op = info->op;
    proto.negated = info->negated;
    if (!m->value.IsObject() || m->value.ObjectEmpty()) {
      return fail(error::invalid_condition,
                  fmt::format("{} takes an object of condition keys and values", proto.op_text),
                  m->value);
    }
    if (!unique_members(m->value)) return false;
    for (auto k = m->value.MemberBegin(); k != m->value.MemberEnd(); ++k) {
      condition c = proto;
      c.key_text = std::string(json::view(k->name));
      bool known = true;
      auto key = parse_var(c.key_text, known);
      if (!key) {
        return fail(error::invalid_condition,
                    fmt::format("'{}' is not a condition key (write prefix:Name)", c.key_text),
                    k->name);
      }
      if (!known) {
        warn(fmt::format("'{}' is not an AWS IoT condition key: unless the caller sets it, it is "
                         "never present",
                         c.key_text),
             k->name);
      }
      c.key = std::move(*key);
      if (!condition_values(k->value, c, proto.op_text)) return false;
      st.conditions.push_back(std::move(c));
    }
  }
  return true;
}

bool parser::condition_values(const value& v, condition& c, std::string_view op_name) {
  std::vector<const value*> list;
  if (v.IsArray()) {
    if (v.Empty() || v.Size() > options_.max_values_per_element) {
      return fail(error::invalid_condition,
                  fmt::format("a condition takes 1 to {} values", options_.max_values_per_element),
                  v);
    }
    for (const auto& e : v.GetArray()) list.push_back(&e);
  } else {
    list.push_back(&v);
  }
  for (const value* e : list) {
    std::string text;
    if (e->IsString()) {
      text = std::string(json::view(*e));
    } else if (e->IsBool()) {
      text = e->GetBool() ? "true" : "false";
    } else if (e->IsInt64()) {
      text = fmt::format("{}", e->GetInt64());
    } else if (e->IsUint64()) {
      text = fmt::format("{}", e->GetUint64());
    } else if (e->IsDouble()) {
      text = fmt::format("{}", e->GetDouble());
    } else {
      return fail(error::invalid_condition_value,
                  "condition values are strings, numbers or booleans", *e);
    }
    const auto bad = [&](std::string_view what) {
      return fail(error::invalid_condition_value,
                  fmt::format("{} takes {}: '{}'", op_name, what, text), *e);
    };
    if (is_string_op(c.op)) {
      text_template t;
      template_error err;
      std::string unknown;
      const bool like = c.op == cond_op::string_like || c.op == cond_op::string_not_like;
      if (!compile_template(text, {.wildcards = like, .variables = doc_.variables}, t, err,
                            &unknown)) {
        return template_failed(err, *e, error::invalid_condition_value);
      }
      if (!unknown.empty())
        warn(fmt::format("${{{}}} is not an AWS IoT policy variable", unknown), *e);
      c.strings.push_back(std::move(t));
    } else if (is_arn_op(c.op)) {
      arn_pattern p;
      template_error err;
      if (!compile_arn(text, {.wildcards = true, .variables = doc_.variables}, p, err)) {
        return template_failed(err, *e, error::invalid_condition_value);
      }
      c.arns.push_back(std::move(p));
    } else if (is_numeric_op(c.op)) {
      double d = 0;
      const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), d);
      if (ec != std::errc{} || end != text.data() + text.size()) return bad("numbers");
      c.numbers.push_back(d);
    } else if (c.op == cond_op::ip_address || c.op == cond_op::not_ip_address) {
      auto block = parse_cidr(text);
      if (!block) return bad("IPv4 or IPv6 addresses or CIDR blocks");
      c.cidrs.push_back(*block);
    } else {  // Bool, Null
      if (iequals(text, "true")) {
        c.bools.push_back(true);
      } else if (iequals(text, "false")) {
        c.bools.push_back(false);
      } else {
        return bad("true or false");
      }
    }
    c.value_texts.push_back(std::move(text));
  }
  return true;
}

}  // namespace
}  // namespace detail

result<document> parse_document(std::string_view json, const parse_options& options) {
  std::size_t significant = 0;
  for (std::size_t i = 0; i < json.size(); ++i) {
    const char c = json[i];
    if (c != ' ' && c != '\t' && c != '\n' && c != '\r' && ++significant > options.max_size) {
      return {error::too_large,
              fmt::format("the document exceeds {} characters (whitespace not counted)",
                          options.max_size),
              position_in(json, i)};
    }
  }
  auto dom = json::parse(json, {.max_depth = options.max_depth});
  if (!dom) return std::move(dom).take_failure();
  auto compiled = std::make_shared<detail::compiled_document>();
  compiled->kind = options.kind;
  const detail::json_offsets offsets(*dom, json);
  detail::parser p(json, options, offsets, *compiled);
  if (!p.root(*dom)) return p.take();
  document doc;
  doc.impl_ = std::move(compiled);
  return doc;
}

}  // namespace iotblocks::policy
