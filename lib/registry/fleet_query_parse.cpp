// The fleet indexing query parser: a tokenizer over the whole text (bounded by max_length),
// then recursive descent with the precedence OR < AND (explicit or implied) < NOT / `-`.
#include <iotblocks/registry/fleet_query.hpp>

#include <array>
#include <optional>

namespace iotblocks::registry {
namespace {

enum class tok {
  word,
  phrase,
  lparen,
  rparen,
  lbracket,
  rbracket,
  lbrace,
  rbrace,
  colon,
  lt,
  le,
  gt,
  ge,
  minus,
  kw_and,
  kw_or,
  kw_not,
  kw_to,
  end
};

struct token {
  tok kind = tok::end;
  std::size_t at = 0;     ///< offset in the query
  std::string text{};     ///< word/phrase: the value with escapes resolved
  std::string pattern{};  ///< word: the value with `\` escapes kept (for wildcard matching)
  bool wildcard = false;  ///< word: an unescaped `*` or `?`
  bool leading_wildcard = false;
};

bool space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'; }
bool delimiter(char c) {
  return space(c) || c == '(' || c == ')' || c == '[' || c == ']' || c == '{' || c == '}' ||
         c == ':' || c == '<' || c == '>' || c == '"';
}
/// The guide's unsupported special characters (outside quotes).
bool unsupported(char c) {
  return c == '`' || c == '@' || c == '#' || c == '%' || c == '/' || c == '\'' || c == ';' ||
         c == ',';
}

failure fault(std::string_view text, std::size_t at, std::string message) {
  return {error::invalid_query, std::move(message), position_in(text, at)};
}

class tokenizer {
 public:
  explicit tokenizer(std::string_view text) : text_(text) {}

  result<std::vector<token>> run() {
    std::vector<token> out;
    std::size_t i = 0;
    while (true) {
      while (i < text_.size() && space(text_[i])) ++i;
      if (i == text_.size()) break;
      const char c = text_[i];
      token t;
      t.at = i;
      static constexpr std::array<std::pair<char, tok>, 7> singles{{{'(', tok::lparen},
                                                                    {')', tok::rparen},
                                                                    {'[', tok::lbracket},
                                                                    {']', tok::rbracket},
                                                                    {'{', tok::lbrace},
                                                                    {'}', tok::rbrace},
                                                                    {':', tok::colon}}};
      bool single = false;
      for (auto [ch, kind] : singles) {
        if (c == ch) {
          t.kind = kind;
          single = true;
        }
      }
      if (single) {
        ++i;
      } else if (c == '<' || c == '>') {
        const bool eq = i + 1 < text_.size() && text_[i + 1] == '=';
        t.kind = c == '<' ? (eq ? tok::le : tok::lt) : (eq ? tok::ge : tok::gt);
        i += eq ? 2 : 1;
      } else if (c == '"') {
        auto r = phrase(i, t);
        if (!r) return r.fail();
      } else if (c == '-' && minus_here(out, i)) {
        t.kind = tok::minus;
        ++i;
      } else {
        auto r = word(i, t);
        if (!r) return r.fail();
      }
      out.push_back(std::move(t));
    }
    token end;
    end.at = text_.size();
    out.push_back(std::move(end));
    return out;
  }

 private:
  /// A `-` that excludes: at the start of a term, not a negative number after `:` or `<`.
  bool minus_here(const std::vector<token>& before, std::size_t i) const {
    if (i + 1 >= text_.size() || delimiter(text_[i + 1])) return false;
    if (before.empty()) return true;
    const tok prev = before.back().kind;
    const bool value_position = prev == tok::colon || prev == tok::lt || prev == tok::le ||
                                prev == tok::gt || prev == tok::ge || prev == tok::lbracket ||
                                prev == tok::lbrace || prev == tok::kw_to;
    const bool digit = text_[i + 1] >= '0' && text_[i + 1] <= '9';
    return !(value_position && digit);
  }

  result<void> phrase(std::size_t& i, token& t) {
    t.kind = tok::phrase;
    ++i;
    while (i < text_.size() && text_[i] != '"') {
      if (text_[i] == '\\') {
        if (i + 1 == text_.size()) break;
        ++i;
      }
      t.text += text_[i++];
    }
    if (i == text_.size()) return fault(text_, t.at, "unterminated quoted string");
    ++i;
    return {};
  }

