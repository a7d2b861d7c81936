#include "sql/functions.hpp"

#include "sql/lexer.hpp"

#include <iotblocks/sql/functions.hpp>

#include <algorithm>
#include <array>
#include <cctype>

namespace iotblocks::sql {

namespace {
char lower(char c) noexcept { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }
}  // namespace

function_registry& function_registry::add(std::string name, std::size_t min_args,
                                          std::size_t max_args, external_function fn) {
  auto e = std::make_shared<entry>();
  e->name = name;
  e->min_args = min_args;
  e->max_args = max_args;
  e->fn = std::move(fn);
  for (auto& existing : entries_) {
    if (detail::iequals(existing->name, name)) {
      existing = std::move(e);
      return *this;
    }
  }
  entries_.push_back(std::move(e));
  return *this;
}

std::shared_ptr<const function_registry::entry> function_registry::find(
    std::string_view name) const {
  for (const auto& e : entries_) {
    if (detail::iequals(e->name, name)) return e;
  }
  return nullptr;
}

std::vector<std::string> function_registry::names() const {
  std::vector<std::string> out;
  for (const auto& e : entries_) out.push_back(e->name);
  return out;
}

std::span<const std::string_view> external_function_names() noexcept {
  static constexpr std::array<std::string_view, 6> names = {
      "aws_lambda", "get_dynamodb",     "get_registry_data",
      "get_secret", "get_thing_shadow", "machinelearning_predict"};
  return names;
}

namespace detail {

std::span<const builtin> builtins() {
  static const std::vector<builtin> all = [] {
    std::vector<builtin> v;
    for (auto part : {math_builtins(), string_builtins(), collection_builtins(), hash_builtins(),
                      time_builtins(), context_builtins()}) {
      v.insert(v.end(), part.begin(), part.end());
    }
    std::sort(v.begin(), v.end(), [](const builtin& a, const builtin& b) {
      return std::lexicographical_compare(a.name.begin(), a.name.end(), b.name.begin(),
                                          b.name.end(),
                                          [](char x, char y) { return lower(x) < lower(y); });
    });
    return v;
  }();
  return all;
}

int find_builtin(std::string_view name) noexcept {
  const auto all = builtins();
  for (std::size_t i = 0; i < all.size(); ++i) {
    if (iequals(all[i].name, name)) return static_cast<int>(i);
  }
  return -1;
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t sub = prev[j - 1] + (lower(a[i - 1]) == lower(b[j - 1]) ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

}  // namespace detail
}  // namespace iotblocks::sql
