// Retained messages by topic name. A trie of name levels, so a new subscription's
// filter visits only the branches it can match (`+` one level, `#` a subtree)
// instead of scanning every retained message. The value type is the caller's: a
// broker stores payload, QoS and properties; a shadow service its documents.
//
//   topic::retained_store<std::string> store;
//   store.set("sensors/probe1/temperature", "21.5").value();
//   store.for_each("sensors/+/temperature",
//                  [](std::string_view topic, const std::string& payload) { ... });
//   store.erase("sensors/probe1/temperature");   // an empty retained PUBLISH clears
#pragma once

#include <iotblocks/core/export.hpp>
#include <iotblocks/core/result.hpp>
#include <iotblocks/topic/syntax.hpp>

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

IOTBLOCKS_API_BEGIN

namespace iotblocks::topic {

/// Values of type T keyed by topic name, enumerated by topic filter.
/// Distinct objects: safe. Shared objects: unsafe (callers serialise updates and reads).
template <class T>
class retained_store {
 public:
  /// Limits applied to names and filters (default: syntax.hpp's limits).
  retained_store& max_levels(std::size_t n) {
    limits_.max_levels = n;
    return *this;
  }
  retained_store& max_length(std::size_t n) {
    limits_.max_length = n;
    return *this;
  }

  /// Stores `value` under `topic`, replacing what was there.
  /// @return true when the topic had no value before. Errors: validate_name's.
  result<bool> set(std::string_view topic, T value) {
    if (auto ec = validate_name(topic, limits_)) return {ec, "invalid topic name"};
    node* n = &root_;
    for (std::string_view level : levels(topic)) {
      auto it = n->children.find(level);
      if (it == n->children.end()) {
        it = n->children.emplace(std::string{level}, std::make_unique<node>()).first;
      }
      n = it->second.get();
    }
    const bool added = !n->value.has_value();
    n->value = std::move(value);
    size_ += added ? 1 : 0;
    return added;
  }

  /// Removes the value of `topic`. @return false when there was none.
  bool erase(std::string_view topic) { return erase_at(root_, topic, 0); }

  /// The value of `topic`, or nullptr. Valid until the next update.
  const T* find(std::string_view topic) const {
    const node* n = &root_;
    for (std::string_view level : levels(topic)) {
      auto it = n->children.find(level);
      if (it == n->children.end()) return nullptr;
      n = it->second.get();
    }
    return n->value ? &*n->value : nullptr;
  }

  /// Calls `visit(std::string_view topic, const T& value)` for every value whose
  /// topic matches `filter` (a `$share/{group}/` prefix is ignored). Topics starting
  /// with '$' are not matched by a leading wildcard (MQTT-4.7.2-1).
  /// Errors: validate_filter's.
  template <class Visit>
  result<void> for_each(std::string_view filter, Visit&& visit) const {
    if (auto ec = validate_filter(filter, limits_)) return {ec, "invalid topic filter"};
    shared_filter sf{{}, filter};
    if (is_shared(filter)) (void)parse_shared(filter, sf, limits_);
    std::vector<std::string_view> f;
    for (std::string_view level : levels(sf.filter)) f.push_back(level);
    std::string path;
    walk(root_, f, 0, path, visit);
    return {};
  }

  /// Number of stored values.
  std::size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }
  void clear() {
    root_.children.clear();
    root_.value.reset();
    size_ = 0;
  }

 private:
  struct string_hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept {
      return std::hash<std::string_view>{}(s);
    }
  };
  struct node {
    std::unordered_map<std::string, std::unique_ptr<node>, string_hash, std::equal_to<>> children;
    std::optional<T> value;
  };

  bool erase_at(node& n, std::string_view rest, std::size_t depth) {
    if (depth > limits_.max_levels) return false;
    const auto slash = rest.find('/');
    const std::string_view level = rest.substr(0, slash);
    auto it = n.children.find(level);
    if (it == n.children.end()) return false;
    node& child = *it->second;
    bool erased;
    if (slash == std::string_view::npos) {
      erased = child.value.has_value();
      child.value.reset();
    } else {
      erased = erase_at(child, rest.substr(slash + 1), depth + 1);
    }
    if (erased && !child.value && child.children.empty()) n.children.erase(it);
    if (erased && depth == 0) --size_;
    return erased;
  }

  static void append(std::string& path, std::size_t depth, std::string_view level) {
    if (depth > 0) path += '/';
    path += level;
  }

  template <class Visit>
  static void visit_all(const node& n, std::size_t depth, std::string& path, Visit& visit) {
    if (n.value) visit(std::string_view{path}, *n.value);
    for (const auto& [level, child] : n.children) {
      if (depth == 0 && !level.empty() && level[0] == '$') continue;  // MQTT-4.7.2-1
      const std::size_t mark = path.size();
      append(path, depth, level);
      visit_all(*child, depth + 1, path, visit);
      path.resize(mark);
    }
  }

  template <class Visit>
  static void walk(const node& n, const std::vector<std::string_view>& f, std::size_t i,
                   std::string& path, Visit& visit) {
    if (i == f.size()) {
      if (n.value) visit(std::string_view{path}, *n.value);
      return;
    }
    if (f[i] == "#") {
      // "a/#" also matches "a" itself; a leading '#' skips '$' topics and the root.
      if (i > 0 && n.value) visit(std::string_view{path}, *n.value);
      for (const auto& [level, child] : n.children) {
        if (i == 0 && !level.empty() && level[0] == '$') continue;
        const std::size_t mark = path.size();
        append(path, i, level);
        visit_all(*child, i + 1, path, visit);
        path.resize(mark);
      }
      return;
    }
    if (f[i] == "+") {
      for (const auto& [level, child] : n.children) {
        if (i == 0 && !level.empty() && level[0] == '$') continue;
        const std::size_t mark = path.size();
        append(path, i, level);
        walk(*child, f, i + 1, path, visit);
        path.resize(mark);
      }
      return;
    }
    auto it = n.children.find(f[i]);
    if (it == n.children.end()) return;
    const std::size_t mark = path.size();
    append(path, i, f[i]);
    walk(*it->second, f, i + 1, path, visit);
    path.resize(mark);
  }

  node root_;
  std::size_t size_ = 0;
  limits limits_;
};

}  // namespace iotblocks::topic

IOTBLOCKS_API_END