  result<void> word(std::size_t& i, token& t) {
    t.kind = tok::word;
    bool escaped_any = false;
    while (i < text_.size() && !delimiter(text_[i])) {
      const char c = text_[i];
      if (c == '\\') {
        if (i + 1 == text_.size()) return fault(text_, i, "nothing to escape after '\\'");
        escaped_any = true;
        t.text += text_[i + 1];
        t.pattern += '\\';
        t.pattern += text_[i + 1];
        i += 2;
        continue;
      }
      if (unsupported(c)) {
        return fault(text_, i, std::string("unsupported character '") + c + "'");
      }
      if (c == '*' || c == '?') {
        t.wildcard = true;
        if (t.pattern.empty()) t.leading_wildcard = true;
      }
      t.text += c;
      t.pattern += c;
      ++i;
    }
    if (!escaped_any && !t.wildcard) {
      if (t.text == "AND") t.kind = tok::kw_and;
      if (t.text == "OR") t.kind = tok::kw_or;
      if (t.text == "NOT") t.kind = tok::kw_not;
      if (t.text == "TO") t.kind = tok::kw_to;
    }
    return {};
  }

  std::string_view text_;
};

bool known_field(std::string_view f, fleet_index index) {
  auto under = [&](std::string_view prefix) {
    return f.size() > prefix.size() && f.starts_with(prefix) && !f.ends_with('.');
  };
  if (under("attributes.")) return true;
  if (index == fleet_index::thing_groups) {
    return f == "thingGroupName" || f == "thingGroupId" || f == "thingGroupDescription" ||
           f == "parentGroupNames";
  }
  return f == "thingName" || f == "thingId" || f == "thingTypeName" || f == "thingGroupNames" ||
         f == "connectivity.connected" || f == "connectivity.timestamp" ||
         f == "connectivity.disconnectReason" || under("shadow.");
}

}  // namespace

class fleet_query_parser {
 public:
  fleet_query_parser(std::string_view text, fleet_index index, const fleet_query_limits& limits,
                     std::vector<token> tokens)
      : text_(text), index_(index), limits_(limits), tokens_(std::move(tokens)) {}

  result<fleet_query> run() {
    fleet_query q;
    nodes_ = &q.nodes_;
    auto root = disjunction({}, 0);
    if (!root) return root.fail();
    if (peek().kind != tok::end) {
      return fault(
          text_, peek().at,
          peek().kind == tok::rparen ? "unbalanced ')'" : "unexpected " + describe(peek()));
    }
    if (leading_wildcards_ > 0 && text_.size() > limits_.max_leading_wildcard_length) {
      return fault(text_, leading_at_,
                   "a query with a leading wildcard may have at most " +
                       std::to_string(limits_.max_leading_wildcard_length) + " characters");
    }
    q.root_ = *root;
    return q;
  }

 private:
  using index_result = result<std::size_t>;

  const token& peek(std::size_t ahead = 0) const {
    return tokens_[std::min(pos_ + ahead, tokens_.size() - 1)];
  }
  const token& take() { return tokens_[std::min(pos_++, tokens_.size() - 1)]; }

  static std::string describe(const token& t) {
    switch (t.kind) {
      case tok::end: return "end of query";
      case tok::word: return "'" + t.text + "'";
      case tok::phrase: return "quoted string";
      case tok::kw_and: return "AND";
      case tok::kw_or: return "OR";
      case tok::kw_not: return "NOT";
      case tok::kw_to: return "TO";
      case tok::lparen: return "'('";
      case tok::rparen: return "')'";
      case tok::lbracket: return "'['";
      case tok::rbracket: return "']'";
      case tok::lbrace: return "'{'";
      case tok::rbrace: return "'}'";
      case tok::colon: return "':'";
      case tok::lt: return "'<'";
      case tok::le: return "'<='";
      case tok::gt: return "'>'";
      case tok::ge: return "'>='";
      case tok::minus: return "'-'";
    }
    return "?";
  }

