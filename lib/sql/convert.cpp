#include "sql/convert.hpp"

#include "sql/json_out.hpp"
#include "sql/json_scan.hpp"

#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>

namespace iotblocks::sql::detail {
namespace {

constexpr double two63 = 9223372036854775808.0;

bool in_int_range(double d) noexcept { return d >= -two63 && d < two63; }

bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

struct numeric {
  bool is_int;
  std::int64_t i;
  double d;
  double as_double() const noexcept { return is_int ? static_cast<double>(i) : d; }
};

std::optional<numeric> to_numeric(const val& v, bool strings) noexcept {
  switch (v.k) {
    case kind::integer: return numeric{true, v.u.i, 0};
    case kind::decimal: return numeric{false, 0, v.u.d};
    case kind::string: {
      if (!strings) return std::nullopt;
      double d = 0;
      if (!parse_decimal_string(v.text(), d)) return std::nullopt;
      return numeric{false, 0, d};
    }
    default: return std::nullopt;
  }
}

bool int_equals_double(std::int64_t i, double d) noexcept {
  return d == std::trunc(d) && in_int_range(d) && static_cast<std::int64_t>(d) == i;
}

}  // namespace

val number_val(double d) noexcept {
  if (!std::isfinite(d)) return val::undef();
  if (d == std::trunc(d) && in_int_range(d)) return val::integer(static_cast<std::int64_t>(d));
  return val::decimal(d);
}

bool parse_decimal_string(std::string_view s, double& out) noexcept {
  std::size_t i = 0;
  const std::size_t n = s.size();
  if (i < n && s[i] == '-') ++i;
  const std::size_t digits = i;
  while (i < n && is_digit(s[i])) ++i;
  if (i == digits) return false;
  if (i < n && s[i] == '.') {
    const std::size_t frac = ++i;
    while (i < n && is_digit(s[i])) ++i;
    if (i == frac) return false;
  }
  if (i < n && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < n && s[i] == '-') ++i;
    const std::size_t exp = i;
    while (i < n && is_digit(s[i])) ++i;
    if (i == exp) return false;
  }
  if (i != n) return false;
  double d = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + n, d);
  if (ec == std::errc::result_out_of_range) {
    // Underflow reads as zero; overflow is not a Decimal we can hold.
    const auto e = s.find_first_of("eE");
    if (e != std::string_view::npos && s.substr(e + 1).starts_with('-')) {
      out = 0;
      return true;
    }
    return false;
  }
  if (ec != std::errc{} || p != s.data() + n || !std::isfinite(d)) return false;
  out = d;
  return true;
}

std::optional<double> to_decimal(const val& v) noexcept {
  auto n = to_numeric(v, true);
  if (!n) return std::nullopt;
  return n->as_double();
}

std::optional<std::int64_t> to_int(const val& v) noexcept {
  switch (v.k) {
    case kind::integer: return v.u.i;
    case kind::decimal: {
      const double r = std::round(v.u.d);
      if (!in_int_range(r)) return std::nullopt;
      return static_cast<std::int64_t>(r);
    }
    case kind::string: {
      double d = 0;
      if (!parse_decimal_string(v.text(), d)) return std::nullopt;
      const double t = std::trunc(d);
      if (!in_int_range(t)) return std::nullopt;
      return static_cast<std::int64_t>(t);
    }
    default: return std::nullopt;
  }
}

std::optional<std::int64_t> to_int_floor(const val& v) noexcept {
  if (v.k == kind::integer) return v.u.i;
  auto d = to_decimal(v);
  if (!d) return std::nullopt;
  const double f = std::floor(*d);
  if (!in_int_range(f)) return std::nullopt;
  return static_cast<std::int64_t>(f);
}

