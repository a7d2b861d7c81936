// Topic names and topic filters as MQTT defines them (3.1.1 and 5.0 section
// 4.7), and the `$share/{group}/{filter}` form. The one place where iotblocks
// decides what a valid topic is: the codec, the index, rule SQL, policies and
// the bridge all call these.
//
//   topic::validate_name("a/b/c");        // ok
//   topic::validate_filter("a/+/#");      // ok
//   topic::validate_filter("a/b#");       // error::wildcard_not_whole_level
//   auto s = topic::parse_shared("$share/g1/sensors/#");   // group "g1", filter "sensors/#"
//   for (std::string_view level : topic::levels("a//b")) { ... }   // "a", "", "b"
#pragma once

#include <iotblocks/core/export.hpp>

#include <cstddef>
#include <iterator>
#include <optional>
#include <string_view>
#include <system_error>

IOTBLOCKS_API_BEGIN

namespace iotblocks::topic {

enum class error {
  empty = 1,                 ///< zero-length topic name or filter
  too_long,                  ///< longer than limits::max_length bytes
  too_many_levels,           ///< more levels than limits::max_levels
  invalid_utf8,              ///< ill-formed UTF-8 or a U+0000
  wildcard_in_name,          ///< '+' or '#' in a topic name
  wildcard_not_whole_level,  ///< '+' or '#' sharing a level with other characters
  multi_level_not_last,      ///< '#' not the last level of a filter
  invalid_shared,            ///< malformed $share/{group}/{filter}
  invalid_options,           ///< subscription options out of range (subscription_index)
  index_full,                ///< an index reached its capacity (2^30 subscriptions or nodes)
};

const std::error_category& error_category() noexcept;
inline std::error_code make_error_code(error e) noexcept {
  return {static_cast<int>(e), error_category()};
}

/// Limits applied by validation. Defaults are MQTT's: 65,535 bytes, and a
/// generous level limit that keeps hostile topics from costing deep recursion.
struct limits {
  std::size_t max_length = 65535;
  std::size_t max_levels = 256;
};

/// Checks a topic name (PUBLISH, will topic): non-empty, UTF-8 without U+0000, no wildcards.
std::error_code validate_name(std::string_view name, const limits& l = {}) noexcept;

/// Same result as validate_name, faster on hot paths (the MQTT decoder's PUBLISH):
/// one pass over ASCII names, eight bytes at a time; other names go to validate_name.
std::error_code validate_name_fast(std::string_view name, const limits& l = {}) noexcept;

/// Checks a topic filter (SUBSCRIBE, UNSUBSCRIBE, rule FROM): wildcards only as whole
/// levels, '#' last. A `$share/...` filter is checked with parse_shared.
std::error_code validate_filter(std::string_view filter, const limits& l = {}) noexcept;

/// Same result as validate_filter, faster on hot paths (decoding SUBSCRIBE): one
/// pass over ASCII non-shared filters; other filters go to validate_filter.
std::error_code validate_filter_fast(std::string_view filter, const limits& l = {}) noexcept;

/// True when `filter` contains '+' or '#'.
bool has_wildcards(std::string_view filter) noexcept;

/// A parsed shared subscription; views into the input.
struct shared_filter {
  std::string_view group;
  std::string_view filter;
};

/// True when `filter` starts with "$share/".
inline bool is_shared(std::string_view filter) noexcept { return filter.starts_with("$share/"); }

/// Splits `$share/{group}/{filter}`: the group is non-empty without '+', '#' or '/',
/// the filter is a valid non-shared filter. error::invalid_shared otherwise.
std::error_code parse_shared(std::string_view filter, shared_filter& out,
                             const limits& l = {}) noexcept;

/// Does `filter` match topic `name`? Straight from the spec (section 4.7): a filter
/// starting with a wildcard does not match a name starting with '$'. Both inputs
/// are assumed valid. Use the index for many filters.
bool matches(std::string_view filter, std::string_view name) noexcept;

/// The levels of a topic or filter, split at '/', without allocation.
class level_range {
 public:
  class iterator {
   public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = std::string_view;
    using difference_type = std::ptrdiff_t;
    using pointer = const std::string_view*;
    using reference = std::string_view;

    iterator() = default;
    std::string_view operator*() const noexcept { return level_; }
    iterator& operator++() noexcept {
      advance();
      return *this;
    }
    iterator operator++(int) noexcept {
      auto copy = *this;
      advance();
      return copy;
    }
    friend bool operator==(const iterator& a, const iterator& b) noexcept {
      return a.done_ == b.done_ && (a.done_ || a.level_.data() == b.level_.data());
    }

   private:
    friend class level_range;
    explicit iterator(std::string_view rest) noexcept : rest_(rest), done_(false) { advance(); }
    void advance() noexcept {
      if (rest_.data() == nullptr) {
        done_ = true;
        return;
      }
      const auto slash = rest_.find('/');
      level_ = rest_.substr(0, slash);
      rest_ = slash == std::string_view::npos ? std::string_view{} : rest_.substr(slash + 1);
    }
    std::string_view rest_{};
    std::string_view level_{};
    bool done_ = true;
  };

  explicit level_range(std::string_view s) noexcept : s_(s) {}
  iterator begin() const noexcept {
    return iterator{s_.data() == nullptr ? std::string_view{"", 0} : s_};
  }
  iterator end() const noexcept { return iterator{}; }

 private:
  std::string_view s_;
};

inline level_range levels(std::string_view s) noexcept { return level_range{s}; }

}  // namespace iotblocks::topic

template <>
struct std::is_error_code_enum<iotblocks::topic::error> : std::true_type {};

IOTBLOCKS_API_END
