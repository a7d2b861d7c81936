#include "sql/compiler.hpp"

#include "sql/functions.hpp"
#include "sql/json_out.hpp"
#include "sql/json_scan.hpp"
#include "sql/lexer.hpp"
#include "sql/parser.hpp"

#include <iotblocks/sql/error.hpp>
#include <iotblocks/topic/syntax.hpp>

#include <algorithm>

#include <fmt/format.h>

namespace iotblocks::sql::detail {
namespace {

// decode(value, 'proto', bucket, key, proto_name, message_type)
constexpr std::size_t proto_decode_args = 6;

std::optional<cast_type> parse_cast_type(std::string_view t) {
  for (auto s : {"string", "nvarchar", "text", "ntext", "varchar"}) {
    if (iequals(t, s)) return cast_type::string;
  }
  if (iequals(t, "int") || iequals(t, "integer")) return cast_type::integer;
  if (iequals(t, "double")) return cast_type::double_;
  if (iequals(t, "decimal")) return cast_type::decimal;
  if (iequals(t, "bool") || iequals(t, "boolean")) return cast_type::boolean;
  return std::nullopt;
}

std::string default_name(const ast& a, std::size_t index) {
  switch (a.kind) {
    case ast_kind::field:
    case ast_kind::member:
    case ast_kind::variable:
    case ast_kind::call: return a.text;
    default: return fmt::format("_{}", index + 1);
  }
}

// The root identifier of a field/member chain ("a" for a.b.c), or empty.
std::string_view chain_root(const ast& a) {
  const ast* n = &a;
  while (n->kind == ast_kind::member) n = n->kids[0].get();
  return n->kind == ast_kind::field ? std::string_view{n->text} : std::string_view{};
}

}  // namespace

void compiler::fail(std::size_t offset, sql::error code, std::string msg) {
  if (!err) err = failure{code, std::move(msg), position_in(src_, offset + offset_base)};
}

std::int32_t compiler::add(node n, std::initializer_list<std::int32_t> kids) {
  return add_n(std::move(n), std::vector<std::int32_t>(kids));
}

std::int32_t compiler::add_n(node n, const std::vector<std::int32_t>& kids) {
  n.first = static_cast<std::uint32_t>(p_.kids.size());
  n.count = static_cast<std::uint32_t>(kids.size());
  for (auto k : kids) p_.kids.push_back(static_cast<std::uint32_t>(k));
  p_.nodes.push_back(std::move(n));
  return static_cast<std::int32_t>(p_.nodes.size() - 1);
}

std::optional<std::int32_t> compiler::root_path(const ast& a) {
  std::int32_t parent = -1;
  if (a.kind == ast_kind::member) {
    auto base = root_path(*a.kids[0]);
    if (!base) return std::nullopt;
    parent = *base;
  } else if (a.kind != ast_kind::field) {
    return std::nullopt;
  }
  for (std::size_t i = 0; i < p_.paths.size(); ++i) {
    if (p_.paths[i].parent == parent && p_.paths[i].key == a.text) {
      return static_cast<std::int32_t>(i);
    }
  }
  const auto id = static_cast<std::int32_t>(p_.paths.size());
  p_.paths.push_back({parent, a.text, -1, -1});
  if (parent < 0) {
    p_.root_paths.push_back(static_cast<std::uint32_t>(id));
  } else {
    auto& up = p_.paths[static_cast<std::size_t>(parent)];
    p_.paths.back().next_sibling = up.first_child;
    up.first_child = id;
  }
  return id;
}

std::int32_t compiler::compile(const ast& a) {
  if (err) return -1;
  node n;
  switch (a.kind) {
    case ast_kind::integer: n.constant = val::integer(a.i); return add(n);
    case ast_kind::decimal: {
      // Whole decimals are Ints in SQL 2016-03-23; others keep their text.
      const val v = json::number(a.text);
      n.constant = v.k == kind::decimal ? val::decimal(v.u.d, p_.keep(a.text)) : v;
      if (!n.constant.defined()) n.constant = val::decimal(a.d);
      return add(n);
    }
    case ast_kind::string: n.constant = val::string(p_.keep(a.text)); return add(n);
    case ast_kind::boolean: n.constant = val::boolean(a.b); return add(n);
    case ast_kind::null: n.constant = val::null(); return add(n);
    case ast_kind::field:
    case ast_kind::member: {
      if (scope_ == 0) {
        if (auto path = root_path(a)) {
          n.code = op::root_path;
          n.id = static_cast<std::uint32_t>(*path);
          return add(n);
        }
      } else if (a.kind == ast_kind::field) {
        node s;
        s.code = op::scope;
        s.id = static_cast<std::uint32_t>(scope_ - 1);
        const auto base = add(s);
        n.code = op::member;
        n.name = p_.keep(a.text);
        return add(n, {base});
      }
      const auto base = compile(*a.kids[0]);
      n.code = op::member;
      n.name = p_.keep(a.text);
      return add(n, {base});
    }
    case ast_kind::variable: {
      for (std::size_t i = 0; i < p_.var_names.size(); ++i) {
        if (p_.var_names[i] == a.text && p_.var_exprs[i] >= 0) {
          n.code = op::variable;
          n.id = static_cast<std::uint32_t>(i);
          return add(n);
        }
      }
      fail(a.offset, error::unknown_variable,
           fmt::format("unknown variable '@{}' (assign it with SET before SELECT)", a.text));
      return -1;
    }
    case ast_kind::star:
      if (scope_ > 0) {
        n.code = op::scope;
        n.id = static_cast<std::uint32_t>(scope_ - 1);
      } else {
        n.code = op::star;
      }
      return add(n);
    case ast_kind::call: return compile_call(a);
    case ast_kind::cast: {
      const auto t = parse_cast_type(a.text);
      if (!t) {
        fail(static_cast<std::size_t>(a.i), error::invalid_cast_type,
             fmt::format("unknown type '{}' in cast (use String, Int, Integer, Decimal, Double, "
                         "Bool or Boolean)",
                         a.text));
        return -1;
      }
      const auto arg = compile(*a.kids[0]);
      n.code = op::cast;
      n.flags = static_cast<std::uint8_t>(*t);
      return add(n, {arg});
    }
    case ast_kind::neg:
    case ast_kind::not_: {
      const auto arg = compile(*a.kids[0]);
      n.code = a.kind == ast_kind::neg ? op::neg : op::not_;
      return add(n, {arg});
    }
    case ast_kind::binary: {
      const auto l = compile(*a.kids[0]);
      const auto r = compile(*a.kids[1]);
      static constexpr op ops[] = {op::or_, op::and_, op::eq,  op::ne,  op::lt,  op::le, op::gt,
                                   op::ge,  op::add,  op::sub, op::mul, op::div, op::mod};
      n.code = ops[static_cast<int>(a.op)];
      return add(n, {l, r});
    }
    case ast_kind::case_: {
      std::vector<std::int32_t> kids;
      for (const auto& k : a.kids) kids.push_back(compile(*k));
      n.code = op::case_;
      n.flags = a.b ? 1 : 0;
      return add_n(n, kids);
    }
    case ast_kind::array: {
      std::vector<std::int32_t> kids;
      for (const auto& k : a.kids) kids.push_back(compile(*k));
      n.code = op::array;
      return add_n(n, kids);
    }
    case ast_kind::object: {
      std::vector<std::int32_t> kids;
      std::vector<std::string_view> keys;
      for (std::size_t i = 0; i < a.kids.size(); ++i) {
        kids.push_back(compile(*a.kids[i]));
        keys.push_back(p_.keep(a.keys[i]));
      }
      n.code = op::object;
      n.id = static_cast<std::uint32_t>(p_.key_lists.size());
      p_.key_lists.push_back(std::move(keys));
      return add_n(n, kids);
    }
    case ast_kind::select: return compile_select(*a.sub, a.offset);
  }
  return -1;
}

std::int32_t compiler::compile_call(const ast& a) {
  const std::size_t argc = a.kids.size();
  auto arity_check = [&](std::size_t lo, std::size_t hi, std::string_view name) {
    if (argc >= lo && argc <= hi) return true;
    std::string expected = lo == hi         ? fmt::format("{}", lo)
                           : hi == variadic ? fmt::format("at least {}", lo)
                                            : fmt::format("{} to {}", lo, hi);
    fail(a.offset, error::wrong_arity,
         fmt::format("wrong number of arguments for '{}': expected {}, got {}", name, expected,
                     argc));
    return false;
  };
  std::vector<std::int32_t> kids;
  const int b = find_builtin(a.text);
  const auto builtin_takes = [&](int id) {
    if (id < 0) return false;
    const builtin& f = builtins()[static_cast<std::size_t>(id)];
    return argc >= f.min_args && argc <= f.max_args;
  };
  if (o_.functions()) {
    auto e = o_.functions()->find(a.text);
    // A registration shadows the built-in of the same name, except for argument counts
    // only the built-in takes: registering decode for 6 arguments adds the 'proto' form
    // and keeps decode(x, 'base64').
    if (e && (argc < e->min_args || argc > e->max_args) && builtin_takes(b)) e = nullptr;
    if (e) {
      if (!arity_check(e->min_args, e->max_args, e->name)) return -1;
      for (const auto& k : a.kids) kids.push_back(compile(*k));
      node n;
      n.code = op::external;
      n.id = static_cast<std::uint32_t>(p_.externals.size());
      p_.externals.push_back(std::move(e));
      return add_n(n, kids);
    }
  }
  // AWS's decode(value, 'proto', bucket, key, proto_name, message_type) reads a
  // FileDescriptorSet from S3: like the other functions that call AWS services, it needs
  // a registration.
  if (iequals(a.text, "decode") && argc == proto_decode_args) {
    fail(a.offset, error::external_not_registered,
         "decode(value, 'proto', bucket, key, proto_name, message_type) reads Protobuf "
         "descriptors from S3; register 'decode' for 6 arguments with sql::function_registry");
    return -1;
  }
  if (b >= 0) {
    const builtin& f = builtins()[static_cast<std::size_t>(b)];
    if (!arity_check(f.min_args, f.max_args, f.name)) return -1;
    for (const auto& k : a.kids) kids.push_back(compile(*k));
    node n;
    n.code = op::call;
    n.id = static_cast<std::uint32_t>(b);
    n.fn = f.fn;
    return add_n(n, kids);
  }
  for (auto ext : external_function_names()) {
    if (iequals(ext, a.text)) {
      fail(a.offset, error::external_not_registered,
           fmt::format("function '{}' calls an external service; register an implementation "
                       "with sql::function_registry",
                       ext));
      return -1;
    }
  }
  // Did you mean?
  std::string_view best;
  std::size_t best_d = static_cast<std::size_t>(-1);
  auto consider = [&](std::string_view cand) {
    const std::size_t d = edit_distance(a.text, cand);
    if (d < best_d) {
      best_d = d;
      best = cand;
    }
  };
  for (const auto& f : builtins()) consider(f.name);
  consider("cast");
  for (auto ext : external_function_names()) consider(ext);
  std::vector<std::string> registered;
  if (o_.functions()) registered = o_.functions()->names();
  for (const auto& r : registered) consider(r);
  const std::size_t allowed = std::max<std::size_t>(2, a.text.size() / 3);
  if (!best.empty() && best_d <= allowed) {
    fail(a.offset, error::unknown_function,
         fmt::format("unknown function '{}' (did you mean '{}'?)", a.text, best));
  } else {
    fail(a.offset, error::unknown_function, fmt::format("unknown function '{}'", a.text));
  }
  return -1;
}

void compiler::compile_items(const select_stmt& s, select_spec& spec) {
  spec.value = s.value;
  for (std::size_t i = 0; i < s.items.size(); ++i) {
    const auto& item = s.items[i];
    item_spec out;
    if (item.expr) {
      out.expr = compile(*item.expr);
      out.alias =
          item.alias.empty() ? std::vector<std::string>{default_name(*item.expr, i)} : item.alias;
    }
    spec.items.push_back(std::move(out));
  }
  spec.flat = !spec.value;
  for (std::size_t i = 0; i < spec.items.size() && spec.flat; ++i) {
    const auto& a = spec.items[i].alias;
    spec.flat = a.size() == 1;
    for (std::size_t j = 0; j < i && spec.flat; ++j) spec.flat = spec.items[j].alias != a;
  }
  if (spec.flat) {
    for (auto& item : spec.items) {
      write_string(item.key_json, item.alias[0]);
      item.key_json.push_back(':');
    }
  }
}

std::int32_t compiler::compile_select(const select_stmt& s, std::size_t offset) {
  (void)offset;
  select_spec spec;
  spec.source = compile(*s.source);
  ++scope_;
  p_.scope_depth = std::max(p_.scope_depth, scope_);
  compile_items(s, spec);
  if (s.where) spec.where = compile(*s.where);
  --scope_;
  node n;
  n.code = op::select;
  n.id = static_cast<std::uint32_t>(p_.selects.size());
  p_.selects.push_back(std::move(spec));
  return add(n);
}

void compiler::compile_sets(const std::vector<statement::assignment>& sets) {
  for (const auto& a : sets) {
    if (std::find(p_.var_names.begin(), p_.var_names.end(), a.name) != p_.var_names.end()) {
      fail(a.offset, error::duplicate_variable,
           fmt::format("variable '@{}' is assigned twice (variables are immutable)", a.name));
      return;
    }
    p_.var_names.push_back(a.name);
    p_.var_exprs.push_back(-1);  // not visible inside its own definition
    const auto e = compile(*a.expr);
    if (err) return;
    p_.var_exprs.back() = e;
  }
}

void compiler::compile_main(const select_stmt& s) {
  p_.selects.emplace_back();
  select_spec spec;
  compile_items(s, spec);
  if (err) return;
  // WHERE sees the message, not SELECT aliases.
  if (s.where) {
    std::vector<std::string_view> aliases;
    for (const auto& item : s.items) {
      if (item.alias.empty() || !item.expr) continue;
      if (chain_root(*item.expr) == item.alias[0]) continue;  // SELECT x AS x
      aliases.push_back(item.alias[0]);
    }
    std::vector<const ast*> todo{s.where.get()};
    while (!todo.empty() && !aliases.empty()) {
      const ast* n = todo.back();
      todo.pop_back();
      if (n->kind == ast_kind::field &&
          std::find(aliases.begin(), aliases.end(), n->text) != aliases.end()) {
        fail(n->offset, error::alias_in_where,
             fmt::format("'{}' is an alias defined in SELECT; WHERE sees only the incoming "
                         "message, so use the original expression",
                         n->text));
        return;
      }
      for (const auto& k : n->kids) todo.push_back(k.get());
    }
    spec.where = compile(*s.where);
  }
  p_.star_only = !s.value && s.items.size() == 1 && !s.items[0].expr;
  p_.selects[0] = std::move(spec);
}

bool compiler::needs_validation(std::int32_t i, int depth) {
  if (i < 0 || depth > 200) return true;
  const node& n = p_.nodes[static_cast<std::size_t>(i)];
  switch (n.code) {
    case op::star:
    case op::external:
    case op::case_: return true;
    case op::call:
      if (builtins()[n.id].absorbs_undefined) return true;
      break;
    case op::variable:
      if (needs_validation(p_.var_exprs[n.id], depth + 1)) return true;
      break;
    case op::select: {
      const auto& s = p_.selects[n.id];
      if (needs_validation(s.source, depth + 1)) return true;
      if (s.where >= 0 && needs_validation(s.where, depth + 1)) return true;
      for (const auto& item : s.items) {
        if (item.expr >= 0 && needs_validation(item.expr, depth + 1)) return true;
      }
      break;
    }
    default: break;
  }
  for (std::uint32_t k = 0; k < n.count; ++k) {
    if (needs_validation(static_cast<std::int32_t>(p_.kid(n, k)), depth + 1)) return true;
  }
  return false;
}

void compiler::mark_truth(std::int32_t i) {
  node& n = p_.nodes[static_cast<std::size_t>(i)];
  if (n.code == op::and_) {
    n.truth = true;
    mark_truth(static_cast<std::int32_t>(p_.kid(n, 0)));
    mark_truth(static_cast<std::int32_t>(p_.kid(n, 1)));
  } else if (n.code == op::or_) {
    n.truth = true;
  }
}

void compiler::analyse() {
  if (p_.selects.empty()) return;
  const auto w = p_.selects[0].where;
  if (w < 0) return;
  mark_truth(w);
  p_.where_needs_validation = needs_validation(w, 0);
}

}  // namespace iotblocks::sql::detail

