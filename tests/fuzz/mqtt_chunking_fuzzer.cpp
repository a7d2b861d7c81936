// Random chunking gives the same packets, the same error, reason code and
// offset as feeding the whole buffer at once. Byte 1 seeds the chunk sizes.
#include "mqtt_fuzz.hpp"

#include <string>
#include <vector>

using namespace iotblocks;
using namespace iotblocks::mqtt;

namespace {

struct outcome {
  std::vector<std::string> packets;
  std::error_code error;
  std::uint64_t error_offset = 0;
  std::uint64_t consumed = 0;
  bool operator==(const outcome&) const = default;
};

outcome run(std::uint8_t config, bytes_view in, std::uint32_t seed) {
  decoder d = fuzz::make_decoder(config);
  outcome out;
  std::uint32_t state = seed | 1u;
  std::error_code ec;
  while (!in.empty()) {
    std::size_t chunk = in.size();
    if (seed != 0) {  // xorshift: mostly small chunks, sometimes large ones
      state ^= state << 13, state ^= state >> 17, state ^= state << 5;
      chunk = (state & 3) == 0 ? state % 512 + 1 : state % 7 + 1;
    }
    const std::size_t n = d.put(in.first(std::min(chunk, in.size())), ec);
    if (d.has_packet()) {
      out.packets.push_back(to_json(d.get(), d.protocol().value_or(protocol_version::v5)));
    } else if (ec != error::need_more) {
      out.error = ec;
      out.error_offset = d.error_offset();
      break;
    }
    in = in.subspan(n);
  }
  out.consumed = out.error ? 0 : d.offset();
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const bytes_view in{reinterpret_cast<const std::byte*>(data + 2), size - 2};
  const outcome whole = run(data[0], in, 0);
  const outcome chunked = run(data[0], in, data[1] + 1u);
  fuzz::check(whole == chunked);
  return 0;
}
