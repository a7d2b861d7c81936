// Private: iteration templates of convert.hpp.
#pragma once

#include "sql/json_scan.hpp"

namespace iotblocks::sql::detail {

template <class F>
bool for_each_element(eval_state& st, const val& arr, F&& f) {
  if (arr.k != kind::array) return false;
  if (!arr.raw) {
    for (std::size_t i = 0; i < arr.n; ++i) {
      if (!f(arr.u.items[i])) return false;
    }
    return true;
  }
  json::array_reader r(arr.text());
  std::string_view t;
  while (r.next(t)) {
    if (!f(json::to_val(t, st.mem))) return false;
  }
  return !r.malformed();
}

template <class F>
bool for_each_member(eval_state& st, const val& obj, F&& f) {
  if (obj.k != kind::object) return false;
  if (!obj.raw) {
    for (std::size_t i = 0; i < obj.n; ++i) {
      if (!f(obj.u.members[i].key, obj.u.members[i].v)) return false;
    }
    return true;
  }
  json::object_reader r(obj.text());
  std::string_view k, t;
  while (r.next(k, t)) {
    std::string_view key;
    if (!json::unescape(k, st.mem, key)) return false;
    if (!f(key, json::to_val(t, st.mem))) return false;
  }
  return !r.malformed();
}

}  // namespace iotblocks::sql::detail