  std::size_t add(fleet_query::node n) {
    nodes_->push_back(std::move(n));
    return nodes_->size() - 1;
  }

  std::optional<failure> deeper(std::size_t depth, std::size_t at) const {
    if (depth < limits_.max_depth) return std::nullopt;
    return fault(text_, at, "nested deeper than " + std::to_string(limits_.max_depth));
  }

  /// a OR b OR …
  index_result disjunction(const std::string& field, std::size_t depth) {
    auto first = conjunction(field, depth);
    if (!first) return first;
    std::vector<std::size_t> parts{*first};
    while (peek().kind == tok::kw_or) {
      take();
      auto next = conjunction(field, depth);
      if (!next) return next;
      parts.push_back(*next);
    }
    if (parts.size() == 1) return parts[0];
    fleet_query::node n;
    n.what = fleet_query::node::kind::any;
    n.children = std::move(parts);
    return add(std::move(n));
  }

  bool starts_operand(tok k) const {
    return k == tok::word || k == tok::phrase || k == tok::lparen || k == tok::minus ||
           k == tok::kw_not;
  }

  /// a AND b, a b (the default operator), a NOT b (a AND NOT b).
  index_result conjunction(const std::string& field, std::size_t depth) {
    auto first = unary(field, depth);
    if (!first) return first;
    std::vector<std::size_t> parts{*first};
    while (true) {
      if (peek().kind == tok::kw_and) {
        take();
        if (!starts_operand(peek().kind)) {
          return fault(text_, peek().at, "expected a term after AND, found " + describe(peek()));
        }
      } else if (!starts_operand(peek().kind)) {
        break;
      }
      auto next = unary(field, depth);
      if (!next) return next;
      parts.push_back(*next);
    }
    if (parts.size() == 1) return parts[0];
    fleet_query::node n;
    n.what = fleet_query::node::kind::all;
    n.children = std::move(parts);
    return add(std::move(n));
  }

  index_result unary(const std::string& field, std::size_t depth) {
    if (peek().kind == tok::kw_not || peek().kind == tok::minus) {
      const auto& op = take();
      if (auto f = deeper(depth + 1, op.at)) return *f;
      if (!starts_operand(peek().kind)) {
        return fault(text_, peek().at,
                     "expected a term after " + describe(op) + ", found " + describe(peek()));
      }
      auto inner = unary(field, depth + 1);
      if (!inner) return inner;
      fleet_query::node n;
      n.what = fleet_query::node::kind::negate;
      n.children = {*inner};
      return add(std::move(n));
    }
    return primary(field, depth);
  }

  index_result group(const std::string& field, std::size_t depth) {
    const auto& open = take();
    if (auto f = deeper(depth + 1, open.at)) return *f;
    if (peek().kind == tok::rparen) return fault(text_, peek().at, "empty parentheses");
    auto inner = disjunction(field, depth + 1);
    if (!inner) return inner;
    if (peek().kind != tok::rparen) {
      return fault(text_, peek().at,
                   "expected ')' to close the '(' at " + std::to_string(open.at + 1) + ", found " +
                       describe(peek()));
    }
    take();
    return inner;
  }

  index_result primary(const std::string& field, std::size_t depth) {
    const auto& t = peek();
    if (t.kind == tok::lparen) return group(field, depth);
    if (t.kind != tok::word && t.kind != tok::phrase) {
      return fault(text_, t.at, "expected a term, found " + describe(t));
    }
    const tok next = peek(1).kind;
    const bool names_field = t.kind == tok::word && !t.wildcard &&
                             (next == tok::colon || next == tok::lt || next == tok::le ||
                              next == tok::gt || next == tok::ge);
    if (!names_field) return value(field, take());
    if (!field.empty()) {
      return fault(text_, t.at, "a field inside the field group of " + field);
    }
    const auto& name = take();
    if (!known_field(name.text, index_)) {
      return fault(text_, name.at, "unknown field '" + name.text + "'");
    }
    const auto& op = take();
    if (op.kind != tok::colon) return comparison(name.text, op);
    if (peek().kind == tok::lparen) return group(name.text, depth);
    if (peek().kind == tok::lbracket || peek().kind == tok::lbrace) return range(name.text);
    if (peek().kind != tok::word && peek().kind != tok::phrase) {
      return fault(text_, peek().at, "expected a value after ':', found " + describe(peek()));
    }
    return value(name.text, take());
  }

