#include "sql/parser.hpp"

#include <iotblocks/core/utf8.hpp>
#include <iotblocks/sql/error.hpp>

#include <charconv>
#include <cmath>
#include <initializer_list>
#include <optional>

#include <fmt/format.h>

namespace iotblocks::sql::detail {
namespace {

constexpr std::string_view reserved[] = {"select", "from", "where", "as",   "and", "or", "not",
                                         "case",   "when", "then",  "else", "end", "set"};

bool is_reserved(std::string_view w) noexcept {
  for (auto r : reserved) {
    if (iequals(w, r)) return true;
  }
  return false;
}

class parser {
 public:
  parser(std::string_view src, std::size_t max_depth) : src_(src), max_depth_(max_depth) {}
  parser(std::string_view src, std::size_t max_depth, std::vector<token> toks)
      : src_(src), max_depth_(max_depth), toks_(std::move(toks)) {}

  std::optional<failure> err;

  statement parse_statement() {
    statement st;
    if (is_kw(0, "set")) {
      next();
      do {
        if (peek().kind != tok::variable) {
          fail(peek(), error::syntax_error,
               fmt::format("expected a variable (@name) but found {}", describe(peek())));
          return st;
        }
        statement::assignment a;
        a.name = peek().text;
        a.offset = peek().offset;
        next();
        expect(tok::eq, "'='");
        a.expr = parse_expr();
        if (err) return st;
        st.sets.push_back(std::move(a));
      } while (accept(tok::comma));
    }
    if (!is_kw(0, "select")) {
      fail(peek(), error::syntax_error,
           fmt::format("expected SELECT but found {}", describe(peek())));
      return st;
    }
    parse_select(st.select, false);
    if (!err && peek().kind != tok::end) {
      fail(peek(), error::syntax_error,
           fmt::format("unexpected {} after the statement", describe(peek())));
    }
    return st;
  }

  ast_ptr parse_expr() {
    if (!enter()) return nullptr;
    auto e = parse_or();
    leave();
    return e;
  }

  std::size_t offset_of_current() { return peek().offset; }

 private:
  // --- tokens --------------------------------------------------------------
  const token& peek(std::size_t k = 0) {
    while (toks_.size() <= pos_ + k) {
      token t;
      if (!toks_.empty() && toks_.back().kind == tok::end) return toks_.back();
      if (auto f = lex_one(src_, lex_pos_, t)) {
        if (!err) err = std::move(*f);
        t = token{};
        t.offset = src_.size();
        toks_.push_back(std::move(t));
        return toks_.back();
      }
      toks_.push_back(std::move(t));
    }
    return toks_[pos_ + k];
  }
  void next() {
    peek();
    if (toks_[pos_].kind != tok::end) ++pos_;
  }
  bool accept(tok k) {
    if (peek().kind != k) return false;
    next();
    return true;
  }
  bool is_kw(std::size_t k, std::string_view kw) {
    const token& t = peek(k);
    return t.kind == tok::word && iequals(t.text, kw);
  }
  bool accept_kw(std::string_view kw) {
    if (!is_kw(0, kw)) return false;
    next();
    return true;
  }
  void expect(tok k, std::string_view what) {
    if (err) return;
    if (!accept(k)) {
      fail(peek(), error::syntax_error,
           fmt::format("expected {} but found {}", what, describe(peek())));
    }
  }
  void expect_kw(std::string_view kw) {
    if (err) return;
    if (!accept_kw(kw)) {
      fail(peek(), error::syntax_error,
           fmt::format("expected {} but found {}", kw, describe(peek())));
    }
  }
  void fail(const token& t, error code, std::string msg) {
    fail_at(t.offset, code, std::move(msg));
  }
  void fail_at(std::size_t offset, error code, std::string msg) {
    if (!err) err = failure{code, std::move(msg), position_in(src_, offset)};
  }
  bool enter() {
    if (++depth_ > max_depth_) {
      fail(peek(), error::too_deep,
           fmt::format("expression nests deeper than the limit of {}", max_depth_));
      return false;
    }
    return true;
  }
  void leave() { --depth_; }

  ast_ptr node(ast_kind k, std::size_t offset) {
    auto n = std::make_unique<ast>();
    n->kind = k;
    n->offset = offset;
    return n;
  }

  // --- SELECT ----------------------------------------------------------------
  // After SELECT, is VALUE the keyword (followed by an operand) or a field named value?
  bool value_is_keyword() {
    if (!is_kw(0, "value")) return false;
    const token& t = peek(1);
    switch (t.kind) {
      case tok::word: return !iequals(t.text, "from") && !iequals(t.text, "as");
      case tok::quoted:
      case tok::variable:
      case tok::string:
      case tok::integer:
      case tok::decimal:
      case tok::lparen:
      case tok::lbracket:
      case tok::lbrace:
      case tok::star: return true;
      default: return false;
    }
  }

