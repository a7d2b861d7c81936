// The UpdateEventConfigurations body reader on arbitrary JSON: never crash; what it accepts
// names only AWS's event types; a refusal names the field at fault.
#include "core/json.hpp"
#include "gateway/event_config.hpp"

#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > 1 << 16) return 0;
  auto doc = iotblocks::json::parse({reinterpret_cast<const char*>(data), size});
  if (!doc) return 0;
  std::map<std::string, bool, std::less<>> out;
  const auto why = iotblocks::gateway::read_event_configurations(*doc, out);
  if (why) {
    if (why->empty() || why->size() > 400) std::abort();
    return 0;
  }
  for (const auto& [type, on] : out) {
    if (!iotblocks::gateway::known_event_type(type)) std::abort();
  }
  return 0;
}