std::optional<bool> to_bool(const val& v) noexcept {
  if (v.k == kind::boolean) return v.u.b;
  if (v.k == kind::string) {
    const auto s = v.text();
    auto ieq = [](std::string_view a, std::string_view b) {
      if (a.size() != b.size()) return false;
      for (std::size_t i = 0; i < a.size(); ++i) {
        char c = a[i];
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
        if (c != b[i]) return false;
      }
      return true;
    };
    if (ieq(s, "true")) return true;
    if (ieq(s, "false")) return false;
  }
  return std::nullopt;
}

std::string_view format_double(double d, char (&buf)[32]) noexcept {
  auto r = std::to_chars(buf, buf + sizeof buf, d);
  return {buf, static_cast<std::size_t>(r.ptr - buf)};
}

std::optional<std::string_view> to_string(eval_state& st, const val& v) {
  switch (v.k) {
    case kind::string: return v.text();
    case kind::boolean: return v.u.b ? std::string_view{"true"} : std::string_view{"false"};
    case kind::integer: {
      char buf[24];
      auto r = std::to_chars(buf, buf + sizeof buf, v.u.i);
      return st.copy({buf, static_cast<std::size_t>(r.ptr - buf)});
    }
    case kind::decimal: {
      if (v.n) return v.text();
      char buf[32];
      return st.copy(format_double(v.u.d, buf));
    }
    case kind::array:
    case kind::object: {
      st.scratch.clear();
      if (!write_json(st, st.scratch, v)) return std::nullopt;
      return st.copy(st.scratch);
    }
    default: return std::nullopt;
  }
}

tri equals(eval_state& st, const val& a, const val& b, std::size_t depth) {
  if (!a.defined() || !b.defined()) return tri::undef;
  if (depth > st.value_depth_limit()) return tri::undef;
  const bool an = a.k == kind::integer || a.k == kind::decimal;
  const bool bn = b.k == kind::integer || b.k == kind::decimal;
  if (an && bn) {
    if (a.k == kind::integer && b.k == kind::integer) return a.u.i == b.u.i ? tri::t : tri::f;
    if (a.k == kind::integer) return int_equals_double(a.u.i, b.u.d) ? tri::t : tri::f;
    if (b.k == kind::integer) return int_equals_double(b.u.i, a.u.d) ? tri::t : tri::f;
    return a.u.d == b.u.d ? tri::t : tri::f;
  }
  if (a.k != b.k) return tri::f;
  switch (a.k) {
    case kind::null: return tri::t;
    case kind::boolean: return a.u.b == b.u.b ? tri::t : tri::f;
    case kind::string:
    case kind::binary: return a.text() == b.text() ? tri::t : tri::f;
    case kind::array: {
      if (a.raw && b.raw && a.text() == b.text()) return tri::t;
      const std::size_t base = st.stack.size();
      for_each_element(st, a, [&](const val& e) {
        st.stack.push_back(e);
        return true;
      });
      std::size_t idx = base;
      tri result = tri::t;
      for_each_element(st, b, [&](const val& e) {
        if (idx >= st.stack.size()) {
          result = tri::f;
          return false;
        }
        const val x = st.stack[idx++];
        const tri r = equals(st, x, e, depth + 1);
        if (r != tri::t) {
          result = tri::f;
          return false;
        }
        return true;
      });
      if (result == tri::t && idx != st.stack.size()) result = tri::f;
      st.stack.resize(base);
      return result;
    }
    case kind::object: {
      if (a.raw && b.raw && a.text() == b.text()) return tri::t;
      std::size_t count_a = 0;
      for_each_member(st, a, [&](std::string_view, const val& v) {
        if (v.defined()) ++count_a;
        return true;
      });
      std::size_t count_b = 0;
      tri result = tri::t;
      for_each_member(st, b, [&](std::string_view key, const val& v) {
        if (!v.defined()) return true;
        ++count_b;
        const val other = get_member(st, a, key);
        if (equals(st, other, v, depth + 1) != tri::t) {
          result = tri::f;
          return false;
        }
        return true;
      });
      if (result == tri::t && count_a != count_b) result = tri::f;
      return result;
    }
    default: return tri::f;
  }
}