  void parse_select(select_stmt& s, bool nested) {
    expect_kw("select");
    if (value_is_keyword()) {
      next();
      s.value = true;
    }
    do {
      select_item item;
      item.offset = peek().offset;
      if (peek().kind == tok::star && !s.value) {
        next();
      } else {
        item.expr = parse_expr();
        if (err) return;
        if (accept_kw("as")) {
          item.alias_offset = peek().offset;
          do {
            const token& t = peek();
            if (t.kind != tok::word && t.kind != tok::quoted && t.kind != tok::string) {
              fail(t, error::syntax_error,
                   fmt::format("expected an alias name but found {}", describe(t)));
              return;
            }
            item.alias.push_back(t.text);
            next();
          } while (accept(tok::dot));
        }
      }
      s.items.push_back(std::move(item));
    } while (accept(tok::comma));
    if (err) return;
    if (s.value && s.items.size() != 1) {
      fail_at(s.items[1].offset, error::syntax_error, "SELECT VALUE takes exactly one expression");
      return;
    }
    if (accept_kw("from")) {
      s.has_from = true;
      if (nested) {
        s.source = parse_expr();
      } else {
        const token& t = peek();
        if (t.kind != tok::string || !t.single_quoted) {
          fail(t, error::syntax_error,
               fmt::format("expected a topic filter in single quotes but found {}", describe(t)));
          return;
        }
        s.topic = t.text;
        s.topic_offset = t.offset;
        next();
      }
    } else if (nested) {
      fail(peek(), error::syntax_error,
           fmt::format("expected FROM in the nested SELECT but found {}", describe(peek())));
      return;
    }
    if (err) return;
    if (accept_kw("where")) s.where = parse_expr();
  }

  // --- expressions -------------------------------------------------------------
  ast_ptr binary(binop op, ast_ptr l, ast_ptr r, std::size_t offset) {
    auto n = node(ast_kind::binary, offset);
    n->op = op;
    n->kids.push_back(std::move(l));
    n->kids.push_back(std::move(r));
    return n;
  }

