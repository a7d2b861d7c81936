#include "policy/pattern.hpp"

#include "policy/variables.hpp"

#include <algorithm>

namespace iotblocks::policy::detail {
namespace {

char lower(char c) noexcept {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool piece_at(std::string_view s, std::size_t at, std::string_view piece, bool ci) noexcept {
  if (s.size() - at < piece.size()) return false;
  if (!ci) return s.compare(at, piece.size(), piece) == 0;
  for (std::size_t k = 0; k < piece.size(); ++k) {
    if (lower(s[at + k]) != lower(piece[k])) return false;
  }
  return true;
}

// Length of the UTF-8 character starting at s[i] (1 for stray bytes).
std::size_t char_len(std::string_view s, std::size_t i) noexcept {
  const auto b = static_cast<unsigned char>(s[i]);
  const std::size_t n = b < 0x80 ? 1 : b < 0xE0 ? 2 : b < 0xF0 ? 3 : 4;
  return (b >= 0x80 && b < 0xC0) ? 1 : std::min(n, s.size() - i);
}

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

// Parses the inside of "${...}": a key, optionally ", 'default'".
bool parse_variable(std::string_view inner, var_ref& v, std::string& why, bool& known) {
  std::string_view key = inner;
  std::string_view def;
  bool has_default = false;
  if (const auto q = inner.find('\''); q != std::string_view::npos) {
    std::string_view before = trim(inner.substr(0, q));
    std::string_view after = trim(inner.substr(q));
    if (before.empty() || before.back() != ',' || after.size() < 2 || after.back() != '\'' ||
        after.substr(1, after.size() - 2).find('\'') != std::string_view::npos) {
      why = "a default value is written ${key, 'default'}";
      return false;
    }
    key = before.substr(0, before.size() - 1);
    def = after.substr(1, after.size() - 2);
    has_default = true;
  }
  key = trim(key);
  auto parsed = parse_var(key, known);
  if (!parsed) {
    why = "malformed policy variable name";
    return false;
  }
  if (parsed->list) {
    why = "a .List variable holds several values and cannot be substituted into text";
    return false;
  }
  v = std::move(*parsed);
  v.has_default = has_default;
  v.default_value = std::string(def);
  return true;
}

void flush(text_template& t, std::string& lit) {
  if (lit.empty()) return;
  text_template::token tok;
  tok.text = std::move(lit);
  t.tokens.push_back(std::move(tok));
  lit.clear();
}

}  // namespace

bool resolvable(const text_template& t, const context& ctx) noexcept {
  for (const auto& tok : t.tokens) {
    if (tok.k == text_template::kind::variable && !resolve_one(tok.var, ctx)) return false;
  }
  return true;
}

bool resolvable(const arn_pattern& p, const context& ctx) noexcept {
  return p.any || p.tail.plain || resolvable(p.tail, ctx);
}

bool compile_template(std::string_view text, const template_options& o, text_template& out,
                      template_error& err, std::string* unknown_variable) {
  out = {};
  std::string lit;
  std::size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    if (o.variables && c == '$' && i + 1 < text.size() && text[i + 1] == '{') {
      const auto end = text.find('}', i + 2);
      if (end == std::string_view::npos) {
        err = {"'${' without a closing '}' (write ${$} for a literal '$')", i, true};
        return false;
      }
      const std::string_view inner = text.substr(i + 2, end - i - 2);
      if (inner == "*" || inner == "?" || inner == "$") {
        lit += inner;
      } else {
        text_template::token tok;
        tok.k = text_template::kind::variable;
        std::string why;
        bool known = true;
        if (!parse_variable(inner, tok.var, why, known)) {
          err = {why, i, true};
          return false;
        }
        if (!known && unknown_variable != nullptr && unknown_variable->empty()) {
          *unknown_variable = std::string(inner);
        }
        flush(out, lit);
        out.tokens.push_back(std::move(tok));
      }
      i = end + 1;
    } else if (o.wildcards && (c == '*' || c == '?')) {
      flush(out, lit);
      const auto k = c == '*' ? text_template::kind::star : text_template::kind::qmark;
      if (!(k == text_template::kind::star && !out.tokens.empty() && out.tokens.back().k == k)) {
        text_template::token tok;
        tok.k = k;
        out.tokens.push_back(std::move(tok));
      }
      ++i;
    } else {
      lit += c;
      ++i;
    }
  }
  flush(out, lit);
  out.plain = out.tokens.empty() ||
              (out.tokens.size() == 1 && out.tokens[0].k == text_template::kind::literal);
  if (out.plain && !out.tokens.empty()) out.literal = out.tokens[0].text;
  return true;
}

bool compile_arn(std::string_view text, const template_options& o, arn_pattern& out,
                 template_error& err, std::string* unknown_variable) {
  out = {};
  if (text == "*") {
    out.any = true;
    return true;
  }
  std::size_t start = 0;
  for (std::size_t part = 0; part < 5; ++part) {
    const auto colon = text.find(':', start);
    if (colon == std::string_view::npos) {
      err = {"a resource is \"*\" or an ARN arn:partition:service:region:account:resource", 0};
      return false;
    }
    const std::string_view piece = text.substr(start, colon - start);
    if (piece.find("${") != std::string_view::npos && o.variables) {
      err = {"variables are allowed only in the resource part of an ARN (after the fifth ':')",
             start + piece.find("${"), true};
      return false;
    }
    template_options head_options = o;
    head_options.variables = false;
    if (!compile_template(piece, head_options, out.head[part], err)) return false;
    start = colon + 1;
  }
  if (!out.head[0].plain || !iequals(out.head[0].literal, "arn")) {
    err = {"an ARN starts with \"arn:\"", 0};
    return false;
  }
  if (!compile_template(text.substr(start), o, out.tail, err, unknown_variable)) {
    err.offset += start;
    return false;
  }
  return true;
}

split_arn split(std::string_view resource) noexcept {
  split_arn r;
  r.whole = resource;
  std::size_t start = 0;
  for (std::size_t part = 0; part < 5; ++part) {
    const auto colon = resource.find(':', start);
    if (colon == std::string_view::npos) return r;
    r.head[part] = resource.substr(start, colon - start);
    start = colon + 1;
  }
  r.tail = resource.substr(start);
  r.arn = true;
  return r;
}

match_result match(const text_template& t, std::string_view s, const context& ctx,
                   bool ci) noexcept {
  using kind = text_template::kind;
  if (t.plain) {
    return (t.literal.size() == s.size() && piece_at(s, 0, t.literal, ci)) ? match_result::yes
                                                                           : match_result::no;
  }
  const auto& toks = t.tokens;
  std::size_t ti = 0;
  std::size_t si = 0;
  std::size_t star_ti = std::string_view::npos;
  std::size_t star_si = 0;
  while (true) {
    bool ok = false;
    if (ti < toks.size()) {
      const auto& tok = toks[ti];
      switch (tok.k) {
        case kind::star:
          star_ti = ti++;
          star_si = si;
          continue;
        case kind::qmark:
          if (si < s.size()) {
            si += char_len(s, si);
            ++ti;
            ok = true;
          }
          break;
        case kind::literal:
          if (piece_at(s, si, tok.text, ci)) {
            si += tok.text.size();
            ++ti;
            ok = true;
          }
          break;
        case kind::variable: {
          const auto v = resolve_one(tok.var, ctx);
          if (!v) return match_result::unresolved;
          if (piece_at(s, si, *v, ci)) {
            si += v->size();
            ++ti;
            ok = true;
          }
          break;
        }
      }
      if (ok) continue;
    } else if (si == s.size()) {
      return match_result::yes;
    }
    // Backtrack: let the last '*' take one more character.
    if (star_ti == std::string_view::npos || star_si >= s.size()) return match_result::no;
    star_si += char_len(s, star_si);
    si = star_si;
    ti = star_ti + 1;
  }
}

match_result match(const arn_pattern& p, const split_arn& r, const context& ctx,
                   bool resource) noexcept {
  if (p.any) return match_result::yes;
  if (!r.arn) return resolvable(p, ctx) ? match_result::no : match_result::unresolved;
  constexpr std::size_t region = 3;
  constexpr std::size_t account = 4;
  for (std::size_t k = 0; k < 5; ++k) {
    if (resource && ctx.any_account && (k == region || k == account)) continue;
    const auto& h = p.head[k];
    if (h.plain) {
      if (h.literal != r.head[k]) return match_result::no;
    } else if (match(h, r.head[k], ctx) != match_result::yes) {
      return match_result::no;
    }
  }
  return match(p.tail, r.tail, ctx);
}

bool wildcard_match(std::string_view p, std::string_view s, bool ci) noexcept {
  std::size_t pi = 0;
  std::size_t si = 0;
  std::size_t star_pi = std::string_view::npos;
  std::size_t star_si = 0;
  while (si < s.size() || pi < p.size()) {
    if (pi < p.size()) {
      const char c = p[pi];
      if (c == '*') {
        star_pi = pi++;
        star_si = si;
        continue;
      }
      if (si < s.size()) {
        if (c == '?') {
          si += char_len(s, si);
          ++pi;
          continue;
        }
        if (ci ? lower(c) == lower(s[si]) : c == s[si]) {
          ++pi;
          ++si;
          continue;
        }
      }
    }
    if (star_pi == std::string_view::npos || star_si >= s.size()) return false;
    star_si += char_len(s, star_si);
    si = star_si;
    pi = star_pi + 1;
  }
  return true;
}

}  // namespace iotblocks::policy::detail
