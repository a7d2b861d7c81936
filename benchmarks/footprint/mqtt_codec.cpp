// A bare-metal program that decodes MQTT 5 packets and encodes one back: linked
// for Cortex-M4 with --gc-sections by scripts/cross.sh, its flash (text + data)
// less that of an empty program is the codec's linked cost (docs/firmware.md).
#include <iotblocks/mqtt/decoder.hpp>
#include <iotblocks/mqtt/encoder.hpp>

#include <array>
#include <cstddef>

namespace mqtt = iotblocks::mqtt;

// Input the linker cannot see through: received bytes land here.
volatile std::byte rx[256];
volatile std::byte tx[256];

int main() {
  std::array<std::byte, sizeof rx> in;
  for (std::size_t i = 0; i < in.size(); ++i) in[i] = rx[i];
  mqtt::decoder d{mqtt::role::client};
  std::error_code ec;
  std::array<std::byte, sizeof tx> out;
  std::size_t n = 0;
  iotblocks::bytes_view rest{in.data(), in.size()};
  while (!rest.empty()) {
    rest = rest.subspan(d.put(rest, ec));
    if (!d.has_packet()) break;
    n = mqtt::encode(d.get(), mqtt::protocol_version::v5, {out.data(), out.size()}, ec);
  }
  for (std::size_t i = 0; i < n; ++i) tx[i] = out[i];
  return ec ? 1 : 0;
}
