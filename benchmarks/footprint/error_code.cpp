// A bare-metal program that only sets and tests a std::error_code of the MQTT
// category: what any user of <system_error> pays (std::system_category, newlib's
// strerror, RTTI of libstdc++'s categories) plus the category's messages. Linked
// like mqtt_codec.cpp; the difference between the two is the codec's own code.
#include <iotblocks/mqtt/error.hpp>

#include <cstddef>
#include <system_error>

volatile std::byte rx[1];

int main() {
  std::error_code ec;
  if (rx[0] != std::byte{0}) ec = iotblocks::mqtt::error::truncated;
  return ec ? 1 : 0;
}
