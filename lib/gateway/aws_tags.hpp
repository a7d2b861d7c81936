// Private: tags of the AWS-shaped API's resources (tag-resource, untag-resource,
// list-tags-for-resource, and `tags` on the create calls), by resource ARN, in
// aws_tags.db. Every change is committed before it returns. AWS's limits are
// checked by check_tags(), which names the field at fault.
#pragma once

#include <iotblocks/core/result.hpp>

#include "core/json.hpp"

#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace iotblocks::gateway::aws {

struct tag {
  std::string key;
  std::string value;
};

constexpr std::size_t max_tags = 50;        ///< per resource
constexpr std::size_t max_tag_key = 128;    ///< characters (1..)
constexpr std::size_t max_tag_value = 256;  ///< characters (0..)

/// Why `tags` break AWS's rules ("tags[2].Key: …"), or nullopt: key 1..128 characters of
/// letters, digits, spaces and `_.:/=+-@`, not starting with the reserved `aws:`; value at
/// most 256 characters; no key twice; at most 50.
std::optional<std::string> check_tags(std::span<const tag> tags, std::string_view field);

/// Reads a TagList (`[{"Key": "...", "Value": "..."}]`) into `out` and checks it; the error
/// names the field ("tags[1].Value: expected a string").
std::optional<std::string> read_tag_list(const rapidjson::Value& v, std::string_view field,
                                         std::vector<tag>& out);
/// Reads `x-amz-tagging` ("k1=v1&k2=v2", percent-encoded) into `out` and checks it.
std::optional<std::string> read_tagging_header(std::string_view h, std::vector<tag>& out);

/// Distinct objects: safe. Shared objects: safe (one mutex).
class tag_store {
 public:
  static result<std::unique_ptr<tag_store>> open(const std::string& path);
  ~tag_store();
  tag_store(const tag_store&) = delete;
  tag_store& operator=(const tag_store&) = delete;

  /// Adds `tags` to `arn`, replacing the values of keys it has; refused (limit_exceeded)
  /// when the resource would have more than 50.
  result<void> set(std::string_view arn, std::span<const tag> tags);
  /// Removes the tags with these keys (absent keys are ignored).
  result<void> remove(std::string_view arn, std::span<const std::string> keys);
  /// Removes every tag of `arn` (its resource was deleted).
  result<void> remove_all(std::string_view arn);
  /// The tags of `arn`, sorted by key.
  result<std::vector<tag>> list(std::string_view arn);

 private:
  struct impl;
  explicit tag_store(std::unique_ptr<impl> p);
  std::unique_ptr<impl> p_;
};

}  // namespace iotblocks::gateway::aws
