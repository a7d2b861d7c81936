// The AWS API's tag readers on arbitrary input: never crash; what they accept keeps
// AWS's limits (at most 50 tags, keys of 1..128 characters without the aws: prefix and
// given once, values of at most 256 characters); a refusal names the field.
// Input: the first byte picks the reader (even: x-amz-tagging header, odd: JSON TagList).
#include "gateway/aws_tags.hpp"

#include <cstdlib>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace {

using namespace iotblocks::gateway::aws;

void require(bool ok) {
  if (!ok) std::abort();
}

std::size_t characters(std::string_view s) {
  std::size_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80 ? 1 : 0;
  return n;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0 || size > 1 << 16) return 0;
  const std::string_view in{reinterpret_cast<const char*>(data) + 1, size - 1};
  std::vector<tag> tags;
  std::optional<std::string> why;
  if (data[0] % 2 == 0) {
    why = read_tagging_header(in, tags);
  } else {
    auto doc = iotblocks::json::parse(in);
    if (!doc) return 0;
    why = read_tag_list(*doc, "tags", tags);
  }
  if (why) {
    require(why->starts_with("tags"));
    return 0;
  }
  require(tags.size() <= max_tags);
  std::set<std::string> keys;
  for (const auto& t : tags) {
    require(characters(t.key) >= 1 && characters(t.key) <= max_tag_key);
    require(characters(t.value) <= max_tag_value);
    require(!(t.key.size() >= 4 && (t.key[0] | 0x20) == 'a' && (t.key[1] | 0x20) == 'w' &&
              (t.key[2] | 0x20) == 's' && t.key[3] == ':'));
    require(keys.insert(t.key).second);
  }
  return 0;
}
