// Math and bitwise functions. Decimal arguments are used at double precision,
// as AWS does for these functions; imaginary and infinite results are Undefined.
#include "sql/convert.hpp"
#include "sql/functions.hpp"

#include <charconv>
#include <cmath>
#include <limits>
#include <random>

namespace iotblocks::sql::detail {
namespace {

template <double (*F)(double)>
val unary(eval_state&, const val* a, std::size_t) {
  auto d = to_decimal(a[0]);
  return d ? number_val(F(*d)) : val::undef();
}

double log10_(double d) { return std::log10(d); }
double ln_(double d) { return std::log(d); }

val f_abs(eval_state&, const val* a, std::size_t) {
  if (a[0].k == kind::integer) {
    if (a[0].u.i == std::numeric_limits<std::int64_t>::min())
      return val::decimal(9223372036854775808.0);
    return val::integer(a[0].u.i < 0 ? -a[0].u.i : a[0].u.i);
  }
  auto d = to_decimal(a[0]);
  return d ? number_val(std::fabs(*d)) : val::undef();
}

template <double (*F)(double)>
val rounding(eval_state&, const val* a, std::size_t) {
  if (a[0].k == kind::integer) return a[0];
  auto d = to_decimal(a[0]);
  return d ? number_val(F(*d)) : val::undef();
}
double ceil_(double d) { return std::ceil(d); }
double floor_(double d) { return std::floor(d); }
double round_(double d) { return std::round(d); }  // half away from zero, as AWS's examples

val f_sign(eval_state&, const val* a, std::size_t) {
  if (a[0].k == kind::integer) return val::integer(a[0].u.i > 0 ? 1 : (a[0].u.i < 0 ? -1 : 0));
  auto d = to_decimal(a[0]);
  if (!d) return val::undef();
  return val::integer(*d > 0 ? 1 : (*d < 0 ? -1 : 0));
}

val f_atan2(eval_state&, const val* a, std::size_t) {
  auto y = to_decimal(a[0]);
  auto x = to_decimal(a[1]);
  return y && x ? number_val(std::atan2(*y, *x)) : val::undef();
}

val f_power(eval_state&, const val* a, std::size_t) {
  auto x = to_decimal(a[0]);
  auto y = to_decimal(a[1]);
  return x && y ? number_val(std::pow(*x, *y)) : val::undef();
}

val f_mod(eval_state& st, const val* a, std::size_t) {
  if (a[0].k == kind::boolean || a[1].k == kind::boolean) return val::undef();
  return arithmetic(st, arith::mod, a[0], a[1]);
}

val f_nanvl(eval_state&, const val* a, std::size_t) {
  const val& x = a[0];
  if (!x.defined() || x.k == kind::null || (x.k == kind::decimal && std::isnan(x.u.d))) return a[1];
  return x;
}

val f_rand(eval_state& st, const val*, std::size_t) {
  std::uniform_real_distribution<double> dist(0.0, 1.0);
  return val::decimal(dist(st.rng));
}

// trunc(x, n): cut to n decimal places (0..34) on the decimal text, so that
// trunc(2.888, 2) is 2.88 and not 2.87 from binary rounding.
val f_trunc(eval_state&, const val* a, std::size_t) {
  if (a[0].k == kind::integer && a[1].k == kind::integer) return a[0];
  auto x = to_decimal(a[0]);
  auto places_d = to_decimal(a[1]);
  if (!x || !places_d) return val::undef();
  const double pd = std::floor(*places_d);
  const int places = pd < 0 ? 0 : (pd > 34 ? 34 : static_cast<int>(pd));
  char buf[400];
  auto r = std::to_chars(buf, buf + sizeof buf, *x, std::chars_format::fixed);
  if (r.ec != std::errc{}) return val::undef();
  std::string_view t(buf, static_cast<std::size_t>(r.ptr - buf));
  const auto dot = t.find('.');
  if (dot != std::string_view::npos) {
    t = t.substr(
        0, places == 0 ? dot : std::min(t.size(), dot + 1 + static_cast<std::size_t>(places)));
  }
  double out = 0;
  auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), out);
  if (ec != std::errc{}) return val::undef();
  (void)p;
  return number_val(out);
}

template <int Op>
val bitwise(eval_state&, const val* a, std::size_t) {
  auto x = to_int_floor(a[0]);
  auto y = to_int_floor(a[1]);
  if (!x || !y) return val::undef();
  const auto ux = static_cast<std::uint64_t>(*x), uy = static_cast<std::uint64_t>(*y);
  const std::uint64_t r = Op == 0 ? (ux & uy) : Op == 1 ? (ux | uy) : (ux ^ uy);
  return val::integer(static_cast<std::int64_t>(r));
}

val f_bitnot(eval_state&, const val* a, std::size_t) {
  auto x = to_int_floor(a[0]);
  return x ? val::integer(~*x) : val::undef();
}

double sin_(double d) { return std::sin(d); }
double cos_(double d) { return std::cos(d); }
double tan_(double d) { return std::tan(d); }
double asin_(double d) { return std::asin(d); }
double acos_(double d) { return std::acos(d); }
double atan_(double d) { return std::atan(d); }
double sinh_(double d) { return std::sinh(d); }
double cosh_(double d) { return std::cosh(d); }
double tanh_(double d) { return std::tanh(d); }
double exp_(double d) { return std::exp(d); }
double sqrt_(double d) { return std::sqrt(d); }

const builtin table[] = {
    {"abs", 1, 1, false, f_abs},         {"acos", 1, 1, false, unary<acos_>},
    {"asin", 1, 1, false, unary<asin_>}, {"atan", 1, 1, false, unary<atan_>},
    {"atan2", 2, 2, false, f_atan2},     {"bitand", 2, 2, false, bitwise<0>},
    {"bitnot", 1, 1, false, f_bitnot},   {"bitor", 2, 2, false, bitwise<1>},
    {"bitxor", 2, 2, false, bitwise<2>}, {"ceil", 1, 1, false, rounding<ceil_>},
    {"cos", 1, 1, false, unary<cos_>},   {"cosh", 1, 1, false, unary<cosh_>},
    {"exp", 1, 1, false, unary<exp_>},   {"floor", 1, 1, false, rounding<floor_>},
    {"ln", 1, 1, false, unary<ln_>},     {"log", 1, 1, false, unary<log10_>},
    {"mod", 2, 2, false, f_mod},         {"nanvl", 2, 2, true, f_nanvl},
    {"power", 2, 2, false, f_power},     {"rand", 0, 0, false, f_rand},
    {"remainder", 2, 2, false, f_mod},   {"round", 1, 1, false, rounding<round_>},
    {"sign", 1, 1, false, f_sign},       {"sin", 1, 1, false, unary<sin_>},
    {"sinh", 1, 1, false, unary<sinh_>}, {"sqrt", 1, 1, false, unary<sqrt_>},
    {"tan", 1, 1, false, unary<tan_>},   {"tanh", 1, 1, false, unary<tanh_>},
    {"trunc", 2, 2, false, f_trunc},
};

}  // namespace

std::span<const builtin> math_builtins() { return table; }

}  // namespace iotblocks::sql::detail