std::optional<int> compare(const val& a, const val& b) noexcept {
  auto x = to_numeric(a, true);
  auto y = to_numeric(b, true);
  if (!x || !y) return std::nullopt;
  if (x->is_int && y->is_int) return x->i < y->i ? -1 : (x->i > y->i ? 1 : 0);
  const double p = x->as_double(), q = y->as_double();
  return p < q ? -1 : (p > q ? 1 : 0);
}

val arithmetic(eval_state& st, arith op, const val& a, const val& b) {
  if (op == arith::add && (a.k == kind::string || b.k == kind::string)) {
    auto l = to_string(st, a);
    if (!l) return val::undef();
    const std::size_t lsize = l->size();
    auto r = to_string(st, b);
    if (!r) return val::undef();
    char* p = st.alloc<char>(lsize + r->size());
    if (!p) return val::undef();
    std::memcpy(p, l->data(), lsize);
    std::memcpy(p + lsize, r->data(), r->size());
    return val::string({p, lsize + r->size()});
  }
  auto x = to_numeric(a, op != arith::add);
  auto y = to_numeric(b, op != arith::add);
  if (!x || !y) return val::undef();
  if (x->is_int && y->is_int) {
    std::int64_t r = 0;
    switch (op) {
      case arith::add:
        if (!__builtin_add_overflow(x->i, y->i, &r)) return val::integer(r);
        break;
      case arith::sub:
        if (!__builtin_sub_overflow(x->i, y->i, &r)) return val::integer(r);
        break;
      case arith::mul:
        if (!__builtin_mul_overflow(x->i, y->i, &r)) return val::integer(r);
        break;
      case arith::div:
        if (y->i == 0) return val::undef();
        if (y->i == -1 && x->i == std::numeric_limits<std::int64_t>::min()) break;
        return val::integer(x->i / y->i);
      case arith::mod:
        if (y->i == 0) return val::undef();
        if (y->i == -1) return val::integer(0);
        return val::integer(x->i % y->i);
    }
  }
  const double p = x->as_double(), q = y->as_double();
  switch (op) {
    case arith::add: return number_val(p + q);
    case arith::sub: return number_val(p - q);
    case arith::mul: return number_val(p * q);
    case arith::div: return q == 0 ? val::undef() : number_val(p / q);
    case arith::mod: return q == 0 ? val::undef() : number_val(std::fmod(p, q));
  }
  return val::undef();
}

val negate(const val& a) noexcept {
  if (a.k == kind::integer) {
    if (a.u.i == std::numeric_limits<std::int64_t>::min()) return val::decimal(two63);
    return val::integer(-a.u.i);
  }
  auto d = to_decimal(a);
  if (!d) return val::undef();
  return number_val(-*d);
}

val get_member(eval_state& st, const val& obj, std::string_view key) {
  if (obj.k != kind::object) return val::undef();
  if (!obj.raw) {
    for (std::size_t i = 0; i < obj.n; ++i) {
      if (obj.u.members[i].key == key) return obj.u.members[i].v;
    }
    return val::undef();
  }
  std::string_view t;
  if (!json::find_member(obj.text(), key, t)) return val::undef();
  return json::to_val(t, st.mem);
}

val get_element(eval_state& st, const val& arr, std::int64_t i) {
  if (arr.k != kind::array || i < 0) return val::undef();
  const auto idx = static_cast<std::size_t>(i);
  if (!arr.raw) return idx < arr.n ? arr.u.items[idx] : val::undef();
  json::array_reader r(arr.text());
  std::string_view t;
  for (std::size_t k = 0; r.next(t); ++k) {
    if (k == idx) return json::to_val(t, st.mem);
  }
  return val::undef();
}

}  // namespace iotblocks::sql::detail
