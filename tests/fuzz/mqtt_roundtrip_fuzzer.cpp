// decode -> encode -> decode: every accepted packet re-encodes to exactly the
// bytes it came from (the decoder accepts canonical encodings only), through the
// view, the owning copy and JSON alike, and decodes again to the same packet.
#include "mqtt_fuzz.hpp"

#include <string>

using namespace iotblocks;
using namespace iotblocks::mqtt;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  decoder d = fuzz::make_decoder(data[0]);
  decoder again = fuzz::make_decoder(data[0]);
  bytes_view in{reinterpret_cast<const std::byte*>(data + 1), size - 1};
  std::error_code ec;
  while (!in.empty()) {
    const std::size_t n = d.put(in, ec);
    if (!d.has_packet()) break;
    const bytes_view original = in.first(n);
    const protocol_version v = *d.protocol();
    const packet_view& p = d.get();

    byte_buffer from_view;
    fuzz::check(!encode(p, v, from_view));
    fuzz::check(from_view.size() == encoded_size(p, v, ec) && !ec);
    fuzz::check(bytes_view{from_view}.size() == original.size());
    fuzz::check(std::equal(from_view.begin(), from_view.end(), original.begin()));

    const packet owned = to_owning(p);
    byte_buffer from_owned;
    fuzz::check(!encode(owned, v, from_owned) && from_owned == from_view);

    const std::string json = to_json(p, v);
#if IOTBLOCKS_EXCEPTIONS  // packet_from_json is built with exceptions only
    auto parsed = packet_from_json(json);
    fuzz::check(parsed.ok());
    fuzz::check(*parsed == owned);
    fuzz::check(to_json(*parsed, v) == json);
#endif

    // The re-encoded bytes decode to the same packet in a second decoder.
    fuzz::check(again.put(from_view, ec) == from_view.size() && again.has_packet());
    fuzz::check(to_json(again.get(), *again.protocol()) == json);
    in = in.subspan(n);
  }
  return 0;
}
