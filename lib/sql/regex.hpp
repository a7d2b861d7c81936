// Private: a regular-expression engine for regexp_*: Java-style syntax, run as a
// Pike VM (Thompson NFA with captures), so the cost is at most
// (input length) x (program size) steps and hostile patterns cannot backtrack
// exponentially. Each call also has a step budget. Not supported (the pattern
// is rejected, the SQL function returns Undefined): backreferences, lookaround,
// atomic groups, possessive semantics (treated as greedy), \p{...} classes.
// Case-insensitive matching folds ASCII letters only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace iotblocks::sql::detail {

struct regex_program;

struct regex_limits {
  static constexpr std::size_t max_pattern = 4096;   ///< bytes
  static constexpr std::size_t max_program = 20000;  ///< instructions after expansion
  static constexpr std::size_t max_nesting = 64;     ///< groups within groups
};

/// Compiles `pattern`; nullptr (and `error`) when invalid or unsupported.
std::shared_ptr<const regex_program> compile_regex(std::string_view pattern, std::string& error);

/// Number of capture groups (without group 0).
std::size_t group_count(const regex_program& p) noexcept;
/// Index of a named group, or -1.
int group_index(const regex_program& p, std::string_view name) noexcept;

enum class search_result { found, not_found, budget_exceeded };

/// Leftmost-first search from byte `start`. `caps` receives 2 * (groups + 1) byte
/// offsets (npos for groups that did not take part). `budget` is decremented.
search_result regex_search(const regex_program& p, std::string_view text, std::size_t start,
                           std::vector<std::size_t>& caps, std::size_t& budget);

/// A small per-evaluator cache of compiled patterns (bounded, least recently used).
class regex_cache {
 public:
  std::shared_ptr<const regex_program> get(std::string_view pattern);

 private:
  static constexpr std::size_t capacity = 64;
  std::list<std::pair<std::string, std::shared_ptr<const regex_program>>> lru_;
  std::unordered_map<std::string_view, decltype(lru_)::iterator> index_;
};

}  // namespace iotblocks::sql::detail
