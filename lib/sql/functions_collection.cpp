// get, get_or_default, isNull, isUndefined, transform.
#include "sql/convert.hpp"
#include "sql/functions.hpp"
#include "sql/utf.hpp"

namespace iotblocks::sql::detail {
namespace {

val f_get(eval_state& st, const val* a, std::size_t) {
  const val& c = a[0];
  switch (c.k) {
    case kind::array: {
      auto i = to_int(a[1]);
      return i ? get_element(st, c, *i) : val::undef();
    }
    case kind::object:
      return a[1].k == kind::string ? get_member(st, c, a[1].text()) : val::undef();
    case kind::string: {
      auto i = to_int(a[1]);
      if (!i || *i < 0) return val::undef();
      std::size_t b = 0, e = 0;
      if (!utf16_char_at(c.text(), static_cast<std::size_t>(*i), b, e)) return val::undef();
      return val::string(c.text().substr(b, e - b));
    }
    default: return val::undef();
  }
}

val f_get_or_default(eval_state&, const val* a, std::size_t n) {
  if (a[0].defined() && a[0].k != kind::null) return a[0];
  return n > 1 ? a[1] : val::undef();
}

val f_is_null(eval_state&, const val* a, std::size_t) { return val::boolean(a[0].k == kind::null); }
val f_is_undefined(eval_state&, const val* a, std::size_t) { return val::boolean(!a[0].defined()); }

val f_transform(eval_state& st, const val* a, std::size_t) {
  if (a[0].k != kind::string || a[0].text() != "enrichArray") return val::undef();
  if (a[1].k != kind::object || a[2].k != kind::array) return val::undef();
  // Members of the attribute object, once.
  const std::size_t abase = st.stack.size();
  std::vector<std::string_view> akeys;
  for_each_member(st, a[1], [&](std::string_view k, const val& v) {
    if (v.defined()) {
      akeys.push_back(k);
      st.stack.push_back(v);
    }
    return true;
  });
  const std::size_t ebase = st.stack.size();
  for_each_element(st, a[2], [&](const val& e) {
    if (e.k != kind::object) {
      st.stack.push_back(e);
      return true;
    }
    std::size_t count = 0;
    for_each_member(st, e, [&](std::string_view, const val&) { return ++count, true; });
    member* m = st.alloc<member>(count + akeys.size());
    if (!m) return false;
    std::size_t k = 0;
    for_each_member(st, e, [&](std::string_view key, const val& v) {
      for (const auto& ak : akeys) {
        if (ak == key) return true;  // the attribute wins
      }
      if (k < count) m[k++] = member{key, v};
      return true;
    });
    for (std::size_t i = 0; i < akeys.size(); ++i) m[k++] = member{akeys[i], st.stack[abase + i]};
    st.stack.push_back(val::object(m, k));
    return true;
  });
  const std::size_t count = st.stack.size() - ebase;
  val* items = st.alloc<val>(count);
  if (!items) {
    st.stack.resize(abase);
    return val::undef();
  }
  std::copy(st.stack.begin() + static_cast<std::ptrdiff_t>(ebase), st.stack.end(), items);
  st.stack.resize(abase);
  return val::array(items, count);
}

const builtin table[] = {
    {"get", 2, 2, false, f_get},
    {"get_or_default", 1, 2, true, f_get_or_default},
    {"isNull", 1, 1, true, f_is_null},
    {"isUndefined", 1, 1, true, f_is_undefined},
    {"transform", 3, 3, false, f_transform},
};

}  // namespace

std::span<const builtin> collection_builtins() { return table; }

}  // namespace iotblocks::sql::detail