  ast_ptr parse_or() {
    auto l = parse_and();
    while (!err && is_kw(0, "or")) {
      const std::size_t at = peek().offset;
      next();
      auto r = parse_and();
      if (err) return nullptr;
      l = binary(binop::or_, std::move(l), std::move(r), at);
    }
    return err ? nullptr : std::move(l);
  }
  ast_ptr parse_and() {
    auto l = parse_not();
    while (!err && is_kw(0, "and")) {
      const std::size_t at = peek().offset;
      next();
      auto r = parse_not();
      if (err) return nullptr;
      l = binary(binop::and_, std::move(l), std::move(r), at);
    }
    return err ? nullptr : std::move(l);
  }
  ast_ptr parse_not() {
    if (is_kw(0, "not")) {
      const std::size_t at = peek().offset;
      next();
      if (!enter()) return nullptr;
      auto operand = parse_not();
      leave();
      if (err) return nullptr;
      auto n = node(ast_kind::not_, at);
      n->kids.push_back(std::move(operand));
      return n;
    }
    return parse_cmp();
  }
  ast_ptr parse_cmp() {
    auto l = parse_add();
    while (!err) {
      binop op;
      switch (peek().kind) {
        case tok::eq: op = binop::eq; break;
        case tok::ne: op = binop::ne; break;
        case tok::lt: op = binop::lt; break;
        case tok::le: op = binop::le; break;
        case tok::gt: op = binop::gt; break;
        case tok::ge: op = binop::ge; break;
        default: return l;
      }
      const std::size_t at = peek().offset;
      next();
      auto r = parse_add();
      if (err) return nullptr;
      l = binary(op, std::move(l), std::move(r), at);
    }
    return nullptr;
  }
  ast_ptr parse_add() {
    auto l = parse_mul();
    while (!err && (peek().kind == tok::plus || peek().kind == tok::minus)) {
      const binop op = peek().kind == tok::plus ? binop::add : binop::sub;
      const std::size_t at = peek().offset;
      next();
      auto r = parse_mul();
      if (err) return nullptr;
      l = binary(op, std::move(l), std::move(r), at);
    }
    return err ? nullptr : std::move(l);
  }
  ast_ptr parse_mul() {
    auto l = parse_unary();
    while (!err &&
           (peek().kind == tok::star || peek().kind == tok::slash || peek().kind == tok::percent)) {
      const binop op = peek().kind == tok::star    ? binop::mul
                       : peek().kind == tok::slash ? binop::div
                                                   : binop::mod;
      const std::size_t at = peek().offset;
      next();
      auto r = parse_unary();
      if (err) return nullptr;
      l = binary(op, std::move(l), std::move(r), at);
    }
    return err ? nullptr : std::move(l);
  }
  ast_ptr parse_unary() {
    if (peek().kind == tok::minus) {
      const std::size_t at = peek().offset;
      next();
      if (!enter()) return nullptr;
      auto operand = parse_unary();
      leave();
      if (err) return nullptr;
      // Fold -literal so that -9223372036854775808 stays an Int.
      if ((operand->kind == ast_kind::integer || operand->kind == ast_kind::decimal) &&
          operand->offset == at + 1 && !operand->text.starts_with('-')) {
        operand->text = "-" + operand->text;
        operand->offset = at;
        return reparse_number(std::move(operand));
      }
      auto n = node(ast_kind::neg, at);
      n->kids.push_back(std::move(operand));
      return n;
    }
    return parse_postfix();
  }
  ast_ptr reparse_number(ast_ptr n) {
    std::int64_t v = 0;
    const char* b = n->text.data();
    const char* e = b + n->text.size();
    auto [p, ec] = std::from_chars(b, e, v);
    if (ec == std::errc{} && p == e) {
      n->kind = ast_kind::integer;
      n->i = v;
      return n;
    }
    double d = 0;
    auto [p2, ec2] = std::from_chars(b, e, d);
    if (ec2 != std::errc{} || p2 != e || !std::isfinite(d)) {
      fail_at(n->offset, error::invalid_number,
              fmt::format("number '{}' is out of range", n->text));
      return nullptr;
    }
    n->kind = ast_kind::decimal;
    n->d = d;
    return n;
  }
  ast_ptr parse_postfix() {
    auto e = parse_primary();
    while (!err && e && peek().kind == tok::dot) {
      next();
      const token& t = peek();
      if (t.kind != tok::word && t.kind != tok::quoted) {
        fail(t, error::syntax_error,
             fmt::format("expected a field name after '.' but found {}", describe(t)));
        return nullptr;
      }
      auto m = node(ast_kind::member, t.offset);
      m->text = t.text;
      m->kids.push_back(std::move(e));
      e = std::move(m);
      next();
    }
    return err ? nullptr : std::move(e);
  }