namespace iotblocks::sql {

std::string_view rule::text() const noexcept { return p_->text; }
std::string_view rule::from() const noexcept { return p_->from; }
bool rule::has_where() const noexcept { return p_->selects[0].where >= 0; }
bool rule::select_value() const noexcept { return p_->selects[0].value; }
std::vector<std::string> rule::variables() const { return p_->var_names; }

bool matches_from(const rule& r, std::string_view topic_name) noexcept {
  const std::string_view filter = r.from();
  if (filter.empty() || topic::is_shared(filter) || topic::validate_name(topic_name)) return false;
  return topic::matches(filter, topic_name);
}

std::vector<std::string> rule::payload_paths() const {
  std::vector<std::string> out;
  for (const auto& path : p_->paths) {
    out.push_back(path.parent < 0 ? path.key
                                  : out[static_cast<std::size_t>(path.parent)] + "." + path.key);
  }
  return out;
}

result<rule> compile(std::string_view sql, const compile_options& options) {
  if (sql.size() > options.max_length()) {
    return failure{error::too_long,
                   fmt::format("SQL text is {} bytes, longer than the limit of {}", sql.size(),
                               options.max_length()),
                   {}};
  }
  auto st = detail::parse_statement(sql, options.max_depth());
  if (!st) return std::move(st).take_failure();
  auto prog = std::make_shared<detail::program>();
  prog->text = std::string(sql);
  const auto& sel = st->select;
  if (sel.has_from) {
    if (auto ec = topic::validate_filter(sel.topic)) {
      return failure{error::invalid_topic_filter,
                     fmt::format("invalid topic filter '{}' in FROM: {}", sel.topic, ec.message()),
                     position_in(sql, sel.topic_offset + 1)};
    }
    prog->from = sel.topic;
    prog->has_from = true;
  }
  detail::compiler c(*prog, sql, options);
  c.compile_sets(st->sets);
  if (!c.err) c.compile_main(sel);
  if (c.err) return std::move(*c.err);
  c.analyse();
  return rule(std::move(prog));
}

}  // namespace iotblocks::sql
