#include "sql/interpreter.hpp"

#include "sql/convert.hpp"
#include "sql/functions.hpp"
#include "sql/json_out.hpp"
#include "sql/json_scan.hpp"

#include <fmt/format.h>

#include <cstring>
#include <new>
#include <type_traits>

namespace iotblocks::sql::detail {
namespace {

static_assert(std::is_trivially_copyable_v<val> && std::is_trivially_destructible_v<val>);

// --- object builder ------------------------------------------------------------
std::int32_t b_new(eval_state& st) {
  bnode n;
  n.obj = true;
  st.builder.push_back(n);
  return static_cast<std::int32_t>(st.builder.size() - 1);
}

std::int32_t b_find(eval_state& st, std::int32_t parent, std::string_view key) {
  for (auto c = st.builder[static_cast<std::size_t>(parent)].first; c >= 0;
       c = st.builder[static_cast<std::size_t>(c)].next) {
    if (st.builder[static_cast<std::size_t>(c)].key == key) return c;
  }
  return -1;
}

std::int32_t b_append(eval_state& st, std::int32_t parent, std::string_view key) {
  bnode n;
  n.key = key;
  st.builder.push_back(n);
  const auto idx = static_cast<std::int32_t>(st.builder.size() - 1);
  bnode& p = st.builder[static_cast<std::size_t>(parent)];
  if (p.last < 0) {
    p.first = p.last = idx;
  } else {
    st.builder[static_cast<std::size_t>(p.last)].next = idx;
    p.last = idx;
  }
  return idx;
}

void b_set(eval_state& st, std::int32_t root, const std::vector<std::string>& path, const val& v) {
  if (!v.defined()) return;
  std::int32_t cur = root;
  for (std::size_t i = 0; i + 1 < path.size(); ++i) {
    auto c = b_find(st, cur, path[i]);
    if (c < 0) {
      c = b_append(st, cur, path[i]);
      st.builder[static_cast<std::size_t>(c)].obj = true;
    } else if (!st.builder[static_cast<std::size_t>(c)].obj) {
      bnode& b = st.builder[static_cast<std::size_t>(c)];
      b.obj = true;
      b.v = val::undef();
      b.first = b.last = -1;
    }
    cur = c;
  }
  auto c = b_find(st, cur, path.back());
  if (c < 0) c = b_append(st, cur, path.back());
  bnode& b = st.builder[static_cast<std::size_t>(c)];
  b.obj = false;
  b.v = v;
  b.first = b.last = -1;
}

void b_add_star(eval_state& st, std::int32_t root, const val& obj) {
  const bool empty = st.builder[static_cast<std::size_t>(root)].first < 0;
  for_each_member(st, obj, [&](std::string_view key, const val& v) {
    if (!v.defined()) return true;
    if (!empty && b_find(st, root, key) >= 0) return true;
    const auto c = b_append(st, root, key);
    st.builder[static_cast<std::size_t>(c)].v = v;
    return true;
  });
}

val b_freeze(eval_state& st, std::int32_t idx) {
  std::size_t count = 0;
  for (auto c = st.builder[static_cast<std::size_t>(idx)].first; c >= 0;
       c = st.builder[static_cast<std::size_t>(c)].next) {
    ++count;
  }
  member* m = st.alloc<member>(count);
  if (!m) return val::undef();
  std::size_t i = 0;
  for (auto c = st.builder[static_cast<std::size_t>(idx)].first; c >= 0;
       c = st.builder[static_cast<std::size_t>(c)].next) {
    const bnode b = st.builder[static_cast<std::size_t>(c)];
    m[i++] = member{b.key, b.obj ? b_freeze(st, c) : b.v};
  }
  return val::object(m, count);
}

// --- expressions -----------------------------------------------------------------
// Root-level paths: one pass over the payload object, resumed on demand, that
// records every wanted key it meets (first occurrence) and stops at the one asked for.
val scan_root_for(eval_state& st, std::uint32_t want) {
  const auto& ids = st.prog->root_paths;
  if (!st.root_scan_started) {
    st.root_scan_started = true;
    st.root_reader = json::object_reader(
        st.root.k == kind::object && st.root.raw ? st.root.text() : std::string_view{});
  }
  std::string_view k, v;
  while (!st.path_done[want] && st.root_reader.next(k, v)) {
    std::string_view key = k;
    if (std::memchr(k.data(), '\\', k.size()) != nullptr && !json::unescape(k, st.mem, key)) {
      continue;
    }
    for (const auto id : ids) {
      if (!st.path_done[id] && st.prog->paths[id].key == key) {
        st.path_vals[id] = json::to_val(v, st.mem);
        st.path_done[id] = 1;
      }
    }
  }
  if (!st.path_done[want]) {  // end of the object: the rest are absent
    for (const auto id : ids) {
      if (!st.path_done[id]) {
        st.path_vals[id] = val::undef();
        st.path_done[id] = 1;
      }
    }
  }
  return st.path_vals[want];
}

val resolve_path(eval_state& st, std::uint32_t id) {
  if (st.path_done[id]) return st.path_vals[id];
  const path_node& pn = st.prog->paths[id];
  if (pn.parent < 0) return scan_root_for(st, id);
  const val base =
      pn.parent < 0 ? st.root : resolve_path(st, static_cast<std::uint32_t>(pn.parent));
  const val v = get_member(st, base, pn.key);
  st.path_vals[id] = v;
  st.path_done[id] = 1;
  return v;
}

val cast_value(eval_state& st, const val& v, cast_type t) {
  switch (t) {
    case cast_type::string: {
      if (v.k == kind::string) return v;
      auto s = to_string(st, v);
      return s ? val::string(*s) : val::undef();
    }
    case cast_type::integer:
      if (v.k == kind::boolean) return val::integer(v.u.b ? 1 : 0);
      if (auto i = to_int_floor(v)) return val::integer(*i);
      return val::undef();
    case cast_type::decimal:
    case cast_type::double_:
      if (v.k == kind::boolean) return val::integer(v.u.b ? 1 : 0);
      if (v.k == kind::integer || v.k == kind::decimal) return v;
      if (auto d = to_decimal(v)) return number_val(*d);
      return val::undef();
    case cast_type::boolean:
      if (v.k == kind::integer) return val::boolean(v.u.i != 0);
      if (v.k == kind::decimal) return val::boolean(v.u.d != 0);
      if (auto b = to_bool(v)) return val::boolean(*b);
      return val::undef();
  }
  return val::undef();
}

val eval_row(eval_state& st, const select_spec& s) {
  if (s.value) return s.items[0].expr < 0 ? st.scope.back() : eval(st, s.items[0].expr);
  const auto root = build_items(st, s, st.scope.back());
  return b_freeze(st, root);
}

val eval_select(eval_state& st, const select_spec& s) {
  const val src = eval(st, s.source);
  if (src.k == kind::array) {
    const std::size_t base = st.stack.size();
    for_each_element(st, src, [&](const val& e) {
      st.scope.push_back(e);
      if (s.where < 0 || is_true(eval(st, s.where))) {
        const val r = eval_row(st, s);
        if (r.defined()) st.stack.push_back(r);
      }
      st.scope.pop_back();
      return !st.error;
    });
    const std::size_t count = st.stack.size() - base;
    val* items = st.alloc<val>(count);
    if (!items) {
      st.stack.resize(base);
      return val::undef();
    }
    std::copy(st.stack.begin() + static_cast<std::ptrdiff_t>(base), st.stack.end(), items);
    st.stack.resize(base);
    return val::array(items, count);
  }
  if (src.k == kind::object) {
    st.scope.push_back(src);
    val r;
    if (s.where < 0 || is_true(eval(st, s.where))) r = eval_row(st, s);
    st.scope.pop_back();
    return r;
  }
  return val::undef();
}

val call_external(eval_state& st, const node& n, const val* args) {
  const auto& e = st.prog->externals[n.id];
  std::vector<value> pub;
  pub.reserve(n.count);
  for (std::uint32_t i = 0; i < n.count; ++i) pub.push_back(to_public(st, args[i]));
  auto r = e->fn(pub, *st.msg);
  if (!r) {
    st.fail(error::external_failed, fmt::format("{}: {}", e->name, r.describe()));
    return val::undef();
  }
  return from_public(st, *r);
}

}  // namespace

bool is_true(const val& v) noexcept {
  auto b = to_bool(v);
  return b && *b;
}

void begin(eval_state& st, const program& p, const message& m) {
  st.prog = &p;
  st.msg = &m;
  st.mem.reset();
  st.mem.clear_exhausted();
  st.path_vals.resize(p.paths.size());
  st.path_done.assign(p.paths.size(), 0);
  st.root_scan_started = false;
  st.var_vals.resize(p.var_names.size());
  st.var_state.assign(p.var_names.size(), 0);
  st.scope.clear();
  st.stack.clear();
  st.builder.clear();
  st.now.reset();
  st.error.reset();
  const std::string_view text = as_string_view(m.payload);
  const char* b = json::skip_ws(text.data(), text.data() + text.size());
  const char c = b < text.data() + text.size() ? *b : '\0';
  const bool maybe_json = c == '{' || c == '[' || c == '"' || c == '-' || (c >= '0' && c <= '9') ||
                          c == 't' || c == 'f' || c == 'n';
  if (maybe_json) {
    st.mode = payload_mode::lazy;
    st.root = json::to_val(text, st.mem);
  } else {
    st.mode = payload_mode::binary;
    st.root = val::binary(text);
  }
}

void switch_to_binary(eval_state& st) {
  st.mode = payload_mode::binary;
  st.root = val::binary(as_string_view(st.msg->payload));
  std::fill(st.path_done.begin(), st.path_done.end(), 0);
  st.root_scan_started = false;
  std::fill(st.var_state.begin(), st.var_state.end(), 0);
}

val eval(eval_state& st, std::int32_t idx) {
  const node& n = st.prog->nodes[static_cast<std::size_t>(idx)];
  const auto kid = [&](std::uint32_t i) {
    return eval(st, static_cast<std::int32_t>(st.prog->kid(n, i)));
  };
  switch (n.code) {
    case op::constant: return n.constant;
    case op::root_path: return resolve_path(st, n.id);
    case op::scope: return n.id < st.scope.size() ? st.scope[n.id] : val::undef();
    case op::member: return get_member(st, kid(0), n.name);
    case op::variable: {
      if (st.var_state[n.id] == 2) return st.var_vals[n.id];
      if (st.var_state[n.id] == 1) return val::undef();
      st.var_state[n.id] = 1;
      const val v = eval(st, st.prog->var_exprs[n.id]);
      st.var_vals[n.id] = v;
      st.var_state[n.id] = 2;
      return v;
    }
    case op::star: return st.root;
    case op::call:
    case op::external: {
      // Arguments in uninitialised local storage (val is trivially copyable):
      // zeroing eight values first cost more than most functions themselves.
      constexpr std::uint32_t local_args = 8;
      alignas(val) unsigned char local[local_args * sizeof(val)];
      val* args = n.count <= local_args ? reinterpret_cast<val*>(local) : st.alloc<val>(n.count);
      if (!args) return val::undef();
      for (std::uint32_t i = 0; i < n.count; ++i) ::new (static_cast<void*>(args + i)) val(kid(i));
      if (n.code == op::external) return call_external(st, n, args);
      return n.fn(st, args, n.count);
    }
    case op::cast: return cast_value(st, kid(0), static_cast<cast_type>(n.flags));
    case op::neg: return negate(kid(0));
    case op::not_: {
      auto b = to_bool(kid(0));
      return b ? val::boolean(!*b) : val::undef();
    }
    case op::and_: {
      if (n.truth) {
        if (!is_true(kid(0))) return val::boolean(false);
        return val::boolean(is_true(kid(1)));
      }
      auto a = to_bool(kid(0));
      auto b = to_bool(kid(1));
      if (!a || !b) return val::undef();
      return val::boolean(*a && *b);
    }
    case op::or_: {
      auto a = to_bool(kid(0));
      if (n.truth && !a) return val::boolean(false);
      auto b = to_bool(kid(1));
      if (!a || !b) return n.truth ? val::boolean(false) : val::undef();
      return val::boolean(*a || *b);
    }
    case op::eq:
    case op::ne: {
      const val a = kid(0);
      const val b = kid(1);
      const tri r = equals(st, a, b);
      if (r == tri::undef) return val::undef();
      return val::boolean((r == tri::t) == (n.code == op::eq));
    }
    case op::lt:
    case op::le:
    case op::gt:
    case op::ge: {
      const val a = kid(0);
      const val b = kid(1);
      auto c = compare(a, b);
      if (!c) return val::undef();
      switch (n.code) {
        case op::lt: return val::boolean(*c < 0);
        case op::le: return val::boolean(*c <= 0);
        case op::gt: return val::boolean(*c > 0);
        default: return val::boolean(*c >= 0);
      }
    }
    case op::add:
    case op::sub:
    case op::mul:
    case op::div:
    case op::mod: {
      const val a = kid(0);
      const val b = kid(1);
      static constexpr arith ops[] = {arith::add, arith::sub, arith::mul, arith::div, arith::mod};
      return arithmetic(st, ops[static_cast<int>(n.code) - static_cast<int>(op::add)], a, b);
    }
    case op::case_: {
      const val subject = kid(0);
      if (!subject.defined()) return val::undef();
      const std::uint32_t pairs = (n.count - 1 - n.flags) / 2;
      for (std::uint32_t i = 0; i < pairs; ++i) {
        if (equals(st, subject, kid(1 + 2 * i)) == tri::t) return kid(2 + 2 * i);
      }
      return n.flags ? kid(n.count - 1) : val::undef();
    }
    case op::array: {
      val* items = st.alloc<val>(n.count);
      if (!items) return val::undef();
      for (std::uint32_t i = 0; i < n.count; ++i) items[i] = kid(i);
      return val::array(items, n.count);
    }
    case op::object: {
      member* m = st.alloc<member>(n.count);
      if (!m) return val::undef();
      const auto& keys = st.prog->key_lists[n.id];
      std::size_t count = 0;
      for (std::uint32_t i = 0; i < n.count; ++i) {
        const val v = kid(i);
        bool replaced = false;
        for (std::size_t j = 0; j < count; ++j) {
          if (m[j].key == keys[i]) {
            m[j].v = v;
            replaced = true;
          }
        }
        if (!replaced) m[count++] = member{keys[i], v};
      }
      return val::object(m, count);
    }
    case op::select: return eval_select(st, st.prog->selects[n.id]);
  }
  return val::undef();
}

std::int32_t build_items(eval_state& st, const select_spec& s, const val& star_source) {
  const auto root = b_new(st);
  for (const auto& item : s.items) {
    if (item.expr < 0) {
      if (star_source.k == kind::object) {
        b_add_star(st, root, star_source);
      } else if (star_source.k == kind::binary) {
        st.fail(error::binary_payload,
                "SELECT * with other items needs a JSON object payload (use encode(*, "
                "'base64') for binary payloads)");
      }
      continue;
    }
    b_set(st, root, item.alias, eval(st, item.expr));
    if (st.error) break;
  }
  return root;
}

bool write_built(eval_state& st, std::string& out, std::int32_t root) {
  out.push_back('{');
  bool first = true;
  for (auto c = st.builder[static_cast<std::size_t>(root)].first; c >= 0;
       c = st.builder[static_cast<std::size_t>(c)].next) {
    const bnode b = st.builder[static_cast<std::size_t>(c)];
    if (!b.obj && !b.v.defined()) continue;
    if (!first) out.push_back(',');
    first = false;
    write_string(out, b.key);
    out.push_back(':');
    if (b.obj ? !write_built(st, out, c) : !write_json(st, out, b.v)) return false;
  }
  out.push_back('}');
  return true;
}

bool write_flat(eval_state& st, std::string& out, const select_spec& s) {
  out.push_back('{');
  bool first = true;
  for (const auto& item : s.items) {
    const val v = eval(st, item.expr);
    if (st.error) return true;
    if (!v.defined()) continue;
    if (!first) out.push_back(',');
    first = false;
    out += item.key_json;
    if (!write_json(st, out, v)) return false;
  }
  out.push_back('}');
  return true;
}

value to_public(eval_state& st, const val& v, std::size_t depth) {
  if (depth > st.value_depth_limit()) return {};
  switch (v.k) {
    case kind::undefined: return {};
    case kind::null: return value::null();
    case kind::boolean: return value(v.u.b);
    case kind::integer: return value(v.u.i);
    case kind::decimal: return value(v.u.d);
    case kind::string:
    case kind::binary: return value(v.text());
    case kind::array: {
      value::array a;
      for_each_element(st, v, [&](const val& e) {
        a.push_back(to_public(st, e, depth + 1));
        return true;
      });
      return value(std::move(a));
    }
    case kind::object: {
      value::object o;
      for_each_member(st, v, [&](std::string_view k, const val& e) {
        if (e.defined()) o.emplace_back(std::string(k), to_public(st, e, depth + 1));
        return true;
      });
      return value(std::move(o));
    }
  }
  return {};
}

val from_public(eval_state& st, const value& v, std::size_t depth) {
  if (depth > st.value_depth_limit()) return val::undef();
  switch (v.kind()) {
    case type::undefined: return val::undef();
    case type::null: return val::null();
    case type::boolean: return val::boolean(v.as_bool());
    case type::integer: return val::integer(v.as_int());
    case type::decimal: return number_val(v.as_decimal());
    case type::string: return val::string(st.copy(v.as_string()));
    case type::array: {
      const auto& a = v.as_array();
      val* items = st.alloc<val>(a.size());
      if (!items) return val::undef();
      for (std::size_t i = 0; i < a.size(); ++i) items[i] = from_public(st, a[i], depth + 1);
      return val::array(items, a.size());
    }
    case type::object: {
      const auto& o = v.as_object();
      member* m = st.alloc<member>(o.size());
      if (!m) return val::undef();
      for (std::size_t i = 0; i < o.size(); ++i) {
        m[i] = member{st.copy(o[i].first), from_public(st, o[i].second, depth + 1)};
      }
      return val::object(m, o.size());
    }
  }
  return val::undef();
}

}  // namespace iotblocks::sql::detail
