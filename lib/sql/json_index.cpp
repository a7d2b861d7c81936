#include "sql/json_index.hpp"

#include "sql/eval_state.hpp"
#include "sql/json_scan.hpp"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <utility>

namespace iotblocks::sql::detail {
namespace {

namespace od = simdjson::ondemand;

class indexer {
 public:
  /// Numbers of at most this many characters are taken as On Demand reads them.
  static constexpr std::size_t max_trusted_double_chars = 17;

  indexer(eval_state& st, const char* padded, std::string_view payload, std::size_t max_depth)
      : st_(st), paths_(st.prog->paths), padded_(padded), payload_(payload), max_depth_(max_depth) {
    st_.path_seen.assign(paths_.size(), 0);
  }

  /// `node`: the path id this value is at, -1 for the root object, -2 for none.
  bool value(od::value& v, std::int32_t node, std::size_t depth) {
    od::json_type t;
    if (v.type().get(t)) return false;
    switch (t) {
      case od::json_type::object: return object(v, node, depth + 1);
      case od::json_type::array: return array(v, depth + 1);
      case od::json_type::string: {
        // Stage 1 has checked the UTF-8 and that no control character is left
        // unescaped: only escapes remain to be checked, by unescaping. Either way
        // the value is consumed: On Demand checks what follows a value only when
        // it steps over it, not when it skips it.
        if (has_backslash(v.raw_json_token())) {
          std::string_view s;
          if (v.get_string().get(s)) return false;
          return record(v, node);
        }
        od::raw_json_string raw;
        if (v.get_raw_json_string().get(raw)) return false;
        if (node < 0) return true;
        const auto token = trimmed(v.raw_json_token());  // quotes, nothing to unescape
        if (token.size() < 2 || token.back() != '"') return record(v, node);
        return set(node, val::string(token.substr(1, token.size() - 2)));
      }
      case od::json_type::number: {
        od::number n;
        if (v.get_number().get(n)) return false;
        if (node < 0) return true;
        if (n.is_int64()) return set(node, val::integer(n.get_int64()));
        // Other numbers from their text: simdjson 3.0.1's On Demand reads some
        // doubles of more than 19 digits as 0 (123789012340123456.7890). Shorter
        // ones it reads correctly rounded, as from_chars does: not parsed twice.
        // (Zeros and subnormals keep the text path: from_chars reports underflow.)
        if (n.is_double() && std::isnormal(n.get_double())) {
          const auto text = trimmed(v.raw_json_token());
          if (text.size() <= max_trusted_double_chars)
            return set(node, json::number(n.get_double(), text));
        }
        return record(v, node);
      }
      case od::json_type::boolean: {
        bool b = false;
        if (v.get_bool().get(b)) return false;
        return node >= 0 ? set(node, val::boolean(b)) : true;
      }
      case od::json_type::null: {
        bool null = false;
        if (v.is_null().get(null) || !null) return false;
        return node >= 0 ? set(node, val::null()) : true;
      }
    }
    return false;
  }

 private:
  bool object(od::value& v, std::int32_t node, std::size_t depth) {
    if (depth + 2 >= max_depth_) return false;
    od::object o;
    if (v.get_object().get(o)) return false;
    const bool wanted =
        node == -1 || (node >= 0 && paths_[static_cast<std::size_t>(node)].first_child >= 0);
    for (auto f : o) {
      od::field field;
      std::string_view key;
      if (std::move(f).get(field) || !read_key(field, key)) return false;
      const std::int32_t child = wanted ? first_child(node, key) : -2;
      if (!value(field.value(), child, depth)) return false;
    }
    // The object has been read to its end: wanted members not met are absent.
    if (wanted) {
      for_each_child(node, [&](std::uint32_t id) {
        if (!st_.path_seen[id]) set(static_cast<std::int32_t>(id), val::undef());
        return true;
      });
    }
    return true;
  }

  bool array(od::value& v, std::size_t depth) {
    if (depth + 2 >= max_depth_) return false;
    od::array a;
    if (v.get_array().get(a)) return false;
    for (auto e : a) {
      od::value item;
      if (std::move(e).get(item) || !value(item, -2, depth)) return false;
    }
    return true;
  }

  static bool has_backslash(std::string_view token) noexcept {
    return std::memchr(token.data(), '\\', token.size()) != nullptr;
  }

  /// The key without copying it when it has no escape (the first quote ends it).
  bool read_key(od::field& field, std::string_view& key) {
    const char* k = field.key().raw();
    const char* end = padded_ + payload_.size();
    // Keys are short: one inline pass to the quote or the first backslash.
    const char* q = k;
    while (q < end && *q != '"' && *q != '\\') ++q;
    if (q < end && *q == '"') {
      key = {k, static_cast<std::size_t>(q - k)};
      return true;
    }
    return !field.unescaped_key().get(key);
  }

  /// Calls `f(id)` for each path directly under `node` (-1: the root) until it returns false.
  template <class F>
  void for_each_child(std::int32_t node, F f) const {
    if (node < 0) {
      for (const auto id : st_.prog->root_paths) {
        if (!f(id)) return;
      }
      return;
    }
    for (auto c = paths_[static_cast<std::size_t>(node)].first_child; c >= 0;
         c = paths_[static_cast<std::size_t>(c)].next_sibling) {
      if (!f(static_cast<std::uint32_t>(c))) return;
    }
  }

  /// The path under `node` named `key`, unless an earlier member had that name.
  std::int32_t first_child(std::int32_t node, std::string_view key) {
    std::int32_t found = -2;
    for_each_child(node, [&](std::uint32_t id) {
      if (paths_[id].key != key) return true;
      if (!st_.path_seen[id]) {
        st_.path_seen[id] = 1;
        found = static_cast<std::int32_t>(id);
      }
      return false;
    });
    return found;
  }

  /// A token's text in the payload, without the whitespace that follows it.
  std::string_view trimmed(std::string_view token) const noexcept {
    const auto at = static_cast<std::size_t>(token.data() - padded_);
    auto n = token.size();
    while (n > 0 && json::is_ws(token[n - 1])) --n;
    return payload_.substr(at, n);
  }

  /// A scalar's value from its text in the payload, converted as the lazy reader does.
  bool record(od::value& v, std::int32_t node) {
    if (node < 0) return true;
    return set(node, json::to_val(trimmed(v.raw_json_token()), st_.mem));
  }

  bool set(std::int32_t node, const val& v) {
    const auto id = static_cast<std::size_t>(node);
    st_.path_seen[id] = 1;
    if (!st_.path_done[id]) {
      st_.path_vals[id] = v;
      st_.path_done[id] = 1;
    }
    return true;
  }

  eval_state& st_;
  const std::vector<path_node>& paths_;
  const char* padded_;
  std::string_view payload_;
  std::size_t max_depth_;
};

}  // namespace

bool index_payload(od::parser& parser, const char* padded, std::size_t capacity,
                   std::string_view payload, std::size_t max_depth, eval_state& st) {
  od::document doc;
  if (parser.iterate(padded, payload.size(), capacity).get(doc)) return false;
  bool scalar = true;
  if (doc.is_scalar().get(scalar) || scalar) return false;
  od::value root;
  if (doc.get_value().get(root)) return false;
  indexer ix(st, padded, payload, max_depth);
  od::json_type t;
  if (root.type().get(t)) return false;
  if (!ix.value(root, t == od::json_type::object ? -1 : -2, 0)) return false;
  // Nothing may follow the root value: On Demand says so by having no location left.
  return doc.current_location().error() == simdjson::OUT_OF_BOUNDS;
}

}  // namespace iotblocks::sql::detail
