#include <iotblocks/core/error.hpp>
#include <iotblocks/core/utf8.hpp>
#include <iotblocks/topic/syntax.hpp>

#include <cstdint>
#include <cstring>

namespace iotblocks::topic {
namespace {

const char* message(int ev) noexcept {
  switch (static_cast<error>(ev)) {
    case error::empty: return "topic is empty";
    case error::too_long: return "topic is too long";
    case error::too_many_levels: return "topic has too many levels";
    case error::invalid_utf8: return "topic is not valid UTF-8 or contains U+0000";
    case error::wildcard_in_name: return "topic name contains a wildcard";
    case error::wildcard_not_whole_level: return "wildcard does not occupy a whole level";
    case error::multi_level_not_last: return "'#' is not the last level of the filter";
    case error::invalid_shared: return "malformed shared subscription ($share/{group}/{filter})";
    case error::invalid_options: return "subscription options out of range";
    case error::index_full: return "the topic index is full";
  }
  return "unknown iotblocks.topic error";
}

std::error_code check_common(std::string_view s, const limits& l) noexcept {
  if (s.empty()) return error::empty;
  if (s.size() > l.max_length) return error::too_long;
  if (!is_valid_utf8(s, false)) return error::invalid_utf8;
  return {};
}

}  // namespace

const std::error_category& error_category() noexcept {
  return detail::lasting_category<&message>("iotblocks.topic");
}

bool has_wildcards(std::string_view filter) noexcept {
  return filter.find_first_of("+#") != std::string_view::npos;
}

std::error_code validate_name(std::string_view name, const limits& l) noexcept {
  if (auto ec = check_common(name, l)) return ec;
  if (has_wildcards(name)) return error::wildcard_in_name;
  std::size_t level_count = 1;
  for (const char *p = name.data(), *end = p + name.size();
       (p = static_cast<const char*>(std::memchr(p, '/', static_cast<std::size_t>(end - p)))) !=
       nullptr;
       ++p) {
    if (++level_count > l.max_levels) return error::too_many_levels;
  }
  return {};
}

// For ASCII-only names without U+0000, '+' and '#' validate_name's answer
// depends only on the level count; any other name goes to validate_name.
std::error_code validate_name_fast(std::string_view name, const limits& l) noexcept {
  if (name.empty() || name.size() > l.max_length) return validate_name(name, l);
  constexpr std::uint64_t ones = 0x0101010101010101ull;
  constexpr std::uint64_t low7 = 0x7F7F7F7F7F7F7F7Full;
  constexpr std::uint64_t high = 0x8080808080808080ull;
  // Per-byte "equals zero" mask, exact for bytes below 0x80 (no borrow between bytes).
  auto zero_bytes = [](std::uint64_t v) { return ~(((v & low7) + low7) | v) & high; };
  const char* p = name.data();
  const std::size_t n = name.size();
  const bool count = n >= l.max_levels;  // shorter names cannot have too many levels
  std::uint64_t seen_high = 0, special = 0;
  std::size_t slashes = 0, i = 0;
  for (; i + 8 <= n; i += 8) {
    std::uint64_t w;
    std::memcpy(&w, p + i, 8);
    seen_high |= w;
    special |= zero_bytes(w) | zero_bytes(w ^ ('+' * ones)) | zero_bytes(w ^ ('#' * ones));
    if (count) {  // one bit per '/', summed by a multiply
      slashes += static_cast<std::size_t>(((zero_bytes(w ^ ('/' * ones)) >> 7) * ones) >> 56);
    }
  }
  for (; i < n; ++i) {
    const auto c = static_cast<unsigned char>(p[i]);
    seen_high |= c;
    special |= (c == 0 || c == '+' || c == '#') ? 1 : 0;
    slashes += c == '/' ? 1 : 0;
  }
  if ((seen_high & high) != 0 || special != 0) {
    return validate_name(name, l);
  }
  if (count && slashes > 0 && slashes + 1 > l.max_levels) return error::too_many_levels;
  return {};
}

std::error_code validate_filter(std::string_view filter, const limits& l) noexcept {
  if (is_shared(filter)) {
    shared_filter ignored;
    return parse_shared(filter, ignored, l);
  }
  if (auto ec = check_common(filter, l)) return ec;
  std::size_t level_count = 0;
  bool seen_hash = false;
  for (std::string_view level : levels(filter)) {
    if (++level_count > l.max_levels) return error::too_many_levels;
    if (seen_hash) return error::multi_level_not_last;
    if (level.size() == 1 && (level[0] == '+' || level[0] == '#')) {
      seen_hash = level[0] == '#';
      continue;
    }
    if (has_wildcards(level)) return error::wildcard_not_whole_level;
  }
  return {};
}

// Accepts only what validate_filter accepts; for an ASCII filter whose wildcards
// are whole levels with '#' last, its only possible error is the level count.
std::error_code validate_filter_fast(std::string_view filter, const limits& l) noexcept {
  if (filter.empty() || filter.size() > l.max_length || is_shared(filter)) {
    return validate_filter(filter, l);
  }
  const char* p = filter.data();
  const std::size_t n = filter.size();
  std::size_t slashes = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const auto c = static_cast<unsigned char>(p[i]);
    if (c == '/') {
      ++slashes;
    } else if (c == 0 || c >= 0x80) {
      return validate_filter(filter, l);
    } else if (c == '+' || c == '#') {
      const bool whole_level = (i == 0 || p[i - 1] == '/') && (i + 1 == n || p[i + 1] == '/');
      if (!whole_level || (c == '#' && i + 1 != n)) return validate_filter(filter, l);
    }
  }
  if (slashes + 1 > l.max_levels) return error::too_many_levels;
  return {};
}

std::error_code parse_shared(std::string_view filter, shared_filter& out,
                             const limits& l) noexcept {
  if (filter.size() > l.max_length) return error::too_long;
  if (!is_shared(filter)) return error::invalid_shared;
  const std::string_view rest = filter.substr(7);  // after "$share/"
  const auto slash = rest.find('/');
  if (slash == 0 || slash == std::string_view::npos) return error::invalid_shared;
  const std::string_view group = rest.substr(0, slash);
  const std::string_view inner = rest.substr(slash + 1);
  if (has_wildcards(group) || !is_valid_utf8(group, false)) return error::invalid_shared;
  if (inner.empty() || is_shared(inner)) return error::invalid_shared;
  if (auto ec = validate_filter(inner, l)) return ec;
  out = {group, inner};
  return {};
}

bool matches(std::string_view filter, std::string_view name) noexcept {
  if (!name.empty() && name[0] == '$' && !filter.empty() &&
      (filter[0] == '+' || filter[0] == '#')) {
    return false;
  }
  auto f = levels(filter).begin();
  auto n = levels(name).begin();
  const auto end = level_range::iterator{};
  for (; f != end; ++f) {
    if (*f == "#") return true;  // also matches the parent level ("a/#" matches "a")
    if (n == end) return false;
    if (*f != "+" && *f != *n) return false;
    ++n;
  }
  return n == end;
}

}  // namespace iotblocks::topic
