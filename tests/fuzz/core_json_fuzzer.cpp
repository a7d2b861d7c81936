// core JSON helpers: parse must never crash; whatever parses must write and
// re-parse to the same text. Also hex and base64 decoders round-trip.
#include "core/json.hpp"

#include <iotblocks/core/bytes.hpp>

#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text{reinterpret_cast<const char*>(data), size};
  if (auto doc = iotblocks::json::parse(text, {.max_depth = 32})) {
    const std::string once = iotblocks::json::write(*doc);
    auto again = iotblocks::json::parse(once, {.max_depth = 32});
    if (!again || iotblocks::json::write(*again) != once) std::abort();
  }
  if (auto bin = iotblocks::from_base64(text)) {
    auto back = iotblocks::from_base64(iotblocks::to_base64(*bin));
    if (!back || *back != *bin) std::abort();
  }
  if (auto bin = iotblocks::from_hex(text)) {
    if (iotblocks::to_hex(*bin).size() != text.size()) std::abort();
  }
  return 0;
}