  ast_ptr parse_primary() {
    const token t = peek();
    switch (t.kind) {
      case tok::integer: {
        next();
        auto n = node(ast_kind::integer, t.offset);
        n->text = t.text;
        return reparse_number(std::move(n));
      }
      case tok::decimal: {
        next();
        auto n = node(ast_kind::decimal, t.offset);
        n->text = t.text;
        return reparse_number(std::move(n));
      }
      case tok::string: {
        next();
        auto n = node(ast_kind::string, t.offset);
        n->text = t.text;
        return n;
      }
      case tok::variable: {
        next();
        auto n = node(ast_kind::variable, t.offset);
        n->text = t.text;
        return n;
      }
      case tok::star: {
        next();
        return node(ast_kind::star, t.offset);
      }
      case tok::quoted: {
        next();
        auto n = node(ast_kind::field, t.offset);
        n->text = t.text;
        return n;
      }
      case tok::lparen: {
        next();
        if (is_kw(0, "select")) {
          if (!enter()) return nullptr;
          auto n = node(ast_kind::select, t.offset);
          n->sub = std::make_unique<select_stmt>();
          parse_select(*n->sub, true);
          leave();
          expect(tok::rparen, "')'");
          return err ? nullptr : std::move(n);
        }
        auto e = parse_expr();
        expect(tok::rparen, "')'");
        return err ? nullptr : std::move(e);
      }
      case tok::lbracket: {
        next();
        if (!enter()) return nullptr;
        auto n = node(ast_kind::array, t.offset);
        if (!accept(tok::rbracket)) {
          do {
            auto e = parse_expr();
            if (err) return nullptr;
            n->kids.push_back(std::move(e));
          } while (accept(tok::comma));
          expect(tok::rbracket, "']'");
        }
        leave();
        return err ? nullptr : std::move(n);
      }
      case tok::lbrace: {
        next();
        if (!enter()) return nullptr;
        auto n = node(ast_kind::object, t.offset);
        if (!accept(tok::rbrace)) {
          do {
            const token k = peek();
            if (k.kind != tok::string && k.kind != tok::word && k.kind != tok::quoted) {
              fail(k, error::syntax_error,
                   fmt::format("expected an object key but found {}", describe(k)));
              return nullptr;
            }
            next();
            expect(tok::colon, "':'");
            auto e = parse_expr();
            if (err) return nullptr;
            n->keys.push_back(k.text);
            n->kids.push_back(std::move(e));
          } while (accept(tok::comma));
          expect(tok::rbrace, "'}'");
        }
        leave();
        return err ? nullptr : std::move(n);
      }
      case tok::word: break;
      default:
        fail(t, error::syntax_error,
             fmt::format("expected an expression but found {}", describe(t)));
        return nullptr;
    }
    // Words: literals, CASE, calls, fields.
    if (iequals(t.text, "true") || iequals(t.text, "false")) {
      next();
      auto n = node(ast_kind::boolean, t.offset);
      n->b = iequals(t.text, "true");
      return n;
    }
    if (iequals(t.text, "null")) {
      next();
      return node(ast_kind::null, t.offset);
    }
    if (iequals(t.text, "case")) return parse_case();
    if (peek(1).kind == tok::lparen) {
      next();
      next();
      if (!enter()) return nullptr;
      if (iequals(t.text, "cast")) {
        auto n = node(ast_kind::cast, t.offset);
        auto e = parse_expr();
        if (err) return nullptr;
        expect_kw("as");
        if (err) return nullptr;
        const token ty = peek();
        if (ty.kind != tok::word) {
          fail(ty, error::syntax_error,
               fmt::format("expected a type name but found {}", describe(ty)));
          return nullptr;
        }
        next();
        n->text = ty.text;
        n->i = static_cast<std::int64_t>(ty.offset);
        n->kids.push_back(std::move(e));
        expect(tok::rparen, "')'");
        leave();
        return err ? nullptr : std::move(n);
      }
      auto n = node(ast_kind::call, t.offset);
      n->text = t.text;
      if (!accept(tok::rparen)) {
        do {
          auto e = parse_expr();
          if (err) return nullptr;
          n->kids.push_back(std::move(e));
        } while (accept(tok::comma));
        expect(tok::rparen, "')'");
      }
      leave();
      return err ? nullptr : std::move(n);
    }
    if (is_reserved(t.text)) {
      fail(t, error::syntax_error, fmt::format("expected an expression but found {}", describe(t)));
      return nullptr;
    }
    next();
    auto n = node(ast_kind::field, t.offset);
    n->text = t.text;
    return n;
  }

  ast_ptr parse_case() {
    const std::size_t at = peek().offset;
    next();
    if (!enter()) return nullptr;
    if (is_kw(0, "when")) {
      fail(peek(), error::syntax_error,
           "expected the value to match after CASE (AWS IoT SQL has only CASE value WHEN ...)");
      return nullptr;
    }
    auto n = node(ast_kind::case_, at);
    n->kids.push_back(parse_expr());
    if (err) return nullptr;
    if (!is_kw(0, "when")) {
      fail(peek(), error::syntax_error,
           fmt::format("expected WHEN but found {}", describe(peek())));
      return nullptr;
    }
    while (accept_kw("when")) {
      n->kids.push_back(parse_expr());
      expect_kw("then");
      if (err) return nullptr;
      n->kids.push_back(parse_expr());
      if (err) return nullptr;
    }
    if (accept_kw("else")) {
      n->b = true;
      n->kids.push_back(parse_expr());
      if (err) return nullptr;
    }
    expect_kw("end");
    leave();
    return err ? nullptr : std::move(n);
  }

  std::string_view src_;
  std::size_t max_depth_;
  std::size_t depth_ = 0;
  std::vector<token> toks_;
  std::size_t pos_ = 0;
  std::size_t lex_pos_ = 0;
};

}  // namespace

result<statement> parse_statement(std::string_view src, std::size_t max_depth) {
  if (std::size_t bad = utf8_check(src, false); bad != utf8_ok) {
    return failure{error::invalid_utf8, "text is not valid UTF-8 (or contains U+0000)",
                   position_in(src, bad)};
  }
  auto toks = lex(src);  // lexical errors first, in text order
  if (!toks) return std::move(toks).take_failure();
  parser p(src, max_depth, std::move(*toks));
  statement st = p.parse_statement();
  if (p.err) return std::move(*p.err);
  return st;
}

result<ast_ptr> parse_expression_prefix(std::string_view src, std::size_t max_depth,
                                        std::size_t& consumed) {
  parser p(src, max_depth);
  ast_ptr e = p.parse_expr();
  if (p.err) return std::move(*p.err);
  consumed = p.offset_of_current();
  return e;
}

}  // namespace iotblocks::sql::detail
