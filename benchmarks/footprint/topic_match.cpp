// A bare-metal program that validates a topic filter and a topic name and matches
// one against the other (iotblocks::topic syntax): linked for Cortex-M4 with
// --gc-sections by scripts/cross.sh (docs/firmware.md, "Linked").
#include <iotblocks/topic/syntax.hpp>

#include <cstddef>
#include <string_view>

namespace topic = iotblocks::topic;

// Input the linker cannot see through: a filter and a name land here.
volatile char rx_filter[64];
volatile char rx_name[64];
volatile int verdict;

int main() {
  char filter[sizeof rx_filter], name[sizeof rx_name];
  for (std::size_t i = 0; i < sizeof filter; ++i) filter[i] = rx_filter[i];
  for (std::size_t i = 0; i < sizeof name; ++i) name[i] = rx_name[i];
  const std::string_view f{filter, std::char_traits<char>::length(filter)};
  const std::string_view n{name, std::char_traits<char>::length(name)};
  const int v = topic::validate_filter(f) || topic::validate_name(n) ? 2
                : topic::matches(f, n)                               ? 1
                                                                     : 0;
  verdict = v;
  return v;
}
