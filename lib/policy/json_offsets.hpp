// Private: where each value of a parsed JSON document starts in its text.
// core::json::parse reports positions for syntax errors only; a policy error
// ("Effect must be Allow or Deny") needs the position of a well-formed value.
// The text is walked once in step with the DOM (same member order, duplicates
// included), recording the offset of every value and member name.
#pragma once

#include <rapidjson/document.h>

#include <cstddef>
#include <string_view>
#include <unordered_map>

namespace iotblocks::policy::detail {

class json_offsets {
 public:
  /// Precondition: `root` was parsed from `text` (valid JSON).
  json_offsets(const rapidjson::Value& root, std::string_view text);

  /// Byte offset of `v` (a value or a member name) in the text; 0 if unknown.
  std::size_t of(const rapidjson::Value& v) const noexcept;

 private:
  void walk(const rapidjson::Value& v);
  void skip_ws() noexcept;
  void skip_string() noexcept;
  std::string_view text_;
  std::size_t at_ = 0;
  std::unordered_map<const rapidjson::Value*, std::size_t> offsets_;
};

}  // namespace iotblocks::policy::detail
