// String functions. Arguments go through the standard string conversion; Null and
// Undefined give Undefined. Lengths and indexes count UTF-16 code units as Java does.
#include "sql/convert.hpp"
#include "sql/functions.hpp"
#include "sql/regex.hpp"
#include "sql/utf.hpp"

#include <iotblocks/core/utf8.hpp>

#include <algorithm>
#include <clocale>
#include <cmath>
#include <cstring>
#include <cwctype>
#include <string>

#include <locale.h>

namespace iotblocks::sql::detail {
namespace {

// Full Unicode case mapping through the C library's C.UTF-8 tables, without
// touching the process locale; ASCII only when that locale is missing.
locale_t utf8_locale() {
  static const locale_t loc = [] {
    locale_t l = newlocale(LC_CTYPE_MASK, "C.UTF-8", static_cast<locale_t>(nullptr));
    if (!l) l = newlocale(LC_CTYPE_MASK, "C.utf8", static_cast<locale_t>(nullptr));
    return l;
  }();
  return loc;
}

char32_t decode_cp(std::string_view s, std::size_t i, std::size_t& len) {
  const auto c = static_cast<unsigned char>(s[i]);
  len = utf8_len(c);
  if (i + len > s.size()) return len = 1, c;
  auto cont = [&](std::size_t k) {
    return static_cast<char32_t>(static_cast<unsigned char>(s[i + k]) & 0x3F);
  };
  switch (len) {
    case 1: return c;
    case 2: return (static_cast<char32_t>(c & 0x1F) << 6) | cont(1);
    case 3: return (static_cast<char32_t>(c & 0x0F) << 12) | (cont(1) << 6) | cont(2);
    default:
      return (static_cast<char32_t>(c & 0x07) << 18) | (cont(1) << 12) | (cont(2) << 6) | cont(3);
  }
}

template <bool Upper>
val f_case(eval_state& st, const val* a, std::size_t) {
  auto s = to_string(st, a[0]);
  if (!s) return val::undef();
  if (s->empty()) return val::string(std::string_view{"", 0});
  if (std::all_of(s->begin(), s->end(), [](char c) { return (c & 0x80) == 0; })) {
    char* p = st.alloc<char>(s->size());  // ASCII: C.UTF-8 maps only a-z / A-Z
    if (!p) return val::undef();
    std::transform(s->begin(), s->end(), p, [](char c) {
      if (Upper ? (c >= 'a' && c <= 'z') : (c >= 'A' && c <= 'Z')) c ^= 0x20;
      return c;
    });
    return val::string({p, s->size()});
  }
  std::string& out = st.scratch;
  out.clear();
  const locale_t loc = utf8_locale();
  for (std::size_t i = 0; i < s->size();) {
    std::size_t len = 1;
    char32_t c = decode_cp(*s, i, len);
    if (loc) {
      const wint_t w = static_cast<wint_t>(c);
      c = static_cast<char32_t>(Upper ? towupper_l(w, loc) : towlower_l(w, loc));
    } else if (Upper ? (c >= 'a' && c <= 'z') : (c >= 'A' && c <= 'Z')) {
      c = Upper ? c - 32 : c + 32;
    }
    append_utf8(out, c);
    i += len;
  }
  return val::string(st.copy(out));
}

val f_length(eval_state& st, const val* a, std::size_t) {
  auto s = to_string(st, a[0]);
  return s ? val::integer(static_cast<std::int64_t>(utf16_length(*s))) : val::undef();
}

val f_numbytes(eval_state& st, const val* a, std::size_t) {
  auto s = to_string(st, a[0]);
  return s ? val::integer(static_cast<std::int64_t>(s->size())) : val::undef();
}

val f_indexof(eval_state& st, const val* a, std::size_t) {
  auto s = to_string(st, a[0]);
  auto t = to_string(st, a[1]);
  if (!s || !t) return val::undef();
  const auto at = s->find(*t);
  if (at == std::string_view::npos) return val::integer(-1);
  return val::integer(static_cast<std::int64_t>(byte_to_utf16(*s, at)));
}

template <bool Starts>
val f_affix(eval_state& st, const val* a, std::size_t) {
  auto s = to_string(st, a[0]);
  auto t = to_string(st, a[1]);
  if (!s || !t) return val::undef();
  return val::boolean(Starts ? s->starts_with(*t) : s->ends_with(*t));
}

// Clamps a numeric index (floored) to [0, len]; nullopt when not a number.
std::optional<std::size_t> clamp_index(const val& v, std::size_t len) {
  auto d = to_decimal(v);
  if (!d) return std::nullopt;
  const double f = std::floor(*d);
  if (f <= 0) return 0;
  if (f >= static_cast<double>(len)) return len;
  return static_cast<std::size_t>(f);
}

val f_substring(eval_state& st, const val* a, std::size_t n) {
  auto s = to_string(st, a[0]);
  if (!s) return val::undef();
  const std::size_t len = utf16_length(*s);
  auto from = clamp_index(a[1], len);
  if (!from) return val::undef();
  std::size_t to = len;
  if (n == 3) {
    auto t = clamp_index(a[2], len);
    if (!t) return val::undef();
    to = *t;
  }
  if (*from >= to) return val::string("");
  const std::size_t b = utf16_to_byte(*s, *from);
  const std::size_t e = utf16_to_byte(*s, to);
  return val::string(s->substr(b, e - b));
}

template <bool Left>
val f_pad(eval_state& st, const val* a, std::size_t) {
  auto s = to_string(st, a[0]);
  auto count = clamp_index(a[1], 1000);
  if (!s || !count) return val::undef();
  char* out = st.alloc<char>(s->size() + *count);
  if (!out) return val::undef();
  if (Left) {
    std::memset(out, ' ', *count);
    std::memcpy(out + *count, s->data(), s->size());
  } else {
    std::memcpy(out, s->data(), s->size());
    std::memset(out + s->size(), ' ', *count);
  }
  return val::string({out, s->size() + *count});
}

// ltrim/rtrim remove spaces and tabs (AWS's description); trim removes every
// character up to U+0020 (Java's String.trim).
template <int Which>
val f_trim(eval_state& st, const val* a, std::size_t) {
  auto s = to_string(st, a[0]);
  if (!s) return val::undef();
  std::string_view t = *s;
  auto blank = [](char c) {
    return Which == 2 ? static_cast<unsigned char>(c) <= 0x20 : (c == ' ' || c == '\t');
  };
  if (Which != 1) {
    while (!t.empty() && blank(t.front())) t.remove_prefix(1);
  }
  if (Which != 0) {
    while (!t.empty() && blank(t.back())) t.remove_suffix(1);
  }
  return val::string(t);
}

val f_replace(eval_state& st, const val* a, std::size_t) {
  auto s = to_string(st, a[0]);
  auto from = to_string(st, a[1]);
  auto to = to_string(st, a[2]);
  if (!s || !from || !to) return val::undef();
  std::string& out = st.scratch;
  out.clear();
  if (from->empty()) {  // Java: the replacement goes around every character
    out += *to;
    for (std::size_t i = 0; i < s->size();) {
      const std::size_t l = utf8_len(static_cast<unsigned char>((*s)[i]));
      out.append(s->substr(i, l));
      out += *to;
      i += l;
    }
    return val::string(st.copy(out));
  }
  std::size_t pos = 0;
  while (true) {
    const auto at = s->find(*from, pos);
    if (at == std::string_view::npos) break;
    out.append(s->substr(pos, at - pos));
    out += *to;
    pos = at + from->size();
  }
  out.append(s->substr(pos));
  return val::string(st.copy(out));
}

val f_chr(eval_state&, const val* a, std::size_t) {
  auto i = to_int_floor(a[0]);
  if (!i || *i < 0 || *i > 127) return val::undef();
  static const char ascii[128] = {
      0,   1,   2,   3,   4,   5,   6,   7,   8,   9,   10,  11,  12,  13,  14,  15,  16,  17,  18,
      19,  20,  21,  22,  23,  24,  25,  26,  27,  28,  29,  30,  31,  32,  33,  34,  35,  36,  37,
      38,  39,  40,  41,  42,  43,  44,  45,  46,  47,  48,  49,  50,  51,  52,  53,  54,  55,  56,
      57,  58,  59,  60,  61,  62,  63,  64,  65,  66,  67,  68,  69,  70,  71,  72,  73,  74,  75,
      76,  77,  78,  79,  80,  81,  82,  83,  84,  85,  86,  87,  88,  89,  90,  91,  92,  93,  94,
      95,  96,  97,  98,  99,  100, 101, 102, 103, 104, 105, 106, 107, 108, 109, 110, 111, 112, 113,
      114, 115, 116, 117, 118, 119, 120, 121, 122, 123, 124, 125, 126, 127};
  return val::string({&ascii[*i], 1});
}

// concat(): any Array argument makes an Array of all arguments (arrays spliced);
// otherwise the string forms joined. One argument: arrays unchanged, others as String.
val f_concat(eval_state& st, const val* a, std::size_t n) {
  if (n == 0) return val::undef();
  bool any_array = false;
  for (std::size_t i = 0; i < n; ++i) any_array |= a[i].k == kind::array;
  if (any_array) {
    if (n == 1) return a[0];
    const std::size_t base = st.stack.size();
    for (std::size_t i = 0; i < n; ++i) {
      if (a[i].k == kind::array) {
        for_each_element(st, a[i], [&](const val& e) {
          st.stack.push_back(e);
          return true;
        });
      } else {
        st.stack.push_back(a[i]);
      }
    }
    const std::size_t count = st.stack.size() - base;
    val* items = st.alloc<val>(count);
    if (!items) return st.stack.resize(base), val::undef();
    std::copy(st.stack.begin() + static_cast<std::ptrdiff_t>(base), st.stack.end(), items);
    st.stack.resize(base);
    return val::array(items, count);
  }
  std::size_t total = 0;
  std::string_view parts[8];
  std::string_view* ps = n <= 8 ? parts : st.alloc<std::string_view>(n);
  if (!ps) return val::undef();
  for (std::size_t i = 0; i < n; ++i) {
    auto s = to_string(st, a[i]);
    if (!s) return val::undef();
    ps[i] = *s;
    total += s->size();
  }
  char* out = st.alloc<char>(total);
  if (!out) return val::undef();
  std::size_t k = 0;
  for (std::size_t i = 0; i < n; ++i) {
    std::memcpy(out + k, ps[i].data(), ps[i].size());
    k += ps[i].size();
  }
  return val::string({out, total});
}

// --- regular expressions ------------------------------------------------------------
struct regex_args {
  std::string_view subject;
  std::shared_ptr<const regex_program> program;
};

std::optional<regex_args> regex_prepare(eval_state& st, const val& s, const val& p) {
  auto subject = to_string(st, s);
  auto pattern = to_string(st, p);
  if (!subject || !pattern) return std::nullopt;
  auto prog = st.regexes->get(*pattern);
  if (!prog) return std::nullopt;
  return regex_args{*subject, std::move(prog)};
}

val f_regexp_matches(eval_state& st, const val* a, std::size_t) {
  auto r = regex_prepare(st, a[0], a[1]);
  if (!r) return val::undef();
  std::vector<std::size_t> caps;
  std::size_t budget = st.opts.max_regex_steps();
  switch (regex_search(*r->program, r->subject, 0, caps, budget)) {
    case search_result::found: return val::boolean(true);
    case search_result::not_found: return val::boolean(false);
    default: return val::undef();
  }
}

val f_regexp_substr(eval_state& st, const val* a, std::size_t) {
  auto r = regex_prepare(st, a[0], a[1]);
  if (!r) return val::undef();
  std::vector<std::size_t> caps;
  std::size_t budget = st.opts.max_regex_steps();
  if (regex_search(*r->program, r->subject, 0, caps, budget) != search_result::found) {
    return val::undef();
  }
  return val::string(r->subject.substr(caps[0], caps[1] - caps[0]));
}

// Appends Java's replacement text ($n, ${name}, \x); false when it is malformed.
bool append_replacement(std::string& out, std::string_view rep, std::string_view subject,
                        const std::vector<std::size_t>& caps, const regex_program& p) {
  const std::size_t groups = group_count(p);
  for (std::size_t i = 0; i < rep.size(); ++i) {
    const char c = rep[i];
    if (c == '\\') {
      if (++i >= rep.size()) return false;
      out += rep[i];
      continue;
    }
    if (c != '$') {
      out += c;
      continue;
    }
    if (++i >= rep.size()) return false;
    std::size_t g = 0;
    if (rep[i] == '{') {
      const auto close = rep.find('}', i);
      if (close == std::string_view::npos) return false;
      const int idx = group_index(p, rep.substr(i + 1, close - i - 1));
      if (idx < 0) return false;
      g = static_cast<std::size_t>(idx);
      i = close;
    } else {
      if (rep[i] < '0' || rep[i] > '9') return false;
      g = static_cast<std::size_t>(rep[i] - '0');
      if (g > groups) return false;
      while (i + 1 < rep.size() && rep[i + 1] >= '0' && rep[i + 1] <= '9') {
        const std::size_t next = g * 10 + static_cast<std::size_t>(rep[i + 1] - '0');
        if (next > groups) break;
        g = next;
        ++i;
      }
    }
    const std::size_t b = caps[2 * g], e = caps[2 * g + 1];
    if (b != static_cast<std::size_t>(-1) && e != static_cast<std::size_t>(-1)) {
      out.append(subject.substr(b, e - b));
    }
  }
  return true;
}

val f_regexp_replace(eval_state& st, const val* a, std::size_t) {
  auto r = regex_prepare(st, a[0], a[1]);
  auto rep = to_string(st, a[2]);
  if (!r || !rep) return val::undef();
  std::string out;
  std::vector<std::size_t> caps;
  std::size_t budget = st.opts.max_regex_steps();
  std::size_t pos = 0, copied = 0;
  while (pos <= r->subject.size()) {
    const auto res = regex_search(*r->program, r->subject, pos, caps, budget);
    if (res == search_result::budget_exceeded) return val::undef();
    if (res == search_result::not_found) break;
    out.append(r->subject.substr(copied, caps[0] - copied));
    if (!append_replacement(out, *rep, r->subject, caps, *r->program)) return val::undef();
    copied = caps[1];
    if (caps[1] == caps[0]) {  // empty match: step over one character
      if (caps[1] >= r->subject.size()) break;
      pos = caps[1] + utf8_len(static_cast<unsigned char>(r->subject[caps[1]]));
    } else {
      pos = caps[1];
    }
  }
  out.append(r->subject.substr(copied));
  return val::string(st.copy(out));
}

const builtin table[] = {
    {"chr", 1, 1, false, f_chr},
    {"concat", 0, variadic, false, f_concat},
    {"endswith", 2, 2, false, f_affix<false>},
    {"indexof", 2, 2, false, f_indexof},
    {"length", 1, 1, false, f_length},
    {"lower", 1, 1, false, f_case<false>},
    {"lpad", 2, 2, false, f_pad<true>},
    {"ltrim", 1, 1, false, f_trim<0>},
    {"numbytes", 1, 1, false, f_numbytes},
    {"regexp_matches", 2, 2, false, f_regexp_matches},
    {"regexp_replace", 3, 3, false, f_regexp_replace},
    {"regexp_substr", 2, 2, false, f_regexp_substr},
    {"replace", 3, 3, false, f_replace},
    {"rpad", 2, 2, false, f_pad<false>},
    {"rtrim", 1, 1, false, f_trim<1>},
    {"startswith", 2, 2, false, f_affix<true>},
    {"substring", 2, 3, false, f_substring},
    {"trim", 1, 1, false, f_trim<2>},
    {"upper", 1, 1, false, f_case<true>},
};

}  // namespace

std::span<const builtin> string_builtins() { return table; }

}  // namespace iotblocks::sql::detail
