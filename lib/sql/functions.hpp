// Private: the built-in function table.
#pragma once

#include "sql/eval_state.hpp"
#include "sql/val.hpp"

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace iotblocks::sql::detail {

constexpr std::uint8_t variadic = 255;

struct builtin {
  std::string_view name;
  std::uint8_t min_args;
  std::uint8_t max_args;   ///< `variadic` for any number
  bool absorbs_undefined;  ///< may return a defined value from Undefined arguments
  builtin_fn fn;
};

std::span<const builtin> math_builtins();
std::span<const builtin> string_builtins();
std::span<const builtin> collection_builtins();
std::span<const builtin> hash_builtins();
std::span<const builtin> time_builtins();
std::span<const builtin> context_builtins();

/// Every built-in, sorted by name.
std::span<const builtin> builtins();
/// Index in builtins() of `name` (case-insensitive), or -1.
int find_builtin(std::string_view name) noexcept;

/// Levenshtein distance (ASCII case-insensitive), for "did you mean".
std::size_t edit_distance(std::string_view a, std::string_view b);

}  // namespace iotblocks::sql::detail