  std::optional<failure> count_term(const token& t) {
    if (++terms_ > limits_.max_terms) {
      return fault(text_, t.at, "more than " + std::to_string(limits_.max_terms) + " terms");
    }
    return std::nullopt;
  }

  index_result value(const std::string& field, const token& t) {
    if (auto f = count_term(t)) return *f;
    fleet_query::node n;
    n.field = field;
    if (t.kind == tok::word && t.wildcard) {
      if (t.leading_wildcard && t.text != "*") {
        if (++leading_wildcards_ > 1) {
          return fault(text_, t.at, "only one term may start with a wildcard");
        }
        leading_at_ = t.at;
      }
      n.how = fleet_query::node::test::pattern;
      n.value = t.pattern;
    } else {
      n.value = t.text;
    }
    return add(std::move(n));
  }

  /// A range bound: a word or phrase, `*` for none.
  result<void> bound(std::string& out, bool& open) {
    const auto& t = take();
    if (t.kind != tok::word && t.kind != tok::phrase) {
      return fault(text_, t.at, "expected a range bound, found " + describe(t));
    }
    open = t.kind == tok::word && t.text == "*";
    if (t.kind == tok::word && t.wildcard && !open) {
      return fault(text_, t.at, "a range bound cannot have wildcards");
    }
    out = t.text;
    return {};
  }

  index_result range(const std::string& field) {
    const auto& open = take();
    if (auto f = count_term(open)) return *f;
    fleet_query::node n;
    n.field = field;
    n.how = fleet_query::node::test::range;
    n.low_inclusive = open.kind == tok::lbracket;
    if (auto r = bound(n.low, n.low_open); !r) return r.fail();
    if (peek().kind != tok::kw_to) {
      return fault(text_, peek().at, "expected TO in the range, found " + describe(peek()));
    }
    take();
    if (auto r = bound(n.high, n.high_open); !r) return r.fail();
    const auto& close = take();
    if (close.kind != tok::rbracket && close.kind != tok::rbrace) {
      return fault(text_, close.at,
                   "expected ']' or '}' to end the range, found " + describe(close));
    }
    n.high_inclusive = close.kind == tok::rbracket;
    return add(std::move(n));
  }

  index_result comparison(const std::string& field, const token& op) {
    if (auto f = count_term(op)) return *f;
    const auto& v = take();
    if (v.kind != tok::word && v.kind != tok::phrase) {
      return fault(text_, v.at,
                   "expected a value after " + describe(op) + ", found " + describe(v));
    }
    if (v.kind == tok::word && v.wildcard) {
      return fault(text_, v.at, "a comparison value cannot have wildcards");
    }
    fleet_query::node n;
    n.field = field;
    n.how = fleet_query::node::test::range;
    if (op.kind == tok::lt || op.kind == tok::le) {
      n.low_open = true;
      n.high = v.text;
      n.high_inclusive = op.kind == tok::le;
    } else {
      n.high_open = true;
      n.low = v.text;
      n.low_inclusive = op.kind == tok::ge;
    }
    return add(std::move(n));
  }

  std::string_view text_;
  fleet_index index_;
  fleet_query_limits limits_;
  std::vector<token> tokens_;
  std::size_t pos_ = 0;
  std::vector<fleet_query::node>* nodes_ = nullptr;
  std::size_t terms_ = 0;
  std::size_t leading_wildcards_ = 0;
  std::size_t leading_at_ = 0;
};

result<fleet_query> fleet_query::parse(std::string_view text, fleet_index index,
                                       const fleet_query_limits& limits) {
  if (text.size() > limits.max_length) {
    return fault(text, limits.max_length,
                 "longer than " + std::to_string(limits.max_length) + " characters");
  }
  auto tokens = tokenizer(text).run();
  if (!tokens) return tokens.fail();
  if (tokens->size() == 1) return fault(text, 0, "empty query");
  return fleet_query_parser(text, index, limits, std::move(*tokens)).run();
}

}  // namespace iotblocks::registry
