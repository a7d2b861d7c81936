// Topic-rule documents and alarm definitions on raw bytes: never crash, every
// failure has a code, and an accepted document round-trips through to_json().
#include <iotblocks/rules/document.hpp>
#include <iotblocks/rules/metrics.hpp>

#include <cstdint>
#include <cstdlib>
#include <string_view>

using namespace iotblocks::rules;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view s{reinterpret_cast<const char*>(data), size};
  auto doc = parse_rule_document(s);
  if (!doc) {
    if (!doc.error()) std::abort();
  } else {
    const auto text = doc->to_json();
    auto again = parse_rule_document(text);
    if (!again || again->to_json() != text || again->actions.size() != doc->actions.size()) {
      std::abort();
    }
  }
  auto alarm = alarm_definition::from_json(s);
  if (!alarm && !alarm.error()) std::abort();
  if (alarm && !alarm->validate()) std::abort();
  return 0;
}
