#include "sql/json_out.hpp"

#include "sql/convert.hpp"
#include "sql/json_scan.hpp"

#include <iotblocks/core/bytes.hpp>

#include <algorithm>
#include <charconv>

namespace iotblocks::sql::detail {

void write_string(std::string& out, std::string_view s) {
  out.push_back('"');
  const auto plain = [](char ch) {
    const auto c = static_cast<unsigned char>(ch);
    return c >= 0x20 && c != '"' && c != '\\';
  };
  std::size_t run = 0;
  if (std::all_of(s.begin(), s.end(), plain)) {  // the common case: one copy
    out.append(s);
    out.push_back('"');
    return;
  }
  for (std::size_t i = 0; i < s.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(s.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        out += "\\u00";
        out.push_back(hex_digit(c >> 4u));
        out.push_back(hex_digit(c));
    }
  }
  out.append(s.data() + run, s.size() - run);
  out.push_back('"');
}

bool write_json(eval_state& st, std::string& out, const val& v, std::size_t depth) {
  if (depth > st.value_depth_limit()) return false;
  switch (v.k) {
    case kind::undefined: return true;
    case kind::null: out += "null"; return true;
    case kind::boolean: out += v.u.b ? "true" : "false"; return true;
    case kind::integer: {
      char buf[24];
      auto r = std::to_chars(buf, buf + sizeof buf, v.u.i);
      out.append(buf, static_cast<std::size_t>(r.ptr - buf));
      return true;
    }
    case kind::decimal: {
      if (v.n) {
        out.append(v.p, v.n);
      } else {
        char buf[32];
        out += format_double(v.u.d, buf);
      }
      return true;
    }
    case kind::string: write_string(out, v.text()); return true;
    case kind::binary: return false;
    case kind::array:
    case kind::object:
      if (v.raw) {
        json::append_compact(out, v.text());
        return true;
      }
      break;
  }
  bool ok = true;
  bool first = true;
  if (v.k == kind::array) {
    out.push_back('[');
    for (std::size_t i = 0; i < v.n && ok; ++i) {
      const val& e = v.u.items[i];
      if (!e.defined()) continue;
      if (!first) out.push_back(',');
      first = false;
      ok = write_json(st, out, e, depth + 1);
    }
    out.push_back(']');
  } else {
    out.push_back('{');
    for (std::size_t i = 0; i < v.n && ok; ++i) {
      const member& m = v.u.members[i];
      if (!m.v.defined()) continue;
      if (!first) out.push_back(',');
      first = false;
      write_string(out, m.key);
      out.push_back(':');
      ok = write_json(st, out, m.v, depth + 1);
    }
    out.push_back('}');
  }
  return ok;
}

}  // namespace iotblocks::sql::detail
