// Matching a parsed fleet indexing query against a thing_document: case-insensitive values,
// numbers compared as numbers when both sides are numbers, `*`/`?` patterns matched without
// backtracking blow-up (greedy star with one restart point).
#include <iotblocks/registry/fleet_query.hpp>

#include "core/json.hpp"

#include <charconv>
#include <cmath>
#include <optional>

namespace iotblocks::registry {
namespace {

using node = fleet_query::node;

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool same_text(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

/// -1, 0, 1 as a < b, case-insensitively.
int compare_text(std::string_view a, std::string_view b) {
  const std::size_t n = std::min(a.size(), b.size());
  for (std::size_t i = 0; i < n; ++i) {
    const char x = lower(a[i]), y = lower(b[i]);
    if (x != y) return x < y ? -1 : 1;
  }
  if (a.size() == b.size()) return 0;
  return a.size() < b.size() ? -1 : 1;
}

std::optional<double> number(std::string_view s) {
  double v = 0;
  if (s.empty()) return std::nullopt;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || end != s.data() + s.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

struct pattern_char {
  char c;
  bool wild;  ///< `*` or `?` unescaped
};

std::vector<pattern_char> compile(std::string_view pattern) {
  std::vector<pattern_char> out;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] == '\\' && i + 1 < pattern.size()) {
      out.push_back({pattern[++i], false});
    } else {
      out.push_back({pattern[i], pattern[i] == '*' || pattern[i] == '?'});
    }
  }
  return out;
}

/// Glob match in O(|p|·|s|) at worst: a later `*` supersedes the restart point of an earlier one.
bool glob(const std::vector<pattern_char>& p, std::string_view s) {
  std::size_t pi = 0, si = 0;
  std::size_t star = std::string_view::npos, mark = 0;
  while (si < s.size()) {
    if (pi < p.size() && p[pi].wild && p[pi].c == '*') {
      star = pi++;
      mark = si;
    } else if (pi < p.size() && ((p[pi].wild && p[pi].c == '?') ||
                                 (!p[pi].wild && lower(p[pi].c) == lower(s[si])))) {
      ++pi;
      ++si;
    } else if (star != std::string_view::npos) {
      pi = star + 1;
      si = ++mark;
    } else {
      return false;
    }
  }
  while (pi < p.size() && p[pi].wild && p[pi].c == '*') ++pi;
  return pi == p.size();
}

bool in_range(const node& n, std::string_view v) {
  const auto value = number(v);
  const auto low = number(n.low);
  const auto high = number(n.high);
  const bool numeric = value && (n.low_open || low) && (n.high_open || high);
  if (numeric) {
    const double x = *value;
    const double lo = low.value_or(0), hi = high.value_or(0);
    if (!n.low_open && (n.low_inclusive ? x < lo : x <= lo)) return false;
    if (!n.high_open && (n.high_inclusive ? x > hi : x >= hi)) return false;
    return true;
  }
  // Strings: a bound that is a number while the value is not compares as text too.
  if (!n.low_open) {
    const int c = compare_text(v, n.low);
    if (n.low_inclusive ? c < 0 : c <= 0) return false;
  }
  if (!n.high_open) {
    const int c = compare_text(v, n.high);
    if (n.high_inclusive ? c > 0 : c >= 0) return false;
  }
  return true;
}

bool value_matches(const node& n, const std::vector<pattern_char>& p, std::string_view v) {
  switch (n.how) {
    case node::test::equal: {
      const auto a = number(n.value), b = number(v);
      if (a && b) return *a == *b;
      return same_text(n.value, v);
    }
    case node::test::pattern: return glob(p, v);
    case node::test::range: return in_range(n, v);
  }
  return false;
}

bool term_matches(const node& n, const thing_document& d) {
  const auto p = n.how == node::test::pattern ? compile(n.value) : std::vector<pattern_char>{};
  const auto& fields = d.fields();
  if (n.field.empty()) {
    for (const auto& [k, v] : fields) {
      if (value_matches(n, p, v)) return true;
    }
    return false;
  }
  auto [from, to] = fields.equal_range(n.field);
  for (auto it = from; it != to; ++it) {
    if (value_matches(n, p, it->second)) return true;
  }
  // `field:*` also finds an object field (shadow.reported.location: its leaves are under it).
  if (n.how == node::test::pattern && n.value == "*") {
    const std::string prefix = n.field + ".";
    const auto it = fields.lower_bound(prefix);
    return it != fields.end() && it->first.starts_with(prefix);
  }
  return false;
}

bool eval(const std::vector<node>& nodes, std::size_t at, const thing_document& d) {
  const node& n = nodes[at];
  switch (n.what) {
    case node::kind::all:
      for (auto c : n.children) {
        if (!eval(nodes, c, d)) return false;
      }
      return true;
    case node::kind::any:
      for (auto c : n.children) {
        if (eval(nodes, c, d)) return true;
      }
      return false;
    case node::kind::negate: return !eval(nodes, n.children.at(0), d);
    case node::kind::term: return term_matches(n, d);
  }
  return false;
}

void flatten(thing_document& d, const std::string& prefix, const rapidjson::Value& v) {
  if (v.IsObject()) {
    for (auto it = v.MemberBegin(); it != v.MemberEnd(); ++it) {
      flatten(d, prefix + "." + std::string(json::view(it->name)), it->value);
    }
  } else if (v.IsArray()) {
    for (const auto& e : v.GetArray()) flatten(d, prefix, e);
  } else if (v.IsString()) {
    d.add(prefix, std::string(json::view(v)));
  } else if (v.IsBool()) {
    d.add(prefix, v.IsTrue() ? "true" : "false");
  } else if (v.IsNumber()) {
    d.add(prefix, json::write(v));
  }
}

}  // namespace

void thing_document::add(std::string field, std::string value) {
  fields_.emplace(std::move(field), std::move(value));
}

result<void> thing_document::add_json(std::string_view prefix, std::string_view text) {
  auto doc = json::parse(text);
  if (!doc) return doc.fail();
  if (!doc->IsObject()) return failure{error::invalid_query, "expected a JSON object", {}};
  flatten(*this, std::string(prefix), *doc);
  return {};
}

bool fleet_query::matches(const thing_document& d) const {
  return !nodes_.empty() && eval(nodes_, root_, d);
}

bool fleet_query::reads(std::string_view field_prefix) const {
  for (const auto& n : nodes_) {
    if (n.what == node::kind::term && (n.field.empty() || n.field.starts_with(field_prefix))) {
      return true;
    }
  }
  return false;
}

}  // namespace iotblocks::registry
