// Topic validation on raw bytes: never crashes, and the validators agree with
// each other, with levels() and with the index.
#include <iotblocks/topic/index.hpp>
#include <iotblocks/topic/syntax.hpp>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

using namespace iotblocks::topic;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view s{reinterpret_cast<const char*>(data), size};
  const iotblocks::topic::limits lim{4096, 64};
  const auto name_ec = validate_name(s, lim);
  const auto filter_ec = validate_filter(s, lim);
  if (!name_ec && has_wildcards(s)) std::abort();
  // A valid name is a valid filter matching itself (unless it reads as $share/...).
  if (!name_ec && !is_shared(s)) {
    if (filter_ec || !matches(s, s)) std::abort();
  }
  std::string joined;
  bool first = true;
  for (std::string_view level : levels(s)) {
    if (!first) joined += '/';
    joined += level;
    first = false;
  }
  if (joined != s) std::abort();
  shared_filter sf;
  if (is_shared(s) && !parse_shared(s, sf, lim)) {
    if (std::string{"$share/"} + std::string{sf.group} + "/" + std::string{sf.filter} != s) {
      std::abort();
    }
  }
  subscription_index index;
  index.max_levels(64).max_length(4096);
  const auto added = index.subscribe(s, 1);
  if (added.ok() != !filter_ec) std::abort();
  if (added.ok()) {
    if (!index.unsubscribe(s, 1) || index.size() != 0 || index.node_count() != 1) std::abort();
  }
  return 0;
}
